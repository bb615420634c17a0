import { z } from 'zod';
import { entityIdSchema, isoDateTimeSchema } from '../../contracts/common.js';
import { deviceIdSchema } from '../../contracts/events.js';

/*
 * The wire shapes of seed document 001 ("Offline Sync API", sections "Pull Data", "Push Data", "Sync Status",
 * "Error Handling"), served under /api/compat/wellpulse. Field names, types and enums are the document's;
 * where it is silent the choice is in docs/compat/wellpulse.md.
 */

/** Optional header of every route (document "Headers"): when sent, it must name the token's tenant. */
export const TENANT_SUBDOMAIN_HEADER = 'x-tenant-subdomain';

/** The document's error body ("Example Error Response"): `errors[].field` is a JSON path into the request. */
export const errorBodySchema = z.object({
  statusCode: z.number().int(),
  message: z.string(),
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
export type WellpulseErrorBody = z.infer<typeof errorBodySchema>;

const nonNegative = z.number().finite().min(0);
/** A date or date-time as the document writes "ISO 8601" for next inspection or maintenance dates. */
const isoDateOrDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(?:[Tt].*)?$/, 'must be an ISO 8601 date (YYYY-MM-DD) or date-time');
const textList = (item: number, max: number) => z.array(z.string().max(item)).max(max);

/**
 * `entries[].data` (document "Request Body"): the fields of all three entry types, each optional. Unknown
 * fields are dropped (the document's client may send more than it declares). Negative quantities are refused
 * as in the document's error example ("Oil volume cannot be negative").
 */
export const entryDataSchema = z.object({
  oilVolume: nonNegative.optional(),
  gasVolume: nonNegative.optional(),
  waterVolume: nonNegative.optional(),
  tubingPressure: nonNegative.optional(),
  casingPressure: nonNegative.optional(),
  chokeSize: nonNegative.optional(),
  runtime: nonNegative.optional(),
  equipmentStatus: z.enum(['OPERATIONAL', 'DEGRADED', 'FAILED']).optional(),
  leaksDetected: z.boolean().optional(),
  safetyHazards: z.boolean().optional(),
  visualCondition: z.enum(['EXCELLENT', 'GOOD', 'FAIR', 'POOR']).optional(),
  inspectionType: z.enum(['ROUTINE', 'DETAILED', 'EMERGENCY']).optional(),
  nextInspectionDate: isoDateOrDateTime.optional(),
  correctiveActions: textList(500, 50).optional(),
  maintenanceType: z.enum(['PREVENTIVE', 'CORRECTIVE', 'EMERGENCY']).optional(),
  workPerformed: textList(500, 50).optional(),
  partsReplaced: textList(200, 100).optional(),
  downtime: nonNegative.optional(),
  cost: nonNegative.optional(),
  vendorName: z.string().max(200).optional(),
  nextMaintenanceDate: isoDateOrDateTime.optional(),
});

export const ENTRY_TYPES = ['PRODUCTION', 'INSPECTION', 'MAINTENANCE'] as const;

/** One field entry recorded offline (document "Request Body" `entries[]`); it has no id of its own. */
export const entrySchema = z
  .object({
    wellId: entityIdSchema,
    entryType: z.enum(ENTRY_TYPES),
    data: entryDataSchema,
    recordedAt: isoDateTimeSchema,
    latitude: z.number().min(-90).max(90).optional(),
    longitude: z.number().min(-180).max(180).optional(),
    photos: z.array(z.string().min(1).max(2048)).max(20).optional(),
    notes: z.string().max(4000).optional(),
  })
  .superRefine((entry, ctx) => {
    // The v1 location needs both coordinates: one alone is a client mistake, said where it is.
    if ((entry.latitude === undefined) !== (entry.longitude === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [entry.latitude === undefined ? 'latitude' : 'longitude'],
        message: 'latitude and longitude are sent together',
      });
    }
  });
export type Entry = z.infer<typeof entrySchema>;

/** POST /sync/push body. At most 1000 entries (document "Batch limit"): more is 413, checked by the push use case. */
export const pushBodySchema = z.object({
  deviceId: deviceIdSchema,
  entries: z.array(entrySchema),
});
export type WellpulsePushBody = z.infer<typeof pushBodySchema>;

/** POST /sync/push answer (document "Response"). */
export const pushResponseSchema = z.object({
  succeeded: z.number().int().min(0),
  failed: z.number().int().min(0),
  conflicts: z.array(
    z.object({
      entryId: z.string(),
      wellId: z.string(),
      recordedAt: z.string(),
      reason: z.string(),
      resolution: z.enum(['SERVER_WINS', 'CLIENT_WINS', 'MERGED']),
    }),
  ),
  errors: z.array(z.object({ wellId: z.string(), error: z.string() })),
  syncedAt: isoDateTimeSchema,
});
export type WellpulsePushResponse = z.infer<typeof pushResponseSchema>;

/** How a sent-back `lastSync` names an instant: epoch ms; `exact` false when it has digits below the millisecond. */
export interface LastSyncInstant {
  ms: number;
  /** The instant is a whole millisecond, as every `lastSyncTimestamp` this server issues is. */
  exact: boolean;
}

/**
 * Reads a `lastSync` the client sends back: an RFC 3339 date-time in any form of the same instant — `Z` or a
 * `±hh:mm` offset, any number of fraction digits (`.5Z`, `.500Z`, `.500000000Z`, none), a lower-case `t`/`z`
 * — and a `+` offset sent unencoded in the query string, which arrives as a space. Undefined when it is none.
 */
export function lastSyncInstant(text: string): LastSyncInstant | undefined {
  const normal = text.replace(/ (\d{2}:\d{2})$/, '+$1');
  if (!isoDateTimeSchema.safeParse(normal).success) return undefined;
  const ms = Date.parse(normal.toUpperCase());
  if (!Number.isFinite(ms)) return undefined;
  const fraction = /\.(\d+)/.exec(normal)?.[1] ?? '';
  return { ms, exact: !/[1-9]/.test(fraction.slice(3)) };
}

/** GET /sync/pull query: the document's planned `lastSync` delta, and (our addition) the device's id. */
export const pullQuerySchema = z.object({
  lastSync: z
    .string()
    .max(64)
    .refine((text) => lastSyncInstant(text) !== undefined, {
      message: 'must be an ISO 8601 date-time with Z or an offset, e.g. 2025-10-25T14:30:00.000Z',
    })
    .optional()
    .meta({ format: 'date-time' })
    .describe(
      'The `lastSyncTimestamp` of an earlier pull, sent back (as received, or re-serialised: any form of the ' +
        'same instant, e.g. `…00.120Z`, `…00.12Z`, `…00.120+00:00`): only what changed since comes, nothing ' +
        'skipped (a well that left ACTIVE comes with its new status). A time this server did not issue (or ' +
        'no longer keeps) gets what changed from 15 minutes before it; one older than the change history ' +
        '(30 days by default) gets the full set.',
    ),
  deviceId: deviceIdSchema
    .optional()
    .describe(
      "Optional: the device's id (as pushed); the pull is then recorded on it, so GET /sync/status can " +
        'count what it has not pulled yet',
    ),
});

export const wellpulseWellSchema = z.object({
  id: z.string(),
  name: z.string(),
  apiNumber: z.string(),
  latitude: z.number(),
  longitude: z.number(),
  status: z.enum(['ACTIVE', 'INACTIVE', 'PLUGGED']),
  lease: z.string().nullable(),
  field: z.string().nullable(),
  operator: z.string().nullable(),
});

export const wellpulseUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(['OPERATOR', 'MANAGER', 'ADMIN']),
});

/** GET /sync/pull answer (document "Response"). */
export const pullResponseSchema = z.object({
  wells: z.array(wellpulseWellSchema),
  users: z.array(wellpulseUserSchema),
  lastSyncTimestamp: z
    .string()
    // Exactly what Date#toISOString writes: what every strict parser reads (nothing below the millisecond).
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
    .meta({ format: 'date-time' })
    .describe(
      'When this pull began, an ISO 8601 time in UTC to the millisecond (`YYYY-MM-DDTHH:mm:ss.sssZ`; a ' +
        'millisecond later when this device already had one at that instant). The server keeps the position ' +
        'in the change log this answer reached under it: send it back as `lastSync` (any form of the same ' +
        'instant) to get only what changed since',
    ),
  tenantId: z.string(),
});
export type WellpulsePullResponse = z.infer<typeof pullResponseSchema>;

export const statusQuerySchema = z.object({ deviceId: deviceIdSchema });

/** GET /sync/status answer (document "Sync Status" "Response"). */
export const statusResponseSchema = z.object({
  deviceId: z.string(),
  lastSyncAt: isoDateTimeSchema
    .nullable()
    .describe(
      "The device's last successful sync: the later of its last pull (with `deviceId`) and the moment its " +
        'pushed entries were all processed; null when it has done neither',
    ),
  pendingEntries: z.number().int().min(0),
});
export type WellpulseStatusResponse = z.infer<typeof statusResponseSchema>;
