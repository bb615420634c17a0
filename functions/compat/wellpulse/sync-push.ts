import { app } from '@azure/functions';
import { renderError } from '../../../shared/compat/wellpulse/map.js';
import { wellpulsePushRoute } from '../../../shared/compat/wellpulse/routes.js';
import { checkTenantSubdomain, wellpulsePush } from '../../../shared/compat/wellpulse/sync.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** POST /api/compat/wellpulse/sync/push — seed document 001 "Push Data". */
export const wellpulsePushHandler = endpoint(
  wellpulsePushRoute,
  async ({ app: fieldsync, tenant, principal, body, request }) => {
    checkTenantSubdomain(request, tenant);
    return { status: 200, body: await wellpulsePush(fieldsync, tenant, principal, body) };
  },
  { renderError },
);

app.http(wellpulsePushRoute.name, httpOptions(wellpulsePushRoute, wellpulsePushHandler));
