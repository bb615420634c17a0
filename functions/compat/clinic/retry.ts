import { app } from '@azure/functions';
import { renderClinicError } from '../../../shared/compat/clinic/mapping.js';
import { clinicRetryRoute } from '../../../shared/compat/clinic/routes.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';
import { retryFailedEvents } from '../../../shared/usecases/retry.js';

/** Document 004 §5: retry failed and retryable items through the retry use case. */
export const clinicRetry = endpoint(
  clinicRetryRoute,
  async ({ app: fieldsync, tenant, principal, query }) => {
    const { retried, eventIds } = await retryFailedEvents(fieldsync, tenant, principal, {
      deviceId: query.deviceId,
    });
    return {
      status: 202,
      body: { retried, ids: eventIds, message: `${retried} operation(s) queued for retry` },
    };
  },
  { renderError: renderClinicError },
);

app.http(clinicRetryRoute.name, httpOptions(clinicRetryRoute, clinicRetry));
