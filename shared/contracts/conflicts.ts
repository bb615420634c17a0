import { z } from 'zod';
import { EVENT_TYPES } from './events.js';
import { EQUIPMENT_STATUSES } from './reference-data.js';
import { isoDateTimeSchema } from './common.js';

export const STRATEGIES = ['LWW', 'SERVER_WINS', 'CLIENT_WINS', 'MANUAL'] as const;

/** A conflict's review state (SPEC v1.1 "Managers' console and review states"; docs/architecture.md "Review states"). */
export const CONFLICT_STATUSES = ['OPEN', 'RESOLVED', 'ACKNOWLEDGED'] as const;
export type ConflictStatus = (typeof CONFLICT_STATUSES)[number];
/** What a manager may decide: keep the automatic result (ACKNOWLEDGED), or set the values. */
export const REVIEW_DECISIONS = ['SERVER_WINS', 'CLIENT_WINS', 'MERGED', 'ACKNOWLEDGED'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

const RESOLUTIONS = ['CLIENT_WINS', 'SERVER_WINS', 'MERGED', 'PENDING_REVIEW'] as const;

/** One side of a conflict as the event log has it: the event's type, device, user and times. */
export const conflictSideSchema = z.object({
  type: z.string(),
  deviceId: z.string(),
  userId: z.string(),
  occurredAt: isoDateTimeSchema,
  receivedAt: isoDateTimeSchema,
});

export const conflictSchema = z.object({
  id: z.uuid(),
  /** RECORD (v1.1): a record of a collection, `recordKey` = `${collection}/${id}`. */
  recordType: z.enum(['PRODUCTION', 'EQUIPMENT', 'RECORD']),
  recordKey: z.string(),
  fields: z.array(z.string()),
  eventId: z.uuid(),
  otherEventId: z.uuid().nullable(),
  serverValue: z.record(z.string(), z.unknown()),
  clientValue: z.record(z.string(), z.unknown()),
  resolution: z
    .enum(RESOLUTIONS)
    .describe(
      'What the record holds now: PENDING_REVIEW while MANUAL holds the conflict; else the strategy’s result or, once a manager decided, the manager’s',
    ),
  automaticResolution: z
    .enum(['CLIENT_WINS', 'SERVER_WINS', 'MERGED'])
    .nullable()
    .describe(
      'What the tenant’s strategy decided on its own; null when MANUAL held the conflict for a manager',
    ),
  status: z
    .enum(CONFLICT_STATUSES)
    .describe(
      'OPEN: no manager has handled it (held by MANUAL, or settled by a strategy and not reviewed); RESOLVED: a manager decided SERVER_WINS, CLIENT_WINS or MERGED; ACKNOWLEDGED: a manager kept the automatic result',
    ),
  resolvedBy: z
    .string()
    .nullable()
    .describe(
      'The manager whose decision set the values; null while held, and when the strategy’s result stands',
    ),
  resolvedAt: isoDateTimeSchema
    .nullable()
    .describe(
      'When the values were settled: the manager’s decision, else the strategy’s (the conflict’s creation)',
    ),
  resolvedValue: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe(
      'The conflicting fields’ values in the record right after the manager’s decision; null until then',
    ),
  reviewedBy: z.string().nullable().describe('The manager who handled it (any decision); null while OPEN'),
  reviewedAt: isoDateTimeSchema.nullable(),
  requestedResolution: z
    .enum(['SERVER_WINS', 'CLIENT_WINS'])
    .nullable()
    .describe(
      'What a field user asked through a dialect that needs a manager’s approval (docs/compat/clinic.md)',
    ),
  requestedBy: z.string().nullable(),
  requestedAt: isoDateTimeSchema.nullable(),
  event: conflictSideSchema
    .nullable()
    .describe('Who wrote the client side (`eventId`) and when; null if the event left the log'),
  otherEvent: conflictSideSchema
    .nullable()
    .describe(
      'Who wrote the server side (`otherEventId`) and when; null when a manager or the server wrote it',
    ),
  createdAt: isoDateTimeSchema,
});
export type Conflict = z.infer<typeof conflictSchema>;

export const listConflictsQuerySchema = z.object({
  status: z
    .enum(CONFLICT_STATUSES)
    .default('OPEN')
    .describe(
      'OPEN: the inbox (no manager has handled it); RESOLVED: a manager set the values; ACKNOWLEDGED: a manager kept the automatic result. Every conflict is in exactly one list',
    ),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The id of the last conflict of the previous page. */
  after: z.uuid().optional(),
});

export const conflictListSchema = z.object({
  conflicts: z.array(conflictSchema),
  nextAfter: z.uuid().nullable(),
});

export const conflictParamsSchema = z.object({ id: z.uuid() });

export const resolveBodySchema = z
  .object({
    resolution: z
      .enum(REVIEW_DECISIONS)
      .describe(
        'ACKNOWLEDGED keeps a strategy’s result (409 CONFLICT_HELD on a conflict MANUAL holds); the others set the values, also over a strategy’s result',
      ),
    /** With MERGED: the value of every conflicting field. */
    merged: z.record(z.string(), z.unknown()).optional(),
  })
  .refine((b) => (b.resolution === 'MERGED') === (b.merged !== undefined), {
    message: 'merged is required with MERGED and only with MERGED',
    path: ['merged'],
  });
export type ResolveBody = z.infer<typeof resolveBodySchema>;

export const strategiesSchema = z.object({
  strategies: z.partialRecord(z.enum(EVENT_TYPES), z.enum(STRATEGIES)),
});

/**
 * The schema of each field a manager may set when merging, per v1 record type. A RECORD's fields are its
 * collection's: merged values are checked against the collection's JSON Schema (shared/usecases/conflicts.ts).
 */
export const MERGEABLE_FIELDS = {
  PRODUCTION: {
    oilVolume: z.number().finite().min(0).nullable(),
    gasVolume: z.number().finite().min(0).nullable(),
    waterVolume: z.number().finite().min(0).nullable(),
    tubingPressure: z.number().finite().min(0).nullable(),
    casingPressure: z.number().finite().min(0).nullable(),
    chokeSize: z.number().int().min(0).max(512).nullable(),
    runtime: z.number().finite().min(0).max(24).nullable(),
    notes: z.string().trim().max(4000).nullable(),
  },
  EQUIPMENT: {
    status: z.enum(EQUIPMENT_STATUSES),
    serialNumber: z.string().trim().min(1).max(100),
    manufacturer: z.string().trim().max(200).nullable(),
    model: z.string().trim().max(200).nullable(),
    notes: z.string().trim().max(2000).nullable(),
  },
} as const;
