import { z } from 'zod';
import { MANAGER_ROLES } from '../auth/principal.js';
import { isoDateTimeSchema } from './common.js';
import { deviceIdSchema } from './events.js';
import { defineRoute, problem } from './route.js';
import { deviceStatusSchema } from './sync.js';
import { outcomeCountsSchema } from './sync.js';

/** Managers' read routes: every device's sync status, and sync statistics over a time range. */

/** The longest range GET /v1/sync/stats accepts. */
export const MAX_STATS_RANGE_DAYS = 92;
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
});
export type SyncStatsQuery = z.infer<typeof syncStatsQuerySchema>;

const percentilesSchema = z.object({ p50: z.number().nullable(), p95: z.number().nullable() });

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
    `(default: the last 24 h; at most ${MAX_STATS_RANGE_DAYS} days), optionally of one user or device`,
  tags: ['manager'],
  access: MANAGER_ROLES,
  query: syncStatsQuerySchema,
  responses: { 200: { description: 'Statistics', schema: syncStatsSchema }, ...managerProblems },
});
