import { z } from 'zod';
import { EVENT_TYPES } from './events.js';
import { EQUIPMENT_STATUSES } from './reference-data.js';
import { isoDateTimeSchema } from './common.js';

export const STRATEGIES = ['LWW', 'SERVER_WINS', 'CLIENT_WINS', 'MANUAL'] as const;

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
  resolution: z.enum(['CLIENT_WINS', 'SERVER_WINS', 'MERGED', 'PENDING_REVIEW']),
  status: z.enum(['OPEN', 'RESOLVED']),
  resolvedBy: z.string().nullable(),
  resolvedAt: isoDateTimeSchema.nullable(),
  resolvedValue: z.record(z.string(), z.unknown()).nullable(),
  createdAt: isoDateTimeSchema,
});
export type Conflict = z.infer<typeof conflictSchema>;

export const listConflictsQuerySchema = z.object({
  status: z.enum(['OPEN', 'RESOLVED']).default('OPEN'),
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
    resolution: z.enum(['SERVER_WINS', 'CLIENT_WINS', 'MERGED']),
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
