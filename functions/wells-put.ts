import { app } from '@azure/functions';
import { putWellRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';

export const putWell = endpoint(putWellRoute, async ({ app: fieldsync, tenant, params, body }) => {
  const { well, created } = await fieldsync.referenceData.upsertWell(tenant, params.id, body);
  return { status: created ? 201 : 200, body: well };
});

app.http(putWellRoute.name, httpOptions(putWellRoute, putWell));
