import { app } from '@azure/functions';
import { listGrantsRoute } from '../shared/contracts/scopes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { listGrants } from '../shared/usecases/scopes.js';

export const listScopeGrants = endpoint(listGrantsRoute, async ({ app: fieldsync, tenant, query }) => ({
  status: 200,
  body: await listGrants(fieldsync, tenant, query.userId),
}));

app.http(listGrantsRoute.name, httpOptions(listGrantsRoute, listScopeGrants));
