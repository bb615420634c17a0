import type pg from 'pg';
import type { DeviceCounts, SyncStatsData, SyncStatsFilter, SyncStatsStore, Tenant } from '../../ports.js';
import { guardPostgres } from './connection.js';

interface DeviceCountsRow {
  device_id: string;
  pending: number;
  failed: number;
  open_conflicts: number;
  photos_awaiting: number;
  photos_attached: number;
}

interface StatsRow {
  pending: number;
  applied: number;
  duplicate: number;
  conflict: number;
  rejected: number;
  failed: number;
  settled: number;
  occurred_ms: number[] | null;
  received_ms: number[] | null;
  rejected_at_push: number;
  duplicates_at_push: number;
}

/**
 * Counts of every device (or of one: `filter` names it) in one statement: PENDING/FAILED events, OPEN
 * conflicts raised by the device's events, photos by status. sync_events has no index on status (settling an
 * event must stay a HOT update), so the event counts of all devices read the table once, in parallel
 * (docs/operations.md shows the plan).
 */
export const deviceCountsSql = (oneDevice: boolean): string => {
  const and = (column: string) => (oneDevice ? ` and ${column} = $1` : '');
  return `
with events as (
  select device_id,
         count(*) filter (where status = 'PENDING')::int as pending,
         count(*) filter (where status = 'FAILED')::int as failed
  from sync_events
  where status in ('PENDING', 'FAILED')${and('device_id')}
  group by device_id
), open_conflicts as (
  select e.device_id, count(*)::int as open_conflicts
  from conflicts c join sync_events e on e.id = c.event_id
  where c.status = 'OPEN'${and('e.device_id')}
  group by e.device_id
), photo_counts as (
  select device_id,
         count(*) filter (where status = 'AWAITING_UPLOAD')::int as photos_awaiting,
         count(*) filter (where status = 'ATTACHED')::int as photos_attached
  from photos
  where true${and('device_id')}
  group by device_id
)
select device_id,
       coalesce(e.pending, 0) as pending,
       coalesce(e.failed, 0) as failed,
       coalesce(c.open_conflicts, 0) as open_conflicts,
       coalesce(p.photos_awaiting, 0) as photos_awaiting,
       coalesce(p.photos_attached, 0) as photos_attached
from events e
  full join open_conflicts c using (device_id)
  full join photo_counts p using (device_id)`;
};

/** Settled by the processor: the latency sample. */
const SETTLED = `status not in ('PENDING', 'FAILED') and applied_at is not null`;

/**
 * Statistics of the events received in [$1, $2), of one user and/or device when given, in one pass over
 * the range: the predicates are written out only for the filters given, so the planner always sees which
 * index fits — (received_at), (user_id, received_at) or (device_id, received_at) — whatever the plan cache
 * does. Latency percentiles in SQL (percentile_cont) over events the processor settled; date_part keeps
 * them in double precision (extract() would sort numerics, twice as slow). What the push refused or found
 * already known is in sync_batches, counted over the same range.
 */
export const syncStatsSql = (filter: { userId: boolean; deviceId: boolean }): string => {
  const where = [
    'received_at >= $1',
    'received_at < $2',
    ...(filter.userId ? ['user_id = $3'] : []),
    ...(filter.deviceId ? [`device_id = $${filter.userId ? 4 : 3}`] : []),
  ].join(' and ');
  const latency = (from: string) =>
    `percentile_cont(array[0.5, 0.95]) within group (
           order by greatest(date_part('epoch', applied_at - ${from}), 0) * 1000) filter (where ${SETTLED})`;
  return `
with events as (
  select count(*) filter (where status = 'PENDING')::int as pending,
         count(*) filter (where status = 'APPLIED')::int as applied,
         count(*) filter (where status = 'DUPLICATE')::int as duplicate,
         count(*) filter (where status = 'CONFLICT')::int as conflict,
         count(*) filter (where status = 'REJECTED')::int as rejected,
         count(*) filter (where status = 'FAILED')::int as failed,
         count(*) filter (where ${SETTLED})::int as settled,
         ${latency('occurred_at')} as occurred_ms,
         ${latency('received_at')} as received_ms
  from sync_events
  where ${where}
), batches as (
  select coalesce(sum(jsonb_array_length(rejected)), 0)::int as rejected_at_push,
         coalesce(sum(jsonb_array_length(duplicates)), 0)::int as duplicates_at_push
  from sync_batches
  where ${where}
)
select * from events, batches`;
};

/** Managers' aggregates over a tenant's event log. Read-only. */
export class PostgresStatsStore implements SyncStatsStore {
  constructor(private readonly poolFor: (tenant: Tenant) => pg.Pool) {}

  async deviceCounts(tenant: Tenant, deviceId?: string): Promise<Map<string, DeviceCounts>> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<DeviceCountsRow>(
        deviceCountsSql(deviceId !== undefined),
        deviceId === undefined ? [] : [deviceId],
      ),
    );
    return new Map(
      rows.map((r) => [
        r.device_id,
        {
          pendingEvents: r.pending,
          failedEvents: r.failed,
          openConflicts: r.open_conflicts,
          photos: { awaitingUpload: r.photos_awaiting, attached: r.photos_attached },
        },
      ]),
    );
  }

  async syncStats(tenant: Tenant, filter: SyncStatsFilter): Promise<SyncStatsData> {
    const sql = syncStatsSql({ userId: Boolean(filter.userId), deviceId: Boolean(filter.deviceId) });
    const params = [filter.from, filter.to, ...(filter.userId ? [filter.userId] : [])];
    if (filter.deviceId) params.push(filter.deviceId);
    const { rows } = await guardPostgres(() => this.poolFor(tenant).query<StatsRow>(sql, params));
    const r = rows[0];
    const pct = (values: number[] | null | undefined) => ({
      p50: values?.[0] ?? null,
      p95: values?.[1] ?? null,
    });
    return {
      byStatus: {
        PENDING: r?.pending ?? 0,
        APPLIED: r?.applied ?? 0,
        DUPLICATE: r?.duplicate ?? 0,
        CONFLICT: r?.conflict ?? 0,
        REJECTED: r?.rejected ?? 0,
        FAILED: r?.failed ?? 0,
      },
      rejectedAtPush: r?.rejected_at_push ?? 0,
      duplicatesAtPush: r?.duplicates_at_push ?? 0,
      settled: r?.settled ?? 0,
      occurredToAppliedMs: pct(r?.occurred_ms),
      receivedToAppliedMs: pct(r?.received_ms),
    };
  }
}
