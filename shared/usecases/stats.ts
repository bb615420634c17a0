import { MAX_STATS_RANGE_DAYS, type SyncStats, type SyncStatsQuery } from '../contracts/manager.js';
import { type FieldError, ValidationError } from '../errors.js';
import type { SyncStatsFilter, SyncStatsStore, Tenant } from '../ports.js';

const DAY_MS = 86_400_000;
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
  if (errors.length > 0) throw new ValidationError('the query string is invalid', errors);
  return { from, to, userId: query.userId, deviceId: query.deviceId };
}

const round = (value: number | null) => (value === null ? null : Math.round(value));

/**
 * Sync statistics of a tenant over [from, to) by received time. Counts cover every outcome of every event
 * pushed in the range: the event log's statuses plus what the push itself refused (invalid events, reused
 * ids) or found already known (duplicates). syncRate = (applied + duplicate + conflict) / (total − pending):
 * of the events whose fate is decided, the share whose data is in the tenant database (a conflict's event is
 * merged by its strategy; a duplicate was already there). Latencies are over events settled by the
 * processor (every status but PENDING and FAILED).
 */
export async function getSyncStats(
  deps: { stats: SyncStatsStore },
  tenant: Tenant,
  query: SyncStatsQuery,
  now: Date = new Date(),
): Promise<SyncStats> {
  const filter = statsFilter(query, now);
  const data = await deps.stats.syncStats(tenant, filter);
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
    from: filter.from.toISOString(),
    to: filter.to.toISOString(),
    userId: filter.userId ?? null,
    deviceId: filter.deviceId ?? null,
    total,
    counts,
    syncRate: decided > 0 ? Math.round((succeeded / decided) * 10_000) / 10_000 : null,
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
    generatedAt: now.toISOString(),
  };
}
