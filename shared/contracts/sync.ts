import { z } from 'zod';
import { isoDateTimeSchema } from './common.js';
import { eventErrorCodeSchema } from './event-errors.js';
import { deviceIdSchema } from './events.js';

export const EVENT_STATUSES = ['PENDING', 'APPLIED', 'DUPLICATE', 'CONFLICT', 'REJECTED', 'FAILED'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

export const rejectionSchema = z.object({
  eventId: z.string().nullable(),
  index: z.number().int().optional(),
  code: eventErrorCodeSchema,
  message: z.string(),
  retryable: z.boolean().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export const pushAcceptedSchema = z.object({
  batchId: z.uuid(),
  receivedAt: isoDateTimeSchema,
  accepted: z.number().int(),
  duplicates: z.array(z.string()),
  rejected: z.array(rejectionSchema),
  statusUrl: z.string(),
});
export type PushAccepted = z.infer<typeof pushAcceptedSchema>;

export const conflictReportSchema = z.object({
  conflictId: z.string(),
  fields: z.array(z.string()),
  resolution: z.enum(['CLIENT_WINS', 'SERVER_WINS', 'MERGED', 'PENDING_REVIEW']),
  serverValue: z.record(z.string(), z.unknown()),
  clientValue: z.record(z.string(), z.unknown()),
});
export type ConflictReport = z.infer<typeof conflictReportSchema>;

/** An event's refusal: `code` is one of the catalogue (shared/contracts/event-errors.ts, docs/outcomes.md). */
export const eventErrorSchema = z.object({
  code: eventErrorCodeSchema,
  message: z.string(),
  retryable: z.boolean(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type EventError = z.infer<typeof eventErrorSchema>;

export const eventOutcomeSchema = z.object({
  eventId: z.string().nullable(),
  status: z.enum(EVENT_STATUSES),
  conflict: conflictReportSchema.optional(),
  error: eventErrorSchema.optional(),
});
export type EventOutcome = z.infer<typeof eventOutcomeSchema>;

/** How many events ended in each outcome (batch outcomes, sync stats). */
export const outcomeCountsSchema = z.object({
  pending: z.number().int(),
  applied: z.number().int(),
  duplicate: z.number().int(),
  conflict: z.number().int(),
  rejected: z.number().int(),
  failed: z.number().int(),
});

export const batchOutcomeSchema = z.object({
  batchId: z.uuid(),
  deviceId: z.string(),
  status: z.enum(['PENDING', 'PROCESSING', 'COMPLETED']),
  receivedAt: isoDateTimeSchema,
  completedAt: isoDateTimeSchema.optional(),
  counts: outcomeCountsSchema.extend({ total: z.number().int() }),
  events: z.array(eventOutcomeSchema),
});
export type BatchOutcome = z.infer<typeof batchOutcomeSchema>;

export const batchParamsSchema = z.object({ batchId: z.uuid() });

export const retryBodySchema = z
  .object({
    deviceId: deviceIdSchema.optional(),
    eventIds: z.array(z.uuid()).min(1).max(10_000).optional(),
  })
  .strict();

export const retryAcceptedSchema = z.object({ retried: z.number().int(), eventIds: z.array(z.string()) });

export const deviceQuerySchema = z.object({ deviceId: deviceIdSchema });

export const deviceStatusSchema = z.object({
  deviceId: z.string(),
  userId: z.string().nullable(),
  platform: z.string().nullable(),
  appVersion: z.string().nullable(),
  lastPushAt: isoDateTimeSchema.nullable(),
  lastPullAt: isoDateTimeSchema.nullable(),
  lastSyncAt: isoDateTimeSchema.nullable(),
  /** The tenant's sync-schema version served on the device's last pull (SPEC v1.1); null before one. */
  schemaVersion: z.number().int().nullable(),
  pendingEvents: z.number().int(),
  failedEvents: z.number().int(),
  /**
   * OPEN conflicts (no manager has handled them yet: SPEC v1.1 "review states") in which one of the device's
   * events is either side — the event whose value lost or is held, or the event whose value the record kept.
   * It used to count only the first kind (the device's events as the client side: see docs/outcomes.md).
   */
  openConflicts: z.number().int(),
  /** openConflicts split by where the device stands; the three add up to openConflicts (docs/outcomes.md). */
  openConflictsBySide: z
    .object({
      lost: z
        .number()
        .int()
        .describe("The record does not hold the device's value for the conflict's fields"),
      won: z.number().int().describe("The record holds the device's value; another device's event lost"),
      held: z.number().int().describe('MANUAL holds the fields for a manager (resolution PENDING_REVIEW)'),
    })
    .describe('openConflicts by where the device stands'),
  pendingPull: z.number().int().nullable(),
  photos: z.object({ awaitingUpload: z.number().int(), attached: z.number().int() }),
});
export type DeviceStatus = z.infer<typeof deviceStatusSchema>;
