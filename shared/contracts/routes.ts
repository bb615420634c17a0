import { FIELDOPS_ROUTES } from '../compat/fieldops/routes.js';
import { z } from 'zod';
import { WELLOS_ROUTES } from '../compat/wellos/routes.js';
import { ARXOS_ROUTES } from '../compat/arxos/routes.js';
import { FIELD_ROLES, MANAGER_ROLES } from '../auth/principal.js';
import { healthSchema } from './health.js';
import {
  equipmentInputSchema,
  equipmentSchema,
  idParamsSchema,
  wellInputSchema,
  wellSchema,
} from './reference-data.js';
import {
  conflictListSchema,
  conflictParamsSchema,
  conflictSchema,
  listConflictsQuerySchema,
  resolveBodySchema,
  strategiesSchema,
} from './conflicts.js';
import { eventDocSchema, pushBodySchema } from './events.js';
import { WELLPULSE_ROUTES } from '../compat/wellpulse/routes.js';
import { listDevicesRoute, syncStatsRoute } from './manager.js';
import { deviceActivityRoute, getConflictRoute } from './activity.js';
import { getPhotoRoute, photoUploadUrlsRoute } from './photos.js';
import { pullQuerySchema, pullResponseSchema } from './pull.js';
import { deleteScopeMemberRoute, listGrantsRoute, putScopeMemberRoute } from './scopes.js';
import {
  collectionDefinitionSchema,
  collectionParamsSchema,
  collectionSchema,
  tenantSchemaSchema,
} from './schema.js';
import { authProblems, defineRoute, problem, retryAfterHeader, type RouteContract } from './route.js';
import { CLINIC_ROUTES } from '../compat/clinic/routes.js';
import {
  batchOutcomeSchema,
  batchParamsSchema,
  deviceQuerySchema,
  deviceStatusSchema,
  pushAcceptedSchema,
  retryAcceptedSchema,
  retryBodySchema,
} from './sync.js';

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
  responses: {
    200: {
      description: 'The OpenAPI document',
      schema: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }),
      headers: {
        'Cache-Control': {
          description: 'May be cached for 5 minutes',
          required: true,
          schema: { type: 'string', pattern: 'max-age=\\d+' },
        },
      },
    },
  },
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

export const pushBatchRoute = defineRoute({
  name: 'pushBatch',
  method: 'POST',
  route: 'v1/sync/batches',
  summary:
    'Push a batch of events recorded offline (1..1000). Each event is checked on its own: invalid ones are ' +
    'REJECTED in the answer, valid ones go on. Optional Idempotency-Key header; optional `Prefer: wait=N` (N ≤ 30).',
  tags: ['sync'],
  access: FIELD_ROLES,
  body: pushBodySchema,
  checksItemsItself: true,
  documentedBody: pushBodySchema.extend({ events: z.array(eventDocSchema).min(1).max(1000) }),
  headers: z.object({
    'Idempotency-Key': z
      .string()
      .optional()
      .describe(
        'Your key for this push (per user): a repeat with the same body answers the first answer again, ' +
          'with Idempotent-Replayed: true; with another body 422',
      ),
    Prefer: z
      .string()
      .optional()
      .describe(
        '`wait=N`: wait up to N seconds (at most 30) for the outcome, answered 200 when ready; other ' +
          'preferences are ignored (RFC 7240)',
      ),
  }),
  responses: {
    200: {
      description:
        'With `Prefer: wait=N`: the batch is COMPLETED (processed in time, or nothing to process: every ' +
        'event rejected or a duplicate); the batch outcome',
      schema: batchOutcomeSchema,
      headers: {
        'Preference-Applied': {
          description: 'The wait that was applied (RFC 7240)',
          required: true,
          schema: { type: 'string', pattern: '^wait=\\d+$' },
        },
      },
    },
    202: {
      description:
        'Accepted: durably recorded and enqueued (also the replayed first answer of a repeated Idempotency-Key)',
      schema: pushAcceptedSchema,
      headers: {
        Location: {
          description: 'The batch status URL (statusUrl)',
          required: true,
          schema: { type: 'string', pattern: '^/api/v1/sync/batches/' },
        },
        'Idempotent-Replayed': {
          description: '`true` when this is the first answer to this Idempotency-Key, replayed',
          schema: { type: 'string', enum: ['true'] },
        },
      },
    },
    ...authProblems,
    409: {
      ...problem('A request with this Idempotency-Key is still in flight; retry after Retry-After'),
      headers: { 'Retry-After': retryAfterHeader() },
    },
    413: problem('More than 1000 events, or a body over 4 MiB'),
    415: problem('The body is not JSON'),
    422: problem('This Idempotency-Key was used with a different body'),
  },
});

export const getBatchRoute = defineRoute({
  name: 'getBatch',
  method: 'GET',
  route: 'v1/sync/batches/{batchId}',
  summary: "A batch's outcome: every event's status (own batches, or any for a manager)",
  tags: ['sync'],
  access: FIELD_ROLES,
  params: batchParamsSchema,
  responses: {
    200: { description: 'The batch outcome', schema: batchOutcomeSchema },
    ...authProblems,
    404: problem('No such batch (or not yours)'),
  },
});

export const retryRoute = defineRoute({
  name: 'retryFailed',
  method: 'POST',
  route: 'v1/sync/retry',
  summary:
    'Re-enqueue FAILED and retryable REJECTED events (own events, or any for a manager), optionally of one device or given ids',
  tags: ['sync'],
  access: FIELD_ROLES,
  body: retryBodySchema,
  responses: {
    202: { description: 'The events are PENDING again and enqueued', schema: retryAcceptedSchema },
    ...authProblems,
  },
});

export const syncStatusRoute = defineRoute({
  name: 'syncStatus',
  method: 'GET',
  route: 'v1/sync/status',
  summary: "One device's sync status (own devices, or any for a manager)",
  tags: ['sync'],
  access: FIELD_ROLES,
  query: deviceQuerySchema,
  responses: {
    200: { description: 'The device status', schema: deviceStatusSchema },
    ...authProblems,
    404: problem('No such device'),
  },
});

export const listConflictsRoute = defineRoute({
  name: 'listConflicts',
  method: 'GET',
  route: 'v1/conflicts',
  summary:
    'Conflicts by review state, oldest first, paged with `after`: OPEN (the inbox: held by MANUAL, or settled by a ' +
    'strategy and not reviewed), RESOLVED (a manager set the values) or ACKNOWLEDGED (a manager kept the result)',
  tags: ['conflicts'],
  access: MANAGER_ROLES,
  query: listConflictsQuerySchema,
  responses: { 200: { description: 'A page of conflicts', schema: conflictListSchema }, ...authProblems },
});

export const resolveConflictRoute = defineRoute({
  name: 'resolveConflict',
  method: 'POST',
  route: 'v1/conflicts/{id}/resolve',
  summary:
    'Handle an OPEN conflict: ACKNOWLEDGED keeps a strategy’s result; SERVER_WINS, CLIENT_WINS, or MERGED with a ' +
    'value for each conflicting field, set the values (also overriding a strategy’s result)',
  tags: ['conflicts'],
  access: MANAGER_ROLES,
  params: conflictParamsSchema,
  body: resolveBodySchema,
  responses: {
    200: { description: 'The conflict as handled (RESOLVED or ACKNOWLEDGED)', schema: conflictSchema },
    ...authProblems,
    404: problem('No such conflict'),
    409: problem(
      'CONFLICT_RESOLVED: a manager already handled it; CONFLICT_HELD: ACKNOWLEDGED on a conflict MANUAL holds',
    ),
  },
});

export const getStrategiesRoute = defineRoute({
  name: 'getConflictStrategies',
  method: 'GET',
  route: 'v1/settings/conflict-strategies',
  summary: "The tenant's conflict strategy per event type (absent: LWW)",
  tags: ['conflicts'],
  access: MANAGER_ROLES,
  responses: { 200: { description: 'Strategies', schema: strategiesSchema }, ...authProblems },
});

export const putStrategiesRoute = defineRoute({
  name: 'putConflictStrategies',
  method: 'PUT',
  route: 'v1/settings/conflict-strategies',
  summary: 'Set the conflict strategy of some event types (LWW, SERVER_WINS, CLIENT_WINS, MANUAL)',
  tags: ['conflicts'],
  access: MANAGER_ROLES,
  body: strategiesSchema,
  responses: {
    200: { description: 'The strategies now in force', schema: strategiesSchema },
    ...authProblems,
  },
});

export const pullRoute = defineRoute({
  name: 'pull',
  method: 'GET',
  route: 'v1/sync/pull',
  summary:
    'Download reference data and changes. Without a cursor: a paged snapshot (ACTIVE wells, their equipment, ' +
    'users, recent production, then the records of the chosen collections and scopes); then every change since, ' +
    'including deletions (a record that leaves the chosen scopes comes as a deletion; scopes or collections added ' +
    'come as a snapshot). Follow nextCursor until hasMore is false.',
  tags: ['sync'],
  access: FIELD_ROLES,
  query: pullQuerySchema,
  responses: {
    200: { description: 'A page', schema: pullResponseSchema },
    ...authProblems,
    410: problem(
      'The cursor is older than the change history kept (code RESYNC_REQUIRED): pull again without one',
    ),
  },
});

export const getSchemaRoute = defineRoute({
  name: 'getSchema',
  method: 'GET',
  route: 'v1/schema',
  summary:
    "What this tenant syncs: its schema version, packs and collections (JSON Schema of each collection's " +
    'record fields, scope field, conflict strategy; builtin ones are the v1 entities)',
  tags: ['schema'],
  access: FIELD_ROLES,
  responses: {
    200: { description: "The tenant's sync schema", schema: tenantSchemaSchema },
    ...authProblems,
  },
});

export const putCollectionRoute = defineRoute({
  name: 'putCollection',
  method: 'PUT',
  route: 'v1/schema/collections/{name}',
  summary:
    'Create a collection, or change it backward compatibly (docs/collections.md): a change bumps the ' +
    "collection's version and the tenant's schema version; the same definition again changes nothing",
  tags: ['schema'],
  access: ['ADMIN'],
  params: collectionParamsSchema,
  body: collectionDefinitionSchema,
  responses: {
    200: { description: 'The collection was changed, or was already so', schema: collectionSchema },
    201: { description: 'The collection was created', schema: collectionSchema },
    ...authProblems,
    409: problem(
      'The change is not backward compatible (code SCHEMA_INCOMPATIBLE, `errors` lists every reason by JSON ' +
        'path), or the collection is builtin (code BUILTIN_COLLECTION)',
    ),
    413: problem('The body is larger than 4 MiB'),
    415: problem('The body is not JSON'),
  },
});

/** Every HTTP route, in the order the OpenAPI document lists them. */
export const ALL_ROUTES: readonly RouteContract[] = [
  healthRoute,
  openApiRoute,
  pushBatchRoute,
  getBatchRoute,
  pullRoute,
  getSchemaRoute,
  putCollectionRoute,
  photoUploadUrlsRoute,
  getPhotoRoute,
  retryRoute,
  syncStatusRoute,
  listConflictsRoute,
  resolveConflictRoute,
  getStrategiesRoute,
  putStrategiesRoute,
  listDevicesRoute,
  syncStatsRoute,
  // The managers' console's reads (shared/contracts/activity.ts).
  deviceActivityRoute,
  getConflictRoute,
  putWellRoute,
  putEquipmentRoute,
  deleteEquipmentRoute,
  listGrantsRoute,
  putScopeMemberRoute,
  deleteScopeMemberRoute,
  ...WELLOS_ROUTES,
  ...WELLPULSE_ROUTES,
  ...CLINIC_ROUTES,
  ...FIELDOPS_ROUTES,
  ...ARXOS_ROUTES,
] as readonly RouteContract[];
