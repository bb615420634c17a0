import { z } from 'zod';
import { MANAGER_ROLES } from '../auth/principal.js';
import { isoDateTimeSchema } from './common.js';
import { conflictParamsSchema, conflictSchema } from './conflicts.js';
import { deviceIdSchema, PHOTO_CONTENT_TYPES } from './events.js';
import { authProblems, defineRoute, problem } from './route.js';
import { EVENT_STATUSES, outcomeCountsSchema } from './sync.js';
import { PHOTO_STATUSES } from './photos.js';

/**
 * Two small reads the managers' console needs (docs/console.md) that the v1 routes lack: a device's recent
 * activity (its last batches, its failed events, its photos) and one conflict with the events on both sides.
 */

export const MAX_ACTIVITY_BATCHES = 100;

export const deviceActivityParamsSchema = z.object({ deviceId: deviceIdSchema });
export const deviceActivityQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_ACTIVITY_BATCHES)
    .default(20)
    .describe('How many of the newest batches, failed events and photos (each list)'),
});

const errorSchema = z.object({ code: z.string(), message: z.string(), retryable: z.boolean().optional() });

/** A photo as the console lists it; its image comes from GET /v1/photos/{photoId} (`readUrl`). */
export const photoSummarySchema = z.object({
  photoId: z.uuid(),
  status: z.enum(PHOTO_STATUSES),
  contentType: z.enum(PHOTO_CONTENT_TYPES),
  /** What it is attached to: `{type, id}`; a RECORD's id is `collection/id`. Null while awaiting upload. */
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  takenAt: isoDateTimeSchema.nullable(),
  updatedAt: isoDateTimeSchema,
});
export type PhotoSummary = z.infer<typeof photoSummarySchema>;

export const activityEventSchema = z.object({
  eventId: z.uuid(),
  batchId: z.uuid(),
  deviceId: z.string(),
  userId: z.string(),
  type: z.string(),
  status: z.enum(EVENT_STATUSES),
  occurredAt: isoDateTimeSchema,
  receivedAt: isoDateTimeSchema,
  appliedAt: isoDateTimeSchema.nullable(),
  attempts: z.number().int(),
  error: errorSchema.nullable(),
  payload: z.record(z.string(), z.unknown()),
});
export type ActivityEvent = z.infer<typeof activityEventSchema>;

export const deviceActivitySchema = z.object({
  deviceId: z.string(),
  /** The newest batches first, with how their events ended so far. */
  batches: z.array(
    z.object({
      batchId: z.uuid(),
      userId: z.string(),
      receivedAt: isoDateTimeSchema,
      counts: outcomeCountsSchema.extend({ total: z.number().int() }),
    }),
  ),
  /** FAILED events and retryable REJECTED ones (what POST /v1/sync/retry takes again), newest first. */
  failedEvents: z.array(activityEventSchema),
  photos: z.array(photoSummarySchema),
});
export type DeviceActivity = z.infer<typeof deviceActivitySchema>;

export const conflictDetailSchema = z.object({
  conflict: conflictSchema,
  /** The conflict's event and the other side's (when recorded), with device, user, times and payload. */
  events: z.array(activityEventSchema.extend({ side: z.enum(['CLIENT', 'SERVER']) })),
  /** Photos attached to the record in conflict. */
  photos: z.array(photoSummarySchema),
});
export type ConflictDetail = z.infer<typeof conflictDetailSchema>;

export const deviceActivityRoute = defineRoute({
  name: 'deviceActivity',
  method: 'GET',
  route: 'v1/devices/{deviceId}/activity',
  summary: "A device's recent batches (with outcome counts), its failed events and its photos, newest first",
  tags: ['manager'],
  access: MANAGER_ROLES,
  params: deviceActivityParamsSchema,
  query: deviceActivityQuerySchema,
  responses: {
    200: {
      description: "The device's activity (empty lists for a device never seen)",
      schema: deviceActivitySchema,
    },
    ...authProblems,
  },
});

export const getConflictRoute = defineRoute({
  name: 'getConflict',
  method: 'GET',
  route: 'v1/conflicts/{id}',
  summary:
    'One conflict with the events of both sides (device, user, times, payload) and the photos of its record',
  tags: ['conflicts'],
  access: MANAGER_ROLES,
  params: conflictParamsSchema,
  responses: {
    200: { description: 'The conflict', schema: conflictDetailSchema },
    ...authProblems,
    404: problem('No such conflict'),
  },
});
