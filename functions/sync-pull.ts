import { app } from '@azure/functions';
import { pullRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { pullPage } from '../shared/usecases/pull.js';

export const pullSync = endpoint(pullRoute, async ({ app: fieldsync, tenant, principal, query, log }) => ({
  status: 200,
  body: await pullPage({ ...fieldsync, log }, tenant, principal, query),
}));

app.http(pullRoute.name, httpOptions(pullRoute, pullSync));
