import { z } from 'zod';
import { FIELD_ROLES } from '../../auth/principal.js';
import { isoDateTimeSchema, problemSchema } from '../../contracts/common.js';
import { recordIdSchema } from '../../contracts/events.js';
import { defineRoute, problem } from '../../contracts/route.js';
import { ENTITY_TYPES, LAST_SYNC_PATTERN, OPERATIONS } from './mapping.js';

/*
 * Seed 002 ("Offline Sync Architecture for ArxOS Mobile"), served under /api/compat/arxos: its "API Endpoints
 * for Sync" and the equipment calls of its client code ("Background Sync"). Errors are problem+json (the
 * document names no error body; its client reads the status and, on 409, `serverVersion`).
 */

const TAGS = ['compat', 'arxos'];
const BASE = 'compat/arxos/api/v1';

const epochMillis = z.number().int().describe('Epoch milliseconds, as the document’s cache stores times');
const nullableNumber = z.number().nullable();

/** Equipment as the document's client caches it (its `equipment` table), as the server answers it. */
export const arxosEquipmentSchema = z
  .object({
    id: z.string(),
    building_id: z.string().nullable(),
    name: z.string().nullable(),
    type: z.string().nullable(),
    status: z.string().nullable(),
    location_x: nullableNumber,
    location_y: nullableNumber,
    location_z: nullableNumber,
    metadata: z.record(z.string(), z.unknown()).nullable(),
    version: z.number().int().describe('The server version: send it back as `version` with an update'),
    created_at: epochMillis.optional(),
    updated_at: epochMillis,
  })
  .describe('Equipment in the columns of the document’s `equipment` table');

/** A spatial anchor as the document's client caches it (its `spatial_anchors` table). */
export const arxosAnchorSchema = z
  .object({
    id: z.string(),
    building_id: z.string().nullable(),
    equipment_id: z.string().nullable(),
    position_x: nullableNumber.describe('Metres'),
    position_y: nullableNumber,
    position_z: nullableNumber,
    confidence: nullableNumber.describe('0–1'),
    anchor_type: z.string().nullable(),
    version: z.number().int(),
    created_at: epochMillis,
    updated_at: epochMillis,
  })
  .describe('A spatial anchor in the columns of the document’s `spatial_anchors` table');

/** A building as the document's client caches it (its `buildings` table). */
export const arxosBuildingSchema = z
  .object({
    id: z.string(),
    name: z.string().nullable(),
    address: z.string().nullable(),
    status: z.string().nullable(),
    version: z.number().int(),
    created_at: epochMillis,
    updated_at: epochMillis,
  })
  .describe('A building in the columns of the document’s `buildings` table');

/** A spatial anchor or a building as the document's cache holds them (a batch conflict's server_version). */
const arxosEntitySchema = z
  .record(z.string(), z.unknown())
  .describe('The entity in the document’s columns (equipment, spatial_anchors or buildings table)');

/** The body of an equipment create or update: the client's cached row (docs/compat/arxos.md for every field). */
export const arxosEquipmentWriteSchema = z
  .looseObject({
    id: recordIdSchema.optional().describe('Create: the client-made id (a new UUID when absent)'),
    building_id: z.string().optional(),
    name: z.string().optional(),
    type: z.string().optional(),
    status: z.string().nullable().optional(),
    location_x: nullableNumber.optional(),
    location_y: nullableNumber.optional(),
    location_z: nullableNumber.optional(),
    metadata: z.record(z.string(), z.unknown()).nullable().optional(),
    version: z.number().int().min(0).optional().describe('Update: the version the edit is based on'),
    updated_at: epochMillis.optional().describe('When the client made the edit (its LWW time)'),
    force: z.boolean().optional().describe('Update: apply over the server version (after a 409)'),
  })
  .describe('Cache columns (created_at, synced_at, sync_status) are accepted and ignored');

const arxosOperationSchema = z.object({
  entity_type: z.enum(ENTITY_TYPES),
  entity_id: recordIdSchema,
  operation: z.enum(OPERATIONS),
  payload: z
    .union([
      z.record(z.string(), z.unknown()),
      z.string().describe('JSON text of the object (SQLite, the client’s queue store, returns it as TEXT)'),
    ])
    .default({}),
  local_time: isoDateTimeSchema.optional(),
});

/** JSON text is read as the value it holds; anything else (and text that is not JSON) is left as it is. */
const fromJsonText = (value: unknown): unknown => {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
};

/**
 * One sync_queue item of a batch, checked on its own by the handler (one bad operation never blocks the rest).
 * The payload is an object, or JSON text of one: the document's client keeps its queue in SQLite, whose
 * `payload TEXT` column comes back as a string unless the client parses it (docs/compat/arxos.md, "Batch").
 */
export const arxosOperationCheck = arxosOperationSchema.extend({
  payload: z.preprocess(
    fromJsonText,
    z.record(z.string(), z.unknown(), { error: 'must be a JSON object, or JSON text of one' }).default({}),
  ),
});

/** Operations per batch at most (the push use case's events per batch). */
export const ARXOS_MAX_OPERATIONS = 1000;

export const arxosBatchBodySchema = z.object({
  operations: z.array(z.unknown()).min(1, 'must hold at least one operation'),
});

const arxosConflictSchema = z.object({
  entity_type: z.enum(ENTITY_TYPES),
  entity_id: z.string(),
  operation: z.enum(OPERATIONS),
  fields: z.array(z.string()).describe('The document’s names of the fields in conflict'),
  resolution: z
    .enum(['server_wins', 'merged', 'pending_review'])
    .describe('server_wins / merged: decided by the tenant’s strategy; pending_review: held for a manager'),
  local_version: z.record(z.string(), z.unknown()).describe('The payload as sent'),
  server_version: arxosEntitySchema.nullable().describe('The server’s entity now (null: not readable)'),
});

const arxosErrorSchema = z.object({
  index: z.number().int().describe('The operation’s position in `operations`'),
  entity_type: z.string().nullable(),
  entity_id: z.string().nullable(),
  operation: z.string().nullable(),
  code: z.string().describe('e.g. INVALID_PAYLOAD, SCOPE_NOT_GRANTED, RECORD_NOT_FOUND (docs/outcomes.md)'),
  error: z.string(),
  retryable: z.boolean(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const arxosBatchResponseSchema = z.object({
  success: z.array(z.string()).describe('entity_id of each operation applied (or already applied)'),
  conflicts: z.array(arxosConflictSchema),
  errors: z.array(arxosErrorSchema),
});

export const arxosUpdatesResponseSchema = z.object({
  updates: z.array(z.object({ equipment: arxosEquipmentSchema, updated_at: isoDateTimeSchema })),
  deletes: z
    .array(z.string())
    .describe('Equipment deleted, or moved to another building, since `since`: drop it from the cache'),
  last_sync: z
    .string()
    .regex(LAST_SYNC_PATTERN)
    .max(4096)
    .describe(
      'Opaque, and not a time (the document’s server declares `time.Time`; a time cannot resume without ' +
        'skipping changes committed out of order): the signed v1.1 pull cursor for this building’s ' +
        'equipment, `<base64url>.<base64url>`. Store it as it is (in the client’s `synced_at` INTEGER ' +
        'column SQLite keeps it as TEXT, as it is never a number) and send it back as `since`, URL-encoded ' +
        'or not (its characters are URL-safe); no change is ever missed that way',
    ),
});

const idParams = z.object({ id: recordIdSchema });

const conflict409 = {
  description:
    'The edit is based on a stale version and lost to a newer one (or is held for review): nothing of it that ' +
    'conflicts was taken; `serverVersion` is the server’s record now. Send again with `force: true` to override',
  schema: problemSchema.extend({
    serverVersion: arxosEquipmentSchema.nullable(),
    conflict: z.object({
      fields: z.array(z.string()),
      resolution: z.enum(['server_wins', 'merged', 'pending_review']),
    }),
  }),
  contentType: 'application/problem+json',
};

export const arxosSyncBatchRoute = defineRoute({
  name: 'arxosSyncBatch',
  method: 'POST',
  route: `${BASE}/mobile/sync/batch`,
  summary:
    'ArxOS (seed 002) batch sync: create/update/delete of equipment, anchors and buildings, answered once ' +
    'processed (operations not processed within 25 s are in no list: send them again)',
  tags: TAGS,
  access: FIELD_ROLES,
  body: arxosBatchBodySchema,
  checksItemsItself: true,
  documentedBody: z.object({ operations: z.array(arxosOperationSchema).min(1).max(1000) }),
  headers: z.object({
    'X-Device-Id': z
      .string()
      .optional()
      .describe('The device (optional; default one per user, `arxos.<userId>`)'),
  }),
  responses: {
    200: { description: 'What became of each operation', schema: arxosBatchResponseSchema },
    413: problem('More than 1000 operations, or a body over 4 MiB'),
  },
});

export const arxosEquipmentUpdatesRoute = defineRoute({
  name: 'arxosEquipmentUpdates',
  method: 'GET',
  route: `${BASE}/mobile/equipment/building/{id}/updates`,
  summary:
    'ArxOS (seed 002) incremental updates of one building’s equipment: send back `last_sync` as `since`',
  tags: TAGS,
  access: FIELD_ROLES,
  params: idParams,
  query: z.object({
    since: z
      .string()
      .max(4096)
      .optional()
      .describe(
        'A `last_sync` this server gave, as it was given (URL-encoded or not; nothing is missed); or, for a ' +
          'first sync, absent, empty or 0 (the whole building), a Unix time (seconds, with or without a ' +
          'fraction, or milliseconds from 10^11) or an RFC 3339 time (a `+` offset sent unencoded is read as ' +
          'such): the units updated after it (deletions before it cannot be told)',
      ),
  }),
  headers: z.object({ 'X-Device-Id': z.string().optional().describe('As for the batch') }),
  responses: {
    200: { description: 'Updates and deletions', schema: arxosUpdatesResponseSchema },
    403: problem('The building is not granted to this OPERATOR (code SCOPE_NOT_GRANTED), or role/tenant'),
    410: problem('`since` is older than the change history kept (code RESYNC_REQUIRED): send 0'),
  },
});

export const arxosCreateEquipmentRoute = defineRoute({
  name: 'arxosCreateEquipment',
  method: 'POST',
  route: `${BASE}/equipment`,
  summary: 'ArxOS (seed 002) create equipment (the client’s api.createEquipment), answered once applied',
  tags: TAGS,
  access: FIELD_ROLES,
  body: arxosEquipmentWriteSchema,
  headers: z.object({ 'X-Device-Id': z.string().optional().describe('As for the batch') }),
  responses: {
    201: { description: 'Created', schema: arxosEquipmentSchema },
    403: problem('The building is not granted to this OPERATOR (code SCOPE_NOT_GRANTED), or role/tenant'),
    409: conflict409,
  },
});

export const arxosUpdateEquipmentRoute = defineRoute({
  name: 'arxosUpdateEquipment',
  method: 'PUT',
  route: `${BASE}/equipment/{id}`,
  summary: 'ArxOS (seed 002) update equipment; 409 with `serverVersion` on a stale version; `force: true`',
  tags: TAGS,
  access: FIELD_ROLES,
  params: idParams,
  body: arxosEquipmentWriteSchema,
  headers: z.object({ 'X-Device-Id': z.string().optional().describe('As for the batch') }),
  responses: {
    200: { description: 'Updated (or nothing to change): the record now', schema: arxosEquipmentSchema },
    403: problem('The building is not granted to this OPERATOR (code SCOPE_NOT_GRANTED), or role/tenant'),
    404: problem('No such equipment (or deleted)'),
    409: conflict409,
  },
});

export const arxosDeleteEquipmentRoute = defineRoute({
  name: 'arxosDeleteEquipment',
  method: 'DELETE',
  route: `${BASE}/equipment/{id}`,
  summary: 'ArxOS (seed 002) delete equipment (soft: it arrives in other devices’ `deletes`)',
  tags: TAGS,
  access: FIELD_ROLES,
  params: idParams,
  headers: z.object({ 'X-Device-Id': z.string().optional().describe('As for the batch') }),
  responses: {
    204: { description: 'Deleted (or already deleted)' },
    403: problem('The building is not granted to this OPERATOR (code SCOPE_NOT_GRANTED), or role/tenant'),
    404: problem('No such equipment'),
    409: {
      ...conflict409,
      description:
        'Another device changed the equipment while the delete was in flight and the strategy kept the change',
    },
  },
});

const buildingRead = {
  403: problem('The building is not granted to this OPERATOR (code SCOPE_NOT_GRANTED), or role/tenant'),
  404: problem('No such building (code RECORD_NOT_FOUND), or a tenant without the facilities pack'),
};

export const arxosGetBuildingRoute = defineRoute({
  name: 'arxosGetBuilding',
  method: 'GET',
  rateClass: 'pull',
  route: `${BASE}/buildings/{id}`,
  summary: 'ArxOS (seed 002) one building (the client’s api.getBuilding, first step of an initial sync)',
  tags: TAGS,
  access: FIELD_ROLES,
  params: idParams,
  responses: {
    200: { description: 'The building', schema: arxosBuildingSchema },
    ...buildingRead,
  },
});

export const arxosEquipmentByBuildingRoute = defineRoute({
  name: 'arxosEquipmentByBuilding',
  method: 'GET',
  rateClass: 'pull',
  route: `${BASE}/equipment/building/{id}`,
  summary:
    'ArxOS (seed 002) a building’s equipment, every live unit (the client’s api.getEquipmentByBuilding)',
  tags: TAGS,
  access: FIELD_ROLES,
  params: idParams,
  responses: {
    200: { description: 'The equipment, by id', schema: z.array(arxosEquipmentSchema) },
    ...buildingRead,
  },
});

export const arxosSpatialAnchorsRoute = defineRoute({
  name: 'arxosSpatialAnchors',
  method: 'GET',
  rateClass: 'pull',
  route: `${BASE}/spatial-anchors/building/{id}`,
  summary: 'ArxOS (seed 002) a building’s spatial anchors (the client’s api.getSpatialAnchors)',
  tags: TAGS,
  access: FIELD_ROLES,
  params: idParams,
  responses: {
    200: { description: 'The anchors, by id', schema: z.array(arxosAnchorSchema) },
    ...buildingRead,
  },
});

/** The arxos routes, in the order the OpenAPI document lists them. */
export const ARXOS_ROUTES = [
  arxosSyncBatchRoute,
  arxosEquipmentUpdatesRoute,
  arxosCreateEquipmentRoute,
  arxosUpdateEquipmentRoute,
  arxosDeleteEquipmentRoute,
  arxosGetBuildingRoute,
  arxosEquipmentByBuildingRoute,
  arxosSpatialAnchorsRoute,
] as const;
