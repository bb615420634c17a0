import type pg from 'pg';
import type { DeviceCounts } from '../../usecases/ports/devices.js';
import type { SyncStatsData, SyncStatsFilter, SyncStatsStore } from '../../usecases/ports/stats.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import { guardPostgres } from './connection.js';

interface DeviceCountsRow {
  device_id: string;
  pending: number;
  failed: number;
  open_conflicts: number;
  conflicts_lost: number;
  conflicts_won: number;
  conflicts_held: number;
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
 * conflicts in which one of the device's events is either side (`event_id`, the client side, or `other_event_id`,
 * the side the record held), split by where the device stands, and photos by status. sync_events has no index on
 * status (settling an event must stay a HOT update), so the event counts of all devices read the table once, in
 * parallel (docs/operations.md shows the plan). The conflict sides read the OPEN conflicts (the managers' inbox,
 * an index on status: conflicts_status_idx or the partial conflicts_open_event_idx) and join each side's event by primary key, so they cost
 * the size of the inbox whatever the device; a device on both sides of one conflict counts it once, as the
 * client side.
 *
 * Where the device stands (docs/architecture.md "Review states", "Both sides"): `held` — MANUAL holds the
 * conflict (PENDING_REVIEW) for a manager; `won` — the record holds the device's value (its event was the
 * client side and CLIENT_WINS overwrote the other, or it was the other side and the strategy kept it); `lost` —
 * otherwise (SERVER_WINS or MERGED against its client-side event, or CLIENT_WINS overwrote its value).
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
), open_sides as (
  select distinct on (e.device_id, c.id) e.device_id, c.resolution, side.client
  from conflicts c
    cross join lateral (values (c.event_id, true), (c.other_event_id, false)) as side(event_id, client)
    join sync_events e on e.id = side.event_id
  where c.status = 'OPEN'${and('e.device_id')}
  order by e.device_id, c.id, side.client desc
), open_conflicts as (
  select device_id, count(*)::int as open_conflicts,
         count(*) filter (where resolution <> 'PENDING_REVIEW'
                            and client <> (resolution = 'CLIENT_WINS'))::int as conflicts_lost,
         count(*) filter (where resolution <> 'PENDING_REVIEW'
                            and client = (resolution = 'CLIENT_WINS'))::int as conflicts_won,
         count(*) filter (where resolution = 'PENDING_REVIEW')::int as conflicts_held
  from open_sides
  group by device_id
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
       coalesce(c.conflicts_lost, 0) as conflicts_lost,
       coalesce(c.conflicts_won, 0) as conflicts_won,
       coalesce(c.conflicts_held, 0) as conflicts_held,
       coalesce(p.photos_awaiting, 0) as photos_awaiting,
       coalesce(p.photos_attached, 0) as photos_attached
from events e
  full join open_conflicts c using (device_id)
  full join photo_counts p using (device_id)`;
};

/** Settled by the processor: the latency sample. */
const SETTLED = `status not in ('PENDING', 'FAILED') and applied_at is not null`;

/**
 * The collection an event writes, in SQL over sync_events (the `collection` filter of the stats): a record event's
 * `collection`; a photo or note on a record, its target's collection; the v1 events and the photos and notes on v1
 * entities, their oil-gas builtin (production, well_equipment, wells).
 */
export const eventCollectionSql = `case
    when type in ('RECORD_CREATED', 'RECORD_UPDATED', 'RECORD_DELETED') then payload ->> 'collection'
    when type = 'PRODUCTION_LOGGED' then 'production'
    when type in ('EQUIPMENT_UPDATED', 'EQUIPMENT_INSPECTED', 'MAINTENANCE_LOGGED') then 'well_equipment'
    when type = 'WELL_READING_RECORDED' then 'wells'
    else case payload -> 'target' ->> 'type'
      when 'RECORD' then payload -> 'target' ->> 'collection'
      when 'WELL' then 'wells'
      when 'PRODUCTION' then 'production'
      when 'EQUIPMENT' then 'well_equipment'
      when 'INSPECTION' then 'well_equipment'
      when 'MAINTENANCE' then 'well_equipment'
    end
  end`;

/** Which filters a stats statement is written for (the values go in as parameters, in this order). */
export interface StatsSqlShape {
  userId: boolean;
  deviceId: boolean;
  eventType?: boolean;
  collection?: boolean;
  bucket?: boolean;
}

/** The parameters of syncStatsSql, in the order its placeholders expect. */
export const syncStatsParams = (filter: SyncStatsFilter): unknown[] => [
  filter.from,
  filter.to,
  ...(filter.userId ? [filter.userId] : []),
  ...(filter.deviceId ? [filter.deviceId] : []),
  ...(filter.eventType ? [filter.eventType] : []),
  ...(filter.collection ? [filter.collection] : []),
  ...(filter.bucket ? [filter.bucket, filter.bucket === 'hour' ? '1 hour' : '24 hours'] : []),
];

/**
 * Statistics of the events received in [$1, $2), of one user and/or device, event type or collection when given,
 * in one statement: the predicates are written out only for the filters given, so the planner always sees which
 * index fits — (received_at), (user_id, received_at) or (device_id, received_at) — whatever the plan cache
 * does (type and collection are checked on the rows of the range). Latency percentiles in SQL (percentile_cont)
 * over events the processor settled; date_part keeps them in double precision (extract() would sort numerics,
 * twice as slow). What the push refused or found already known is in sync_batches, counted over the same range
 * (left out with a type or collection filter: a batch's refusals carry neither). With a bucket, the same
 * statement adds the series: generate_series makes every UTC bucket from the one holding `from`, so empty
 * buckets appear with zero counts, each with its receivedToApplied percentiles; `series` is a JSON array.
 */
export const syncStatsSql = (filter: StatsSqlShape): string => {
  let n = 2;
  const where = ['received_at >= $1', 'received_at < $2'];
  if (filter.userId) where.push(`user_id = $${++n}`);
  if (filter.deviceId) where.push(`device_id = $${++n}`);
  const batchWhere = [...where];
  if (filter.eventType) where.push(`type = $${++n}`);
  if (filter.collection) where.push(`(${eventCollectionSql}) = $${++n}`);
  const typed = Boolean(filter.eventType || filter.collection);
  const latency = (from: string) =>
    `percentile_cont(array[0.5, 0.95]) within group (
           order by greatest(date_part('epoch', applied_at - ${from}), 0) * 1000) filter (where ${SETTLED})`;
  const counts = `count(*) filter (where status = 'PENDING')::int as pending,
         count(*) filter (where status = 'APPLIED')::int as applied,
         count(*) filter (where status = 'DUPLICATE')::int as duplicate,
         count(*) filter (where status = 'CONFLICT')::int as conflict,
         count(*) filter (where status = 'REJECTED')::int as rejected,
         count(*) filter (where status = 'FAILED')::int as failed`;
  const pushed = typed
    ? 'select null::timestamptz as received_at, 0 as rejected_at_push, 0 as duplicates_at_push where false'
    : `select received_at, jsonb_array_length(rejected) as rejected_at_push,
              jsonb_array_length(duplicates) as duplicates_at_push
       from sync_batches
       where ${batchWhere.join(' and ')}`;
  const head = `
with ev as (
  select status, received_at, occurred_at, applied_at
  from sync_events
  where ${where.join(' and ')}
), events as (
  select ${counts},
         count(*) filter (where ${SETTLED})::int as settled,
         ${latency('occurred_at')} as occurred_ms,
         ${latency('received_at')} as received_ms
  from ev
), pushed as (
  ${pushed}
), batches as (
  select coalesce(sum(rejected_at_push), 0)::int as rejected_at_push,
         coalesce(sum(duplicates_at_push), 0)::int as duplicates_at_push
  from pushed
)`;
  if (!filter.bucket)
    return `${head}
select * from events, batches`;
  const unit = `$${++n}`;
  const step = `$${++n}::interval`;
  const bucketOf = (column: string) => `date_trunc(${unit}, ${column}, 'UTC')`;
  return `${head}, buckets as (
  select generate_series(${bucketOf('$1::timestamptz')}, $2::timestamptz - interval '1 microsecond', ${step}) as start
), event_buckets as (
  select ${bucketOf('received_at')} as start, ${counts}, ${latency('received_at')} as received_ms
  from ev group by 1
), batch_buckets as (
  select ${bucketOf('received_at')} as start, sum(rejected_at_push)::int as rejected_at_push,
         sum(duplicates_at_push)::int as duplicates_at_push
  from pushed group by 1
)
select events.*, batches.*, (
  select coalesce(json_agg(json_build_object(
           'start', date_part('epoch', b.start) * 1000,
           'pending', coalesce(e.pending, 0), 'applied', coalesce(e.applied, 0),
           'duplicate', coalesce(e.duplicate, 0), 'conflict', coalesce(e.conflict, 0),
           'rejected', coalesce(e.rejected, 0), 'failed', coalesce(e.failed, 0),
           'rejected_at_push', coalesce(p.rejected_at_push, 0),
           'duplicates_at_push', coalesce(p.duplicates_at_push, 0),
           'received_ms', e.received_ms) order by b.start), '[]')
  from buckets b left join event_buckets e using (start) left join batch_buckets p using (start)
) as series
from events, batches`;
};

interface SeriesRow {
  start: number;
  pending: number;
  applied: number;
  duplicate: number;
  conflict: number;
  rejected: number;
  failed: number;
  rejected_at_push: number;
  duplicates_at_push: number;
  received_ms: number[] | null;
}

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
          openConflictsBySide: { lost: r.conflicts_lost, won: r.conflicts_won, held: r.conflicts_held },
          photos: { awaitingUpload: r.photos_awaiting, attached: r.photos_attached },
        },
      ]),
    );
  }

  async syncStats(tenant: Tenant, filter: SyncStatsFilter): Promise<SyncStatsData> {
    const sql = syncStatsSql({
      userId: Boolean(filter.userId),
      deviceId: Boolean(filter.deviceId),
      eventType: Boolean(filter.eventType),
      collection: Boolean(filter.collection),
      bucket: Boolean(filter.bucket),
    });
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<StatsRow & { series?: SeriesRow[] }>(sql, syncStatsParams(filter)),
    );
    const r = rows[0];
    const pct = (values: number[] | null | undefined) => ({
      p50: values?.[0] ?? null,
      p95: values?.[1] ?? null,
    });
    const byStatus = (c: Omit<StatsRow, 'settled' | 'occurred_ms' | 'received_ms'> | undefined) => ({
      PENDING: c?.pending ?? 0,
      APPLIED: c?.applied ?? 0,
      DUPLICATE: c?.duplicate ?? 0,
      CONFLICT: c?.conflict ?? 0,
      REJECTED: c?.rejected ?? 0,
      FAILED: c?.failed ?? 0,
    });
    return {
      byStatus: byStatus(r),
      rejectedAtPush: r?.rejected_at_push ?? 0,
      duplicatesAtPush: r?.duplicates_at_push ?? 0,
      settled: r?.settled ?? 0,
      occurredToAppliedMs: pct(r?.occurred_ms),
      receivedToAppliedMs: pct(r?.received_ms),
      ...(filter.bucket
        ? {
            series: (r?.series ?? []).map((b) => ({
              start: new Date(b.start),
              byStatus: byStatus(b),
              rejectedAtPush: b.rejected_at_push,
              duplicatesAtPush: b.duplicates_at_push,
              receivedToAppliedMs: pct(b.received_ms),
            })),
          }
        : {}),
    };
  }
}
