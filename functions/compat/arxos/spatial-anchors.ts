import { app } from '@azure/functions';
import { arxosSpatialAnchorsRoute } from '../../../shared/compat/arxos/routes.js';
import { entitiesOfBuilding } from '../../../shared/compat/arxos/service.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** Seed 002 client's `api.getSpatialAnchors(id)` ("Initial Sync (Download)"): the building's spatial anchors. */
export const arxosSpatialAnchors = endpoint(
  arxosSpatialAnchorsRoute,
  async ({ app: fieldsync, tenant, principal, params }) => ({
    status: 200,
    body: await entitiesOfBuilding(fieldsync, tenant, principal, 'anchor', params.id),
  }),
);

app.http(arxosSpatialAnchorsRoute.name, httpOptions(arxosSpatialAnchorsRoute, arxosSpatialAnchors));
