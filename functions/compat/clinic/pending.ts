import { app } from '@azure/functions';
import { renderClinicError, toPendingItem } from '../../../shared/compat/clinic/mapping.js';
import { clinicPendingRoute } from '../../../shared/compat/clinic/routes.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';
import { listUnsettledRecordEvents } from '../../../shared/usecases/sync-status.js';

/** Document 004 §2: the caller's (device's) items not synced yet, from the event log. */
export const clinicPending = endpoint(
  clinicPendingRoute,
  async ({ app: fieldsync, tenant, principal, query }) => {
    const rows = await listUnsettledRecordEvents(fieldsync, tenant, principal, {
      deviceId: query.deviceId,
      limit: 1000,
    });
    return { status: 200, body: rows.map(toPendingItem) };
  },
  { renderError: renderClinicError },
);

app.http(clinicPendingRoute.name, httpOptions(clinicPendingRoute, clinicPending));
