import { app } from '@azure/functions';
import { putEquipmentRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';

export const putEquipment = endpoint(putEquipmentRoute, async ({ app: fieldsync, tenant, params, body }) => {
  const { equipment, created } = await fieldsync.referenceData.upsertEquipment(tenant, params.id, body);
  return { status: created ? 201 : 200, body: equipment };
});

app.http(putEquipmentRoute.name, httpOptions(putEquipmentRoute, putEquipment));
