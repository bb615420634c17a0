/**
 * Route contracts of dialect 003 ("fieldops", ../shared/seeds/003), under /api/compat/fieldops: the batch
 * sync with inline photos and the upload-URL route. Errors in the dialect's body (./wire.ts).
 */
import { FIELD_ROLES } from '../../auth/principal.js';
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
    'Document 003 `POST /equipment/:id/photos/upload-url`: a SAS URL to PUT one photo to; name its blobName in a maintenance event’s `photoUrls`',
  tags,
  access: FIELD_ROLES,
  params: fieldopsEquipmentParamsSchema,
  query: fieldopsUploadUrlQuerySchema,
  headers: z.object({
    'x-device-id': z.string().optional().describe('Our addition: the device (else one device per user)'),
  }),
  errorBody: fieldopsErrorBody,
  responses: {
    200: { description: 'The upload URL (cw SAS, 15 minutes)', schema: fieldopsUploadUrlResponseSchema },
    404: errorResponse('No such equipment, or it was deleted: no URL is issued'),
  },
});

/** Every route of the dialect (appended to ALL_ROUTES). */
export const FIELDOPS_ROUTES = [fieldopsSyncBatchRoute, fieldopsUploadUrlRoute];
