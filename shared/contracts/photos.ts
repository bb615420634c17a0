import { z } from 'zod';
import { FIELD_ROLES, MANAGER_ROLES } from '../auth/principal.js';
import { isoDateTimeSchema } from './common.js';
import { deviceIdSchema, MAX_PHOTO_BYTES, PHOTO_CONTENT_TYPES, TARGET_TYPES } from './events.js';
import { authProblems, defineRoute, problem } from './route.js';

export type PhotoContentType = (typeof PHOTO_CONTENT_TYPES)[number];

/** The blob name's extension of each accepted content type. */
export const PHOTO_EXTENSIONS: Record<PhotoContentType, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/heic': 'heic',
  'image/webp': 'webp',
};

/** `{tenantId}/{photoId}.{ext}`: the only blob a photo of a tenant can live in (photo ids in lower case). */
export const photoBlobName = (tenantId: string, photoId: string, contentType: PhotoContentType): string =>
  `${tenantId}/${photoId.toLowerCase()}.${PHOTO_EXTENSIONS[contentType]}`;

/** At most this many photos per upload-URL request. */
export const MAX_PHOTOS_PER_REQUEST = 50;

export const photoRequestSchema = z.object({
  photoId: z.uuid(),
  contentType: z.enum(PHOTO_CONTENT_TYPES),
  sizeBytes: z
    .number()
    .int()
    .min(1)
    .max(MAX_PHOTO_BYTES, `must be at most ${MAX_PHOTO_BYTES} bytes (10 MiB)`),
});

/** Body of POST /v1/photos/upload-urls. */
export const uploadUrlsBodySchema = z
  .object({
    /** The device that will upload (recorded for its sync status); 'unknown' when not given. */
    deviceId: deviceIdSchema.optional(),
    photos: z
      .array(photoRequestSchema)
      .min(1, 'must hold at least one photo')
      .max(MAX_PHOTOS_PER_REQUEST, `must hold at most ${MAX_PHOTOS_PER_REQUEST} photos`),
  })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    body.photos.forEach((photo, i) => {
      const id = photo.photoId.toLowerCase();
      if (seen.has(id)) {
        ctx.addIssue({ code: 'custom', path: ['photos', i, 'photoId'], message: 'appears twice' });
      }
      seen.add(id);
    });
  });
export type UploadUrlsBody = z.infer<typeof uploadUrlsBodySchema>;

export const photoUploadSchema = z.object({
  photoId: z.uuid(),
  blobName: z.string(),
  uploadUrl: z.string(),
  expiresAt: isoDateTimeSchema,
  method: z.literal('PUT'),
  headers: z.object({
    'x-ms-blob-type': z.literal('BlockBlob'),
    'content-type': z.enum(PHOTO_CONTENT_TYPES),
  }),
});
export type PhotoUpload = z.infer<typeof photoUploadSchema>;

export const uploadUrlsResponseSchema = z.object({
  uploads: z.array(photoUploadSchema),
  /** Photos already ATTACHED: their blob is locked and gets no new upload URL; push nothing more for them. */
  alreadyAttached: z.array(z.object({ photoId: z.uuid(), blobName: z.string() })),
});
export type UploadUrlsResponse = z.infer<typeof uploadUrlsResponseSchema>;

export const photoParamsSchema = z.object({ photoId: z.uuid() });

export const PHOTO_STATUSES = ['AWAITING_UPLOAD', 'ATTACHED'] as const;

/** A photo as GET /v1/photos/{photoId} shows it. */
export const photoSchema = z.object({
  photoId: z.uuid(),
  blobName: z.string(),
  contentType: z.enum(PHOTO_CONTENT_TYPES),
  sizeBytes: z.number().int(),
  sha256: z.string().nullable(),
  status: z.enum(PHOTO_STATUSES),
  target: z.object({ type: z.enum(TARGET_TYPES), id: z.string() }).nullable(),
  takenAt: isoDateTimeSchema.nullable(),
  deviceId: z.string(),
  userId: z.string(),
  readUrl: z.string(),
  readUrlExpiresAt: isoDateTimeSchema,
});
export type Photo = z.infer<typeof photoSchema>;

export const photoUploadUrlsRoute = defineRoute({
  name: 'photoUploadUrls',
  method: 'POST',
  route: 'v1/photos/upload-urls',
  summary:
    'Upload URLs for 1..50 photos: each a SAS allowing create and write of the blob `{tenantId}/{photoId}.{ext}` ' +
    'only, for at most 15 minutes. PUT the bytes with the returned headers, then push PHOTO_ATTACHED. The photo ' +
    'is recorded AWAITING_UPLOAD for `deviceId` (optional; "unknown" when absent). Asking again gives a fresh URL.',
  tags: ['photos'],
  access: FIELD_ROLES,
  body: uploadUrlsBodySchema,
  responses: {
    200: { description: 'One upload per photo not attached yet', schema: uploadUrlsResponseSchema },
    ...authProblems,
    413: problem('The body is larger than 4 MiB'),
    415: problem('The body is not JSON'),
  },
});

export const getPhotoRoute = defineRoute({
  name: 'getPhoto',
  method: 'GET',
  route: 'v1/photos/{photoId}',
  summary: "An attached photo's metadata and `readUrl`, a read-only SAS valid for at most 15 minutes",
  tags: ['photos'],
  access: MANAGER_ROLES,
  params: photoParamsSchema,
  responses: {
    200: { description: 'The photo', schema: photoSchema },
    ...authProblems,
    404: problem(
      'No attached photo with this id in your tenant (code PHOTO_NOT_ATTACHED when an upload URL was issued ' +
        'but no PHOTO_ATTACHED was processed yet)',
    ),
  },
});
