import { app } from '@azure/functions';
import { arxosGetBuildingRoute } from '../../../shared/compat/arxos/routes.js';
import { getBuilding } from '../../../shared/compat/arxos/service.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** Seed 002 client's `api.getBuilding(id)` ("Initial Sync (Download)"): the building as its cache stores it. */
export const arxosGetBuilding = endpoint(
  arxosGetBuildingRoute,
  async ({ app: fieldsync, tenant, principal, params }) => ({
    status: 200,
    body: await getBuilding(fieldsync, tenant, principal, params.id),
  }),
);

app.http(arxosGetBuildingRoute.name, httpOptions(arxosGetBuildingRoute, arxosGetBuilding));
