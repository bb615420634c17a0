import {
  MAX_STATS_BUCKETS,
  MAX_STATS_RANGE_DAYS,
  type StatsBucket,
  type SyncStats,
  type SyncStatsQuery,
} from '../contracts/manager.js';
import { type FieldError, ValidationError } from '../errors.js';
import type { SyncStatsData, SyncStatsFilter, SyncStatsStore } from './ports/stats.js';
import type { Tenant } from './ports/tenancy.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * How many UTC buckets cover [from, to): from the one holding `from` (date_trunc) to the one holding the last
 * instant before `to` — what the stats statement's generate_series makes.
 */
export function bucketCount(from: Date, to: Date, bucket: 'hour' | 'day'): number {
  const size = bucket === 'hour' ? HOUR_MS : DAY_MS;
  const first = Math.floor(from.getTime() / size) * size;
  return Math.ceil((to.getTime() - first) / size);
}
/** A `to` this far ahead of the server clock is taken as "now" (client clocks drift); further is refused. */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

/** The time range and filters of a stats request, checked: from < to ≤ now, at most 92 days. */
export function statsFilter(query: SyncStatsQuery, now: Date): SyncStatsFilter {
  const errors: FieldError[] = [];
  let to = query.to ? new Date(query.to) : now;
  if (to.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) {
    errors.push({ path: 'to', message: 'must not be in the future' });
  } else if (to > now) {
    to = now;
  }
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - DAY_MS);
  if (from >= to) errors.push({ path: 'from', message: 'must be before `to`' });
  else if (to.getTime() - from.getTime() > MAX_STATS_RANGE_DAYS * DAY_MS) {
    errors.push({ path: 'from', message: `the range must not exceed ${MAX_STATS_RANGE_DAYS} days` });
  }
  if (errors.length === 0 && query.bucket) {
    const buckets = bucketCount(from, to, query.bucket);
    if (buckets > MAX_STATS_BUCKETS) {
      errors.push({
        path: 'bucket',
        message: `[from, to) spans ${buckets} ${query.bucket} buckets, more than ${MAX_STATS_BUCKETS}: use bucket=day or a shorter range`,
      });
    }
  }
  if (errors.length > 0) throw new ValidationError('the query string is invalid', errors);
  return {
    from,
    to,
    userId: query.userId,
    deviceId: query.deviceId,
    eventType: query.eventType,
    collection: query.collection,
    bucket: query.bucket,
  };
}

const round = (value: number | null) => (value === null ? null : Math.round(value));

type Figures = Pick<SyncStatsData, 'byStatus' | 'duplicatesAtPush' | 'rejectedAtPush'>;

/**
 * Counts by outcome of raw figures: the event log's statuses plus what the push refused or found known; `total`
 * and syncRate = (applied + duplicate + conflict) / (total − pending), null when nothing settled.
 */
function outcome(data: Figures) {
  const n = (status: string) => data.byStatus[status] ?? 0;
  const counts = {
    pending: n('PENDING'),
    applied: n('APPLIED'),
    duplicate: n('DUPLICATE') + data.duplicatesAtPush,
    conflict: n('CONFLICT'),
    rejected: n('REJECTED') + data.rejectedAtPush,
    failed: n('FAILED'),
  };
  const total = Object.values(counts).reduce((sum, c) => sum + c, 0);
  const decided = total - counts.pending;
  const succeeded = counts.applied + counts.duplicate + counts.conflict;
  return {
    total,
    counts,
    syncRate: decided > 0 ? Math.round((succeeded / decided) * 10_000) / 10_000 : null,
  };
}

/**
 * Sync statistics of a tenant over [from, to) by received time. Counts cover every outcome of every event
 * pushed in the range: the event log's statuses plus what the push itself refused (invalid events, reused
 * ids) or found already known (duplicates) — those two are left out with an eventType or collection filter (a
 * batch's refusals carry no type). syncRate = (applied + duplicate + conflict) / (total − pending): of the events
 * whose fate is decided, the share whose data is in the tenant database (a conflict's event is merged by its
 * strategy; a duplicate was already there). Latencies are over events settled by the processor (every status but
 * PENDING and FAILED). With `bucket`, `series` gives the same per UTC hour or day (SPEC v1.1 "Managers' console"),
 * its latencyMs the receivedToApplied percentiles of the bucket; one SQL statement either way. Errors:
 * ValidationError (range, bucket cap) with the parameter's path.
 */
export async function getSyncStats(
  deps: { stats: SyncStatsStore },
  tenant: Tenant,
  query: SyncStatsQuery,
  now: Date = new Date(),
): Promise<SyncStats> {
  const filter = statsFilter(query, now);
  const data = await deps.stats.syncStats(tenant, filter);
  const series = data.series?.map((b): StatsBucket => ({
    start: b.start.toISOString(),
    ...outcome(b),
    latencyMs: { p50: round(b.receivedToAppliedMs.p50), p95: round(b.receivedToAppliedMs.p95) },
  }));
  return {
    from: filter.from.toISOString(),
    to: filter.to.toISOString(),
    userId: filter.userId ?? null,
    deviceId: filter.deviceId ?? null,
    eventType: filter.eventType ?? null,
    collection: filter.collection ?? null,
    bucket: filter.bucket ?? null,
    ...outcome(data),
    latencyMs: {
      occurredToApplied: {
        p50: round(data.occurredToAppliedMs.p50),
        p95: round(data.occurredToAppliedMs.p95),
      },
      receivedToApplied: {
        p50: round(data.receivedToAppliedMs.p50),
        p95: round(data.receivedToAppliedMs.p95),
      },
      samples: data.settled,
    },
    ...(series ? { series } : {}),
    generatedAt: now.toISOString(),
  };
}
