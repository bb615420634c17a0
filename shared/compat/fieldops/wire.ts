/**
 * Wire shapes of dialect 003 ("fieldops": ../shared/seeds/003, Sprint 8 "Batch Sync API" and Sprint 6
 * "Photo Upload Flow"), served under /api/compat/fieldops. Pure zod schemas: what the document's client sends
 * and reads. The mapping onto v1 lives in ./mapping.ts; docs/compat/fieldops.md says what maps to what.
 */
import { z } from 'zod';
import { MAX_EVENTS_PER_BATCH } from '../../contracts/events.js';
import type { Problem } from '../../contracts/common.js';

/** Inline photos per batch: as many as one upload-URL request may name (POST /v1/photos/upload-urls). */
export const MAX_INLINE_PHOTOS = 50;

/**
 * The largest body of POST compat/fieldops/sync/batch, in bytes: 32 MiB. Base64 costs 4/3, so this carries
 * about 24 MiB of photos — ten of the document's 2 MB camera photos ("Compress image (max 2 MB)") with their
 * events. Far below the Functions host's 100 MB request limit; what it costs in memory is in
 * docs/compat/fieldops.md ("Body limit").
 */
export const FIELDOPS_MAX_BODY_BYTES = 32 * 1024 * 1024;

/** An event as the document's client stores and sends it (Sprint 7 "Event structure"). */
export const fieldopsEventSchema = z.object({
  id: z.string().min(1).max(128),
  tenantId: z.string().optional(),
  eventType: z.string().min(1).max(64),
  aggregateId: z.string().max(128).optional(),
  payload: z.record(z.string(), z.unknown()).default({}),
  timestamp: z.string().min(1),
  userId: z.string().optional(),
  syncStatus: z.string().optional(),
});
export type FieldopsEvent = z.infer<typeof fieldopsEventSchema>;

/** A photo sent inline (Sprint 8 `PhotoUpload`): its bytes as base64, tied to an event of the batch. */
export const fieldopsPhotoSchema = z.object({
  eventId: z.string().min(1).max(128),
  localPath: z.string().max(2048).optional(),
  base64Data: z.string().min(1),
  filename: z.string().min(1).max(255),
  contentType: z.string().min(1).max(100),
});
export type FieldopsPhoto = z.infer<typeof fieldopsPhotoSchema>;

/**
 * The body as validated up front: events and photos are checked one by one afterwards (one bad item never
 * blocks the rest, as for a v1 push). `deviceId` is our addition (else the X-Device-Id header, else one device
 * per user).
 */
export const fieldopsBatchBodySchema = z
  .object({
    deviceId: z.string().optional(),
    events: z.array(z.unknown()).max(MAX_EVENTS_PER_BATCH).default([]),
    photos: z.array(z.unknown()).max(MAX_INLINE_PHOTOS).default([]),
  })
  .refine((b) => b.events.length + b.photos.length > 0, { message: 'needs at least one event or photo' });

/** What OpenAPI shows for the body (the precise item shapes). */
export const fieldopsBatchDocumentedBody = z.object({
  deviceId: z.string().optional().describe('Our addition: the device; else X-Device-Id, else one per user'),
  events: z.array(fieldopsEventSchema).max(MAX_EVENTS_PER_BATCH),
  photos: z.array(fieldopsPhotoSchema).max(MAX_INLINE_PHOTOS).optional(),
});

/** The document's `Conflict`, with v1's conflict id and fields beside it. */
export const fieldopsConflictSchema = z.object({
  eventId: z.string(),
  reason: z.string(),
  existingData: z.unknown(),
  incomingData: z.unknown(),
  resolution: z.enum(['MERGE', 'OVERWRITE', 'SKIP', 'USER_PROMPT']),
  conflictId: z.string().optional(),
  fields: z.array(z.string()).optional(),
});

/** The document's `Failed` (left open there): the event, why, and whether sending it again can help. */
export const fieldopsFailedSchema = z.object({
  eventId: z.string(),
  reason: z.string(),
  code: z.string(),
  retryable: z.boolean(),
  filename: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type FieldopsFailed = z.infer<typeof fieldopsFailedSchema>;

/** Our addition: each inline photo, where it went. */
export const fieldopsPhotoResultSchema = z.object({
  eventId: z.string(),
  filename: z.string(),
  photoId: z.string(),
  blobName: z.string().optional(),
  sizeBytes: z.number().int().optional(),
  sha256: z.string().optional(),
  status: z.enum(['ATTACHED', 'PENDING', 'FAILED']),
});

/** The document's `BatchSyncResponse`, plus `photos` (our addition). */
export const fieldopsBatchResponseSchema = z.object({
  synced: z.array(z.string()),
  conflicts: z.array(fieldopsConflictSchema),
  failed: z.array(fieldopsFailedSchema),
  photos: z.array(fieldopsPhotoResultSchema),
});
export type FieldopsBatchResponse = z.infer<typeof fieldopsBatchResponseSchema>;

/** Path of POST equipment/{id}/photos/upload-url. */
export const fieldopsEquipmentParamsSchema = z.object({ id: z.string().min(1).max(128) });

/** Query of the upload-URL route (our addition; the document sends none): the photo's type, by name or type. */
export const fieldopsUploadUrlQuerySchema = z.object({
  contentType: z.string().max(100).optional(),
  filename: z.string().max(255).optional(),
});

/** The document's upload-URL answer, plus what a PUT needs (photoId, method, headers: our additions). */
export const fieldopsUploadUrlResponseSchema = z.object({
  uploadUrl: z.string(),
  blobName: z.string(),
  expiresAt: z.string(),
  photoId: z.string(),
  method: z.literal('PUT'),
  headers: z.record(z.string(), z.string()),
});

/**
 * The error body: the document's API is NestJS ("API (NestJS) - REST API with JWT auth"), whose exceptions
 * answer `{statusCode, message, error}`; `message` is a list for validation errors, as Nest's ValidationPipe
 * gives it.
 */
export const fieldopsErrorSchema = z.object({
  statusCode: z.number().int(),
  message: z.union([z.string(), z.array(z.string())]),
  error: z.string(),
});
export type FieldopsError = z.infer<typeof fieldopsErrorSchema>;

/**
 * Nest's `error` for a status whose name differs from the one problem mapping's title (RFC 9110's): Nest's
 * UnprocessableEntityException says "Unprocessable Entity" (the older RFC 4918 name).
 */
const NEST_ERROR_NAMES: Readonly<Record<number, string>> = { 422: 'Unprocessable Entity' };

/**
 * Renders the one problem mapping as the dialect's error body (EndpointOptions.renderError): `error` is the
 * status name as Nest's exceptions write it (`Bad Request`, `Payload Too Large`, `Unprocessable Entity`…).
 */
export function renderFieldopsError(problem: Problem): { body: FieldopsError } {
  const message = problem.errors?.length
    ? problem.errors.map((e) => `${e.path}: ${e.message}`)
    : (problem.detail ?? problem.title);
  return {
    body: { statusCode: problem.status, message, error: NEST_ERROR_NAMES[problem.status] ?? problem.title },
  };
}

export const fieldopsErrorBody = { schema: fieldopsErrorSchema, contentType: 'application/json' };
