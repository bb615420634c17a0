import { app } from '@azure/functions';
import { deleteScopeMemberRoute } from '../shared/contracts/scopes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { revokeScope } from '../shared/usecases/scopes.js';

export const deleteScopeMember = endpoint(
  deleteScopeMemberRoute,
  async ({ app: fieldsync, tenant, params }) => {
    await revokeScope(fieldsync, tenant, params.scope, params.userId);
    return { status: 204 };
  },
);

app.http(deleteScopeMemberRoute.name, httpOptions(deleteScopeMemberRoute, deleteScopeMember));
