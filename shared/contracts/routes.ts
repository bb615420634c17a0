import { MANAGER_ROLES } from '../auth/principal.js';
import { problemSchema } from './common.js';
import { healthSchema } from './health.js';
import {
  equipmentInputSchema,
  equipmentSchema,
  idParamsSchema,
  wellInputSchema,
  wellSchema,
} from './reference-data.js';
import { defineRoute, type RouteContract } from './route.js';

const problem = (description: string) => ({
  description,
  schema: problemSchema,
  contentType: 'application/problem+json',
});
const authProblems = {
  400: problem('The request is invalid; `errors` lists the JSON paths at fault'),
  401: problem('No token, or the token is invalid, expired or for another issuer or audience'),
  403: problem('The role may not call this route, or the tenant is not provisioned or not yours'),
  429: problem('Too many requests; retry after the Retry-After header'),
  503: problem('A dependency is unavailable; retry after the Retry-After header'),
};

export const healthRoute = defineRoute({
  name: 'health',
  method: 'GET',
  route: 'health',
  summary: 'Liveness, with a check of each dependency',
  tags: ['ops'],
  access: 'public',
  responses: {
    200: { description: 'Every dependency answers', schema: healthSchema },
    503: { description: 'A dependency does not answer; `checks` names it', schema: healthSchema },
  },
});

export const openApiRoute = defineRoute({
  name: 'openapi',
  method: 'GET',
  route: 'openapi.json',
  summary: 'This OpenAPI 3.1 document',
  tags: ['ops'],
  access: 'public',
  responses: { 200: { description: 'The OpenAPI document' } },
});

export const putWellRoute = defineRoute({
  name: 'putWell',
  method: 'PUT',
  route: 'v1/wells/{id}',
  summary: 'Create or replace a well (upsert by id)',
  tags: ['reference data'],
  access: MANAGER_ROLES,
  params: idParamsSchema,
  body: wellInputSchema,
  responses: {
    200: { description: 'The well was replaced', schema: wellSchema },
    201: { description: 'The well was created', schema: wellSchema },
    ...authProblems,
    409: problem('Another well already has this API number'),
    413: problem('The body is larger than 4 MiB'),
    415: problem('The body is not JSON'),
  },
});

export const putEquipmentRoute = defineRoute({
  name: 'putEquipment',
  method: 'PUT',
  route: 'v1/equipment/{id}',
  summary: 'Create or replace equipment (upsert by id; restores soft-deleted equipment)',
  tags: ['reference data'],
  access: MANAGER_ROLES,
  params: idParamsSchema,
  body: equipmentInputSchema,
  responses: {
    200: { description: 'The equipment was replaced; its version was bumped', schema: equipmentSchema },
    201: { description: 'The equipment was created', schema: equipmentSchema },
    ...authProblems,
    413: problem('The body is larger than 4 MiB'),
    415: problem('The body is not JSON'),
  },
});

export const deleteEquipmentRoute = defineRoute({
  name: 'deleteEquipment',
  method: 'DELETE',
  route: 'v1/equipment/{id}',
  summary: 'Soft-delete equipment; events naming it are then rejected with EQUIPMENT_DELETED',
  tags: ['reference data'],
  access: MANAGER_ROLES,
  params: idParamsSchema,
  responses: {
    204: { description: 'Deleted (or already deleted)' },
    ...authProblems,
    404: problem('No equipment with this id'),
  },
});

/** Every HTTP route, in the order the OpenAPI document lists them. */
export const ALL_ROUTES: readonly RouteContract[] = [
  healthRoute,
  openApiRoute,
  putWellRoute,
  putEquipmentRoute,
  deleteEquipmentRoute,
] as readonly RouteContract[];
