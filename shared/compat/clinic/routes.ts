/**
 * Route contracts of the clinic dialect (source document 004), served under `compat/clinic` (SPEC "The seed
 * APIs, served unchanged"): the document's paths, request and response shapes, and its error body
 * (mapping.ts `renderClinicError`). docs/compat/clinic.md.
 */
import { z } from 'zod';
import { FIELD_ROLES, MANAGER_ROLES } from '../../auth/principal.js';
import { isoDateTimeSchema } from '../../contracts/common.js';
import { deviceIdSchema } from '../../contracts/events.js';
import { MAX_STATS_RANGE_DAYS } from '../../contracts/manager.js';
import { defineRoute, type ResponseContract } from '../../contracts/route.js';
import { OPERATIONS, RESOLUTION_OPTIONS } from './mapping.js';

const TAGS = ['compat', 'clinic'];
const BASE = 'compat/clinic/api/v1/sync';

/** The dialect's error body (mapping.ts renderClinicError). */
export const clinicErrorSchema = z.object({
  status: z.literal('ERROR'),
  statusCode: z.number().int(),
  error: z.string(),
  message: z.string(),
  code: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  requestId: z.string().optional(),
});
const ERROR_BODY = { schema: clinicErrorSchema, contentType: 'application/json' };
const error = (description: string): ResponseContract => ({
  description,
  schema: clinicErrorSchema,
  contentType: 'application/json',
});

/** An item id as the document's paths carry it: the UUID it answered, or the client's own id. */
const itemIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1–128 letters, digits, ".", "_", ":" or "-"');
const itemParamsSchema = z.object({ id: itemIdSchema });

/** Document §1 "Queue Operation": the request its client sends (plus an optional `id` of the client's item). */
export const queueBodySchema = z.object({
  id: itemIdSchema
    .optional()
    .describe(
      "The client's own id of the item (optional; the document's client does not send it). A UUID is the event id; another id maps to a stable UUID. Without it the id is derived from the request's content, so a re-sent request is the same item",
    ),
  userId: z
    .string()
    .max(256)
    .optional()
    .describe('Sent by the document’s client; the user is always the token’s (not checked against it)'),
  deviceId: deviceIdSchema,
  operation: z.enum(OPERATIONS),
  resourceType: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]{0,62}$/, 'must name a collection, e.g. encounter or patient')
    .describe('A collection of the tenant, singular or plural: encounter → encounters, patient → patients'),
  resourceId: z
    .string()
    .min(1)
    .max(128)
    .optional()
    .describe('The record id; required for UPDATE and DELETE; for CREATE default data.id, else the item id'),
  data: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      "The record's fields (CREATE) or the changed fields (UPDATE), with the collection's field names",
    ),
  createdAtClient: isoDateTimeSchema.describe(
    'When the device recorded the operation (the event’s occurredAt)',
  ),
  version: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('The version of the record the change was made on (required for UPDATE and DELETE)'),
});

const itemStatusSchema = z.enum(['PENDING', 'SYNCED', 'FAILED', 'CONFLICT']);

export const queueAnswerSchema = z.object({
  id: z.string().describe('The item id: the client’s `id` when it sent one, else the event id (a UUID)'),
  status: itemStatusSchema,
  message: z.string(),
  eventId: z.uuid().describe('The v1 event id of the item (GET /v1/sync/batches shows its outcome)'),
});

export const pendingItemSchema = z.object({
  id: z.string(),
  operation: z.enum(OPERATIONS),
  resourceType: z.string(),
  resourceId: z.string(),
  data: z.record(z.string(), z.unknown()),
  status: itemStatusSchema,
  retryCount: z.number().int(),
  createdAtClient: isoDateTimeSchema,
  version: z.number().int().nullable(),
  error: z.object({ code: z.string(), message: z.string(), retryable: z.boolean() }).optional(),
});

const conflictDetailSchema = z.object({
  conflictId: z.string().nullable(),
  fields: z.array(z.string()),
  resolution: z.enum(['CLIENT_WINS', 'SERVER_WINS', 'MERGED', 'PENDING_REVIEW']),
  serverValue: z.record(z.string(), z.unknown()),
  clientValue: z.record(z.string(), z.unknown()),
  serverVersion: z.number().int().nullable(),
});

export const processSyncedSchema = z.object({
  status: z.literal('SYNCED'),
  message: z.string(),
  result: z.looseObject({ id: z.string(), resourceType: z.string(), version: z.number().int().nullable() }),
  resolution: z.string().optional(),
});
export const processConflictSchema = z.object({
  status: z.literal('CONFLICT'),
  message: z.string(),
  error: z.string(),
  resolutionOptions: z.array(z.enum(RESOLUTION_OPTIONS)),
  conflict: conflictDetailSchema,
});
export const processPendingSchema = z.object({ status: z.literal('PENDING'), message: z.string() });
export const processFailedSchema = z.object({
  status: z.literal('FAILED'),
  message: z.string(),
  error: z.string(),
  retryable: z.boolean(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const resolveQuerySchema = z.object({ resolution: z.enum(RESOLUTION_OPTIONS) });
export const resolveAnswerSchema = z.object({
  id: z.string(),
  status: z.enum(['SYNCED', 'CONFLICT']),
  resolution: z.enum(RESOLUTION_OPTIONS),
  message: z.string(),
  conflict: z.object({
    conflictId: z.string(),
    fields: z.array(z.string()),
    status: z.enum(['OPEN', 'RESOLVED', 'ACKNOWLEDGED']),
    resolution: z.enum(['CLIENT_WINS', 'SERVER_WINS', 'MERGED', 'PENDING_REVIEW']),
    resolvedValue: z.record(z.string(), z.unknown()).nullable(),
    /** A field user's request awaiting a manager's approval (stays OPEN in /v1/conflicts). */
    requestedResolution: z.enum(['SERVER_WINS', 'CLIENT_WINS']).nullable(),
  }),
});

/** Document §2 and §5 pass `deviceId` and `userId` in the query; the user is the token's. */
export const deviceQuerySchema = z.object({
  deviceId: deviceIdSchema.optional(),
  userId: z.string().max(256).optional(),
});

export const retryAnswerSchema = z.object({
  retried: z.number().int(),
  ids: z.array(z.string()),
  message: z.string(),
});

export const statsQuerySchema = z.object({
  userId: z.string().min(1).max(256).optional(),
  deviceId: deviceIdSchema.optional(),
  from: isoDateTimeSchema
    .optional()
    .describe(`Inclusive, by received time; default the longest range (${MAX_STATS_RANGE_DAYS} days)`),
  to: isoDateTimeSchema.optional().describe('Exclusive; default now'),
});
export const statsAnswerSchema = z.object({
  total: z.number().int(),
  pending: z.number().int(),
  synced: z.number().int(),
  failed: z.number().int(),
  conflicts: z.number().int(),
  syncRate: z.string().regex(/^\d{1,3}\.\d{2}%$/),
  from: isoDateTimeSchema,
  to: isoDateTimeSchema,
});

export const clinicQueueRoute = defineRoute({
  name: 'clinicQueue',
  method: 'POST',
  route: `${BASE}/queue`,
  summary: 'Document 004: queue an offline operation (becomes a RECORD_* event, pushed and processed)',
  tags: TAGS,
  access: FIELD_ROLES,
  body: queueBodySchema,
  errorBody: ERROR_BODY,
  rateClass: 'sequential',
  responses: {
    201: { description: 'Queued: the event is PENDING and enqueued', schema: queueAnswerSchema },
    200: { description: 'The same item was queued before: its status now', schema: queueAnswerSchema },
    403: error('Role or tenant, or the device belongs to another user (DEVICE_NOT_OWNED)'),
    409: error('The item id was already used with another operation (EVENT_ID_REUSED)'),
  },
});

export const clinicPendingRoute = defineRoute({
  name: 'clinicPending',
  method: 'GET',
  route: `${BASE}/pending`,
  summary: "Document 004: the caller's (device's) items not synced yet: PENDING, FAILED and CONFLICT",
  tags: TAGS,
  access: FIELD_ROLES,
  query: deviceQuerySchema,
  errorBody: ERROR_BODY,
  rateClass: 'sequential',
  responses: {
    200: { description: 'The items, oldest first (at most 1000)', schema: z.array(pendingItemSchema) },
    403: error('Role or tenant, or the device belongs to another user (DEVICE_NOT_OWNED)'),
  },
});

export const clinicProcessRoute = defineRoute({
  name: 'clinicProcess',
  method: 'POST',
  route: `${BASE}/process/{id}`,
  summary:
    'Document 004: process one queued item now and answer its outcome (waits up to 20 s, or `Prefer: wait=N` seconds)',
  tags: TAGS,
  access: FIELD_ROLES,
  params: itemParamsSchema,
  headers: z.object({
    Prefer: z
      .string()
      .optional()
      .describe('`wait=N`: wait at most N seconds (0–20) for the outcome instead of 20 (RFC 7240)'),
  }),
  errorBody: ERROR_BODY,
  rateClass: 'sequential',
  responses: {
    200: { description: 'SYNCED: the record is written', schema: processSyncedSchema },
    202: { description: 'Still PENDING after the wait: ask again', schema: processPendingSchema },
    404: error('No such item of the caller (a manager: of the tenant)'),
    409: { description: 'CONFLICT: the record changed on the server', schema: processConflictSchema },
    422: { description: 'FAILED: the operation was refused or given up on', schema: processFailedSchema },
  },
});

export const clinicResolveRoute = defineRoute({
  name: 'clinicResolve',
  method: 'PATCH',
  route: `${BASE}/resolve/{id}`,
  summary:
    "Document 004: resolve an item's conflict: a manager decides SERVER_WINS or CLIENT_WINS (also over a strategy's result); " +
    "its user discards their change (SERVER_WINS) or asks CLIENT_WINS, which awaits a manager's approval; MANUAL leaves it for a manager",
  tags: TAGS,
  access: FIELD_ROLES,
  params: itemParamsSchema,
  query: resolveQuerySchema,
  errorBody: ERROR_BODY,
  rateClass: 'sequential',
  responses: {
    200: {
      description:
        'Resolved (SYNCED), or waiting for a manager (CONFLICT): flagged (MANUAL) or a request awaiting approval',
      schema: resolveAnswerSchema,
    },
    403: error('Role or tenant'),
    404: error('No such item of the caller, or the item has no conflict'),
    409: error('A manager already handled the conflict otherwise (CONFLICT_RESOLVED)'),
  },
});

export const clinicRetryRoute = defineRoute({
  name: 'clinicRetry',
  method: 'POST',
  route: `${BASE}/retry`,
  summary:
    'Document 004: retry failed and retryable items (own, or any for a manager), of one device if given',
  tags: TAGS,
  access: FIELD_ROLES,
  query: deviceQuerySchema,
  errorBody: ERROR_BODY,
  rateClass: 'sequential',
  responses: {
    202: { description: 'The items are PENDING again and enqueued', schema: retryAnswerSchema },
    403: error('Role or tenant, or the device belongs to another user (DEVICE_NOT_OWNED)'),
  },
});

export const clinicStatsRoute = defineRoute({
  name: 'clinicStats',
  method: 'GET',
  route: `${BASE}/stats`,
  summary: 'Document 004: sync statistics (managers), syncRate as "93.33%"',
  tags: TAGS,
  access: MANAGER_ROLES,
  query: statsQuerySchema,
  errorBody: ERROR_BODY,
  rateClass: 'sequential',
  responses: {
    200: { description: 'Counts and sync rate', schema: statsAnswerSchema },
  },
});

/** Every route of the dialect, for ALL_ROUTES (shared/contracts/routes.ts). */
export const CLINIC_ROUTES = [
  clinicQueueRoute,
  clinicPendingRoute,
  clinicProcessRoute,
  clinicResolveRoute,
  clinicRetryRoute,
  clinicStatsRoute,
] as const;
