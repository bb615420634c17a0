import { app } from '@azure/functions';
import { renderError } from '../../../shared/compat/wellpulse/map.js';
import { wellpulseStatusRoute } from '../../../shared/compat/wellpulse/routes.js';
import { checkTenantSubdomain, wellpulseStatus } from '../../../shared/compat/wellpulse/sync.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** GET /api/compat/wellpulse/sync/status — seed document 001 "Sync Status". */
export const wellpulseStatusHandler = endpoint(
  wellpulseStatusRoute,
  async ({ app: fieldsync, tenant, principal, query, request }) => {
    checkTenantSubdomain(request, tenant);
    return { status: 200, body: await wellpulseStatus(fieldsync, tenant, principal, query.deviceId) };
  },
  { renderError },
);

app.http(wellpulseStatusRoute.name, httpOptions(wellpulseStatusRoute, wellpulseStatusHandler));
