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
 * Counts of every device in one statement: PENDING/FAILED events, OPEN conflicts raised by the device's
 * events, photos by status. sync_events has no index on status (settling an event must stay a HOT update),
 * so the event counts read the table once for all devices (docs/operations.md shows the plan).
 */
export const DEVICE_COUNTS_SQL = `
with events as (
  select device_id,
         count(*) filter (where status = 'PENDING')::int as pending,
         count(*) filter (where status = 'FAILED')::int as failed
  from sync_events
  where status in ('PENDING', 'FAILED') and ($1::text is null or device_id = $1)
  group by device_id
), open_conflicts as (
  select e.device_id, count(*)::int as open_conflicts
  from conflicts c join sync_events e on e.id = c.event_id
  where c.status = 'OPEN' and ($1::text is null or e.device_id = $1)
  group by e.device_id
), photo_counts as (
  select device_id,
         count(*) filter (where status = 'AWAITING_UPLOAD')::int as photos_awaiting,
         count(*) filter (where status = 'ATTACHED')::int as photos_attached
  from photos
  where $1::text is null or device_id = $1
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

/**
 * Statistics of the events received in [$1, $2), optionally of one user ($3) or device ($4), in one pass
 * over the range (index on received_at, or (user_id, received_at) / (device_id, received_at)); latency
 * percentiles in SQL (percentile_cont), over events the processor settled. What the push refused or found
 * already known is in sync_batches, counted from the same range.
 */
export const SYNC_STATS_SQL = `
with events as (
  select count(*) filter (where status = 'PENDING')::int as pending,
         count(*) filter (where status = 'APPLIED')::int as applied,
         count(*) filter (where status = 'DUPLICATE')::int as duplicate,
         count(*) filter (where status = 'CONFLICT')::int as conflict,
         count(*) filter (where status = 'REJECTED')::int as rejected,
         count(*) filter (where status = 'FAILED')::int as failed,
         count(*) filter (where status not in ('PENDING', 'FAILED') and applied_at is not null)::int as settled,
         percentile_cont(array[0.5, 0.95]) within group (
           order by greatest(extract(epoch from applied_at - occurred_at), 0) * 1000)
           filter (where status not in ('PENDING', 'FAILED') and applied_at is not null) as occurred_ms,
         percentile_cont(array[0.5, 0.95]) within group (
           order by greatest(extract(epoch from applied_at - received_at), 0) * 1000)
           filter (where status not in ('PENDING', 'FAILED') and applied_at is not null) as received_ms
  from sync_events
  where received_at >= $1 and received_at < $2
    and ($3::text is null or user_id = $3)
    and ($4::text is null or device_id = $4)
), batches as (
  select coalesce(sum(jsonb_array_length(rejected)), 0)::int as rejected_at_push,
         coalesce(sum(jsonb_array_length(duplicates)), 0)::int as duplicates_at_push
  from sync_batches
  where received_at >= $1 and received_at < $2
    and ($3::text is null or user_id = $3)
    and ($4::text is null or device_id = $4)
)
select * from events, batches`;

/** Managers' aggregates over a tenant's event log. Read-only. */
export class PostgresStatsStore implements SyncStatsStore {
  constructor(private readonly poolFor: (tenant: Tenant) => pg.Pool) {}

  async deviceCounts(tenant: Tenant, deviceId?: string): Promise<Map<string, DeviceCounts>> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<DeviceCountsRow>(DEVICE_COUNTS_SQL, [deviceId ?? null]),
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
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<StatsRow>(SYNC_STATS_SQL, [
        filter.from,
        filter.to,
        filter.userId ?? null,
        filter.deviceId ?? null,
      ]),
    );
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
