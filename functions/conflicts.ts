import { app } from '@azure/functions';
import { listConflictsRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';

export const listConflicts = endpoint(listConflictsRoute, async ({ app: fieldsync, tenant, query }) => {
  const conflicts = await fieldsync.conflicts.list(tenant, query);
  return {
    status: 200,
    body: { conflicts, nextAfter: conflicts.length === query.limit ? (conflicts.at(-1)?.id ?? null) : null },
  };
});

app.http(listConflictsRoute.name, httpOptions(listConflictsRoute, listConflicts));
