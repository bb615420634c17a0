import { app } from '@azure/functions';
import { resolveConflictRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { resolveConflict } from '../shared/usecases/conflicts.js';

export const resolveConflictHandler = endpoint(
  resolveConflictRoute,
  async ({ app: fieldsync, tenant, principal, params, body }) => ({
    status: 200,
    body: await resolveConflict(fieldsync, tenant, principal, params.id, body),
  }),
);

app.http(resolveConflictRoute.name, httpOptions(resolveConflictRoute, resolveConflictHandler));
