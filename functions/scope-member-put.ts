import { app } from '@azure/functions';
import { putScopeMemberRoute } from '../shared/contracts/scopes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { grantScope } from '../shared/usecases/scopes.js';

export const putScopeMember = endpoint(
  putScopeMemberRoute,
  async ({ app: fieldsync, tenant, principal, params }) => {
    const { grant, created } = await grantScope(fieldsync, tenant, params.scope, params.userId, principal);
    return { status: created ? 201 : 200, body: grant };
  },
);

app.http(putScopeMemberRoute.name, httpOptions(putScopeMemberRoute, putScopeMember));
