import { z } from 'zod';
import { MANAGER_ROLES } from '../auth/principal.js';
import { isoDateTimeSchema } from './common.js';
import { collectionNameSchema, deviceIdSchema, EVENT_TYPES } from './events.js';
import { defineRoute, problem } from './route.js';
import { deviceStatusSchema } from './sync.js';
import { outcomeCountsSchema } from './sync.js';

/** Managers' read routes: every device's sync status, and sync statistics over a time range. */

/** The longest range GET /v1/sync/stats accepts. */
export const MAX_STATS_RANGE_DAYS = 92;
/** The most buckets a series may have: 92 days of hours (a range not on the hour spans one more: refused). */
export const MAX_STATS_BUCKETS = 24 * MAX_STATS_RANGE_DAYS;
export const STATS_BUCKETS = ['hour', 'day'] as const;
export const DEFAULT_STALE_AFTER_HOURS = 24;

export const listDevicesQuerySchema = z.object({
  staleAfterHours: z.coerce
    .number()
    .positive()
    .max(8760)
    .default(DEFAULT_STALE_AFTER_HOURS)
    .describe('A device is stale when its last sync (or, never synced, its last push) is older than this'),
});

export const deviceListItemSchema = deviceStatusSchema.extend({
  stale: z.boolean().describe('lastSyncAt (or lastPushAt when never synced) is older than staleAfterHours'),
});
export type DeviceListItem = z.infer<typeof deviceListItemSchema>;

export const deviceListSchema = z.object({
  devices: z.array(deviceListItemSchema),
  staleAfterHours: z.number(),
  generatedAt: isoDateTimeSchema,
});
export type DeviceList = z.infer<typeof deviceListSchema>;

export const syncStatsQuerySchema = z.object({
  from: isoDateTimeSchema
    .optional()
    .describe('Inclusive, by the time the server received the events; default to − 24 h'),
  to: isoDateTimeSchema.optional().describe('Exclusive; default now; not in the future'),
  userId: z.string().min(1).max(256).optional(),
  deviceId: deviceIdSchema.optional(),
  eventType: z.enum(EVENT_TYPES).optional().describe('Events of this type only'),
  collection: collectionNameSchema
    .optional()
    .describe(
      'Events writing this collection only: a record event’s collection, a photo or note’s target, the v1 events’ oil-gas builtin (production, well_equipment, wells)',
    ),
  bucket: z
    .enum(STATS_BUCKETS)
    .optional()
    .describe(
      `Adds \`series\`: one entry per UTC hour or day from the one holding \`from\` (at most ${MAX_STATS_BUCKETS} buckets)`,
    ),
});
export type SyncStatsQuery = z.infer<typeof syncStatsQuerySchema>;

const percentilesSchema = z.object({ p50: z.number().nullable(), p95: z.number().nullable() });

/** One bucket of a stats series (SPEC v1.1 "Managers' console": `{start, counts, syncRate, latencyMs: {p50, p95}}`). */
export const statsBucketSchema = z.object({
  start: isoDateTimeSchema.describe(
    'UTC start of the bucket (on the hour, or midnight); it covers [start, start + 1 h or 24 h) within [from, to)',
  ),
  total: z.number().int(),
  counts: outcomeCountsSchema,
  syncRate: z
    .number()
    .nullable()
    .describe('As the totals’ syncRate, over the bucket; null when none settled'),
  latencyMs: percentilesSchema.describe(
    'receivedToApplied percentiles (ms) of the bucket’s events settled by the processor; null when none',
  ),
});
export type StatsBucket = z.infer<typeof statsBucketSchema>;

export const syncStatsSchema = z.object({
  from: isoDateTimeSchema,
  to: isoDateTimeSchema,
  userId: z.string().nullable(),
  deviceId: z.string().nullable(),
  /** Every event outcome counted below. */
  total: z.number().int(),
  counts: outcomeCountsSchema,
  syncRate: z
    .number()
    .nullable()
    .describe(
      '(applied + duplicate + conflict) / (total − pending): the share of settled events that reached the tenant data; null when none settled',
    ),
  latencyMs: z.object({
    occurredToApplied: percentilesSchema,
    receivedToApplied: percentilesSchema,
    /** Events the percentiles are computed over: settled by the processor (not PENDING, not FAILED). */
    samples: z.number().int(),
  }),
  eventType: z.enum(EVENT_TYPES).nullable(),
  collection: z.string().nullable(),
  bucket: z.enum(STATS_BUCKETS).nullable(),
  series: z
    .array(statsBucketSchema)
    .optional()
    .describe(
      'With `bucket` only: every bucket of [from, to) in order, empty ones with zero counts; the counts sum to the totals above',
    ),
  generatedAt: isoDateTimeSchema,
});
export type SyncStats = z.infer<typeof syncStatsSchema>;

const managerProblems = {
  400: problem('The query is invalid; `errors` lists the parameters at fault'),
  401: problem('No token, or the token is invalid, expired or for another issuer or audience'),
  403: problem('Managers (MANAGER, ADMIN) only, or the tenant is not provisioned or not yours'),
  429: problem('Too many requests; retry after the Retry-After header'),
  503: problem('A dependency is unavailable; retry after the Retry-After header'),
};

export const listDevicesRoute = defineRoute({
  name: 'listDevices',
  method: 'GET',
  route: 'v1/devices',
  summary: "Every device's sync status, with a stale flag",
  tags: ['manager'],
  access: MANAGER_ROLES,
  query: listDevicesQuerySchema,
  responses: {
    200: { description: 'Every device of the tenant', schema: deviceListSchema },
    ...managerProblems,
  },
});

export const syncStatsRoute = defineRoute({
  name: 'syncStats',
  method: 'GET',
  route: 'v1/sync/stats',
  summary:
    'Counts by outcome, sync rate and latency percentiles of the events received in [from, to) ' +
    `(default: the last 24 h; at most ${MAX_STATS_RANGE_DAYS} days), optionally of one user, device, event type or ` +
    'collection; with `bucket=hour|day` also a series over UTC buckets',
  tags: ['manager'],
  access: MANAGER_ROLES,
  query: syncStatsQuerySchema,
  responses: { 200: { description: 'Statistics', schema: syncStatsSchema }, ...managerProblems },
});
