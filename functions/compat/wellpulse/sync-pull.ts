import { app } from '@azure/functions';
import { renderError } from '../../../shared/compat/wellpulse/map.js';
import { wellpulsePullRoute } from '../../../shared/compat/wellpulse/routes.js';
import { checkTenantSubdomain, wellpulsePull } from '../../../shared/compat/wellpulse/sync.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** GET /api/compat/wellpulse/sync/pull — seed document 001 "Pull Data". */
export const wellpulsePullHandler = endpoint(
  wellpulsePullRoute,
  async ({ app: fieldsync, log, tenant, principal, query, request }) => {
    checkTenantSubdomain(request, tenant);
    return { status: 200, body: await wellpulsePull(fieldsync, log, tenant, principal, query) };
  },
  { renderError },
);

app.http(wellpulsePullRoute.name, httpOptions(wellpulsePullRoute, wellpulsePullHandler));
