/**
 * Route contracts of dialect 003 ("fieldops", ../shared/seeds/003), under /api/compat/fieldops: the batch
 * sync with inline photos and the upload-URL route. Errors in the dialect's body (./wire.ts).
 */
import { FIELD_ROLES } from '../../auth/principal.js';
import { MAX_PHOTO_BYTES, PHOTO_CONTENT_TYPES } from '../../contracts/events.js';
import { defineRoute } from '../../contracts/route.js';
import {
  FIELDOPS_MAX_BODY_BYTES,
  fieldopsBatchBodySchema,
  fieldopsBatchDocumentedBody,
  fieldopsBatchResponseSchema,
  fieldopsEquipmentParamsSchema,
  fieldopsErrorBody,
  fieldopsErrorSchema,
  fieldopsUploadUrlQuerySchema,
  fieldopsUploadUrlResponseSchema,
} from './wire.js';
import { z } from 'zod';

const tags = ['compat', 'fieldops'];
const errorResponse = (description: string) => ({ description, schema: fieldopsErrorSchema });

export const fieldopsSyncBatchRoute = defineRoute({
  name: 'compatFieldopsSyncBatch',
  method: 'POST',
  route: 'compat/fieldops/sync/batch',
  summary:
    'Document 003 `POST /sync/batch`: events and inline base64 photos; answers once processed (up to 30 s) with `{synced, conflicts, failed}`',
  tags,
  access: FIELD_ROLES,
  body: fieldopsBatchBodySchema,
  documentedBody: fieldopsBatchDocumentedBody,
  checksItemsItself: true,
  headers: z.object({
    'x-device-id': z.string().optional().describe('Our addition: the device (else one device per user)'),
    'idempotency-key': z.string().optional(),
  }),
  maxBodyBytes: FIELDOPS_MAX_BODY_BYTES,
  rateClass: 'push',
  errorBody: fieldopsErrorBody,
  responses: {
    200: {
      description:
        'Each event in `synced` (applied, or already had), `conflicts` or `failed`; one still processing after 30 s is in none (send it again)',
      schema: fieldopsBatchResponseSchema,
    },
    403: errorResponse('The role, the tenant, or a device of another user (DEVICE_NOT_OWNED)'),
    413: errorResponse(
      `The body is larger than ${FIELDOPS_MAX_BODY_BYTES} bytes (32 MiB, after gzip decompression), or more than 1000 events and photos`,
    ),
  },
});

export const fieldopsUploadUrlRoute = defineRoute({
  name: 'compatFieldopsUploadUrl',
  method: 'POST',
  route: 'compat/fieldops/equipment/{id}/photos/upload-url',
  summary:
    'Document 003 `POST /equipment/:id/photos/upload-url`: a signed URL to PUT one photo to (Content-Type only); name its blobName in a maintenance event’s `photoUrls`',
  tags,
  access: FIELD_ROLES,
  params: fieldopsEquipmentParamsSchema,
  query: fieldopsUploadUrlQuerySchema,
  headers: z.object({
    'x-device-id': z.string().optional().describe('Our addition: the device (else one device per user)'),
  }),
  errorBody: fieldopsErrorBody,
  responses: {
    200: {
      description: 'The upload URL (a signed fieldsync URL taking a plain PUT, 15 minutes)',
      schema: fieldopsUploadUrlResponseSchema,
    },
    404: errorResponse('No such equipment, or it was deleted: no URL is issued'),
  },
});

/** Path of PUT uploads/{token}: the signed capability the upload-URL route issued (./upload-token.ts). */
export const fieldopsUploadParamsSchema = z.object({ token: z.string().min(1).max(2048) });

export const fieldopsUploadRoute = defineRoute({
  name: 'compatFieldopsUpload',
  method: 'PUT',
  route: 'compat/fieldops/uploads/{token}',
  summary:
    'The `uploadUrl` the upload-URL route answers: a plain PUT of one photo’s bytes with its Content-Type, no Authorization (the signed URL is the capability, as a SAS is); 201 as Blob Storage answers a Put Blob',
  tags,
  access: 'public',
  params: fieldopsUploadParamsSchema,
  headers: z.object({
    'content-type': z
      .enum([...PHOTO_CONTENT_TYPES, 'application/octet-stream'])
      .optional()
      .describe('The type the URL was issued for; absent or application/octet-stream: that type'),
  }),
  errorBody: fieldopsErrorBody,
  responses: {
    201: { description: 'Stored (a later PUT to the same URL before the photo is attached replaces it)' },
    400: errorResponse('No bytes'),
    403: errorResponse('The URL expired, was altered, or its tenant is not active'),
    409: errorResponse('The photo is attached already: its blob is locked'),
    413: errorResponse(`More than ${MAX_PHOTO_BYTES} bytes (10 MiB, the photo limit)`),
    415: errorResponse('Content-Type names another type than the one the URL was issued for'),
    422: errorResponse('The bytes are not an image of the declared type (magic number)'),
  },
});

/** Every route of the dialect (appended to ALL_ROUTES). */
export const FIELDOPS_ROUTES = [fieldopsSyncBatchRoute, fieldopsUploadUrlRoute, fieldopsUploadRoute];
