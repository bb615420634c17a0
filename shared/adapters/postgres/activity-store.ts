import type pg from 'pg';
import type { ActivityEvent, DeviceActivity, PhotoSummary } from '../../contracts/activity.js';
import type { ActivityStore } from '../../usecases/ports/activity.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import { guardPostgres } from './connection.js';

interface EventRow {
  id: string;
  batch_id: string;
  device_id: string;
  user_id: string;
  type: string;
  status: ActivityEvent['status'];
  occurred_at: Date;
  received_at: Date;
  applied_at: Date | null;
  attempts: number;
  error: ActivityEvent['error'];
  payload: Record<string, unknown>;
}

interface PhotoRow {
  id: string;
  status: PhotoSummary['status'];
  content_type: PhotoSummary['contentType'];
  target_type: string | null;
  target_id: string | null;
  taken_at: Date | null;
  updated_at: Date;
}

const EVENT_COLUMNS = `id, batch_id, device_id, user_id, type, status, occurred_at, received_at, applied_at, attempts,
  error, payload`;
const PHOTO_COLUMNS = 'id, status, content_type, target_type, target_id, taken_at, updated_at';

const toEvent = (r: EventRow): ActivityEvent => ({
  eventId: r.id,
  batchId: r.batch_id,
  deviceId: r.device_id,
  userId: r.user_id,
  type: r.type,
  status: r.status,
  occurredAt: r.occurred_at.toISOString(),
  receivedAt: r.received_at.toISOString(),
  appliedAt: r.applied_at?.toISOString() ?? null,
  attempts: r.attempts,
  error: r.error,
  payload: r.payload,
});

const toPhoto = (r: PhotoRow): PhotoSummary => ({
  photoId: r.id,
  status: r.status,
  contentType: r.content_type,
  target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
  takenAt: r.taken_at?.toISOString() ?? null,
  updatedAt: r.updated_at.toISOString(),
});

/**
 * The console's reads (shared/contracts/activity.ts). Each list is one statement on an index: batches by
 * (device_id, received_at desc), a device's events and photos by their device_id indexes.
 */
export class PostgresActivityStore implements ActivityStore {
  constructor(private readonly poolFor: (tenant: Tenant) => pg.Pool) {}

  async deviceActivity(tenant: Tenant, deviceId: string, limit: number): Promise<DeviceActivity> {
    const pool = this.poolFor(tenant);
    const [batches, failed, photos] = await guardPostgres(() =>
      Promise.all([
        // Counts per batch: its events' statuses, plus what the push itself refused or already had.
        pool.query<{
          id: string;
          user_id: string;
          received_at: Date;
          total: number;
          counts: Record<string, number>;
        }>(
          `select b.id, b.user_id, b.received_at, b.total,
                  jsonb_build_object(
                    'pending', count(e.id) filter (where e.status = 'PENDING'),
                    'applied', count(e.id) filter (where e.status = 'APPLIED'),
                    'duplicate', count(e.id) filter (where e.status = 'DUPLICATE')
                                 + jsonb_array_length(b.duplicates),
                    'conflict', count(e.id) filter (where e.status = 'CONFLICT'),
                    'rejected', count(e.id) filter (where e.status = 'REJECTED')
                                + jsonb_array_length(b.rejected),
                    'failed', count(e.id) filter (where e.status = 'FAILED')) as counts
           from (select * from sync_batches where device_id = $1 order by received_at desc limit $2) b
             left join sync_events e on e.batch_id = b.id
           group by b.id, b.user_id, b.received_at, b.total, b.duplicates, b.rejected
           order by b.received_at desc`,
          [deviceId, limit],
        ),
        pool.query<EventRow>(
          `select ${EVENT_COLUMNS} from sync_events
           where device_id = $1
             and (status = 'FAILED' or (status = 'REJECTED' and (error->>'retryable')::boolean))
           order by received_at desc limit $2`,
          [deviceId, limit],
        ),
        pool.query<PhotoRow>(
          `select ${PHOTO_COLUMNS} from photos where device_id = $1 order by updated_at desc limit $2`,
          [deviceId, limit],
        ),
      ]),
    );
    return {
      deviceId,
      batches: batches.rows.map((r) => ({
        batchId: r.id,
        userId: r.user_id,
        receivedAt: r.received_at.toISOString(),
        counts: {
          total: r.total,
          pending: Number(r.counts.pending ?? 0),
          applied: Number(r.counts.applied ?? 0),
          duplicate: Number(r.counts.duplicate ?? 0),
          conflict: Number(r.counts.conflict ?? 0),
          rejected: Number(r.counts.rejected ?? 0),
          failed: Number(r.counts.failed ?? 0),
        },
      })),
      failedEvents: failed.rows.map(toEvent),
      photos: photos.rows.map(toPhoto),
    };
  }

  async events(tenant: Tenant, ids: string[]): Promise<ActivityEvent[]> {
    if (ids.length === 0) return [];
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<EventRow>(
        `select ${EVENT_COLUMNS} from sync_events where id = any($1::uuid[]) order by received_at`,
        [ids],
      ),
    );
    return rows.map(toEvent);
  }

  async photosOf(
    tenant: Tenant,
    target: { type: string; id: string },
    limit: number,
  ): Promise<PhotoSummary[]> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<PhotoRow>(
        // A production record is named `wellId|productionDate` in conflicts (shared/sync/plan-chunk.ts
        // productionKey) and by its row id in photo targets: both are matched.
        `select ${PHOTO_COLUMNS} from photos
         where status = 'ATTACHED'
           and ((target_type = $1 and target_id = $2)
             or ($1 = 'PRODUCTION' and target_type = 'PRODUCTION' and target_id in (
                   select id::text from production_records
                   where well_id = split_part($2, '|', 1) and production_date::text = split_part($2, '|', 2))))
         order by updated_at desc limit $3`,
        [target.type, target.id, limit],
      ),
    );
    return rows.map(toPhoto);
  }
}
