import { app } from '@azure/functions';
import { arxosEquipmentByBuildingRoute } from '../../../shared/compat/arxos/routes.js';
import { entitiesOfBuilding } from '../../../shared/compat/arxos/service.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** Seed 002 client's `api.getEquipmentByBuilding(id)` ("Initial Sync (Download)"): the building's live equipment. */
export const arxosEquipmentByBuilding = endpoint(
  arxosEquipmentByBuildingRoute,
  async ({ app: fieldsync, tenant, principal, params }) => ({
    status: 200,
    body: await entitiesOfBuilding(fieldsync, tenant, principal, 'equipment', params.id),
  }),
);

app.http(
  arxosEquipmentByBuildingRoute.name,
  httpOptions(arxosEquipmentByBuildingRoute, arxosEquipmentByBuilding),
);
