import { app } from '@azure/functions';
import { deleteEquipmentRoute } from '../shared/contracts/routes.js';
import { NotFoundError } from '../shared/errors.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';

export const deleteEquipment = endpoint(deleteEquipmentRoute, async ({ app: fieldsync, tenant, params }) => {
  const outcome = await fieldsync.referenceData.deleteEquipment(tenant, params.id);
  if (outcome === 'not-found') throw new NotFoundError(`no equipment with id ${params.id}`);
  return { status: 204 };
});

app.http(deleteEquipmentRoute.name, httpOptions(deleteEquipmentRoute, deleteEquipment));
