import { app } from '@azure/functions';
import { retryRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { retryFailedEvents } from '../shared/usecases/retry.js';

export const retrySync = endpoint(retryRoute, async ({ app: fieldsync, tenant, principal, body }) => ({
  status: 202,
  body: await retryFailedEvents(fieldsync, tenant, principal, body),
}));

app.http(retryRoute.name, httpOptions(retryRoute, retrySync));
