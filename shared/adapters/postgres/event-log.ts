import type pg from 'pg';
import type { BatchOutcome, EventOutcome, EventStatus } from '../../contracts/sync.js';
import type {
  AcceptedEvent,
  AcceptResult,
  BatchHeader,
  CheckedPart,
  EventLog,
  OutboxEntry,
  OutboxMessage,
  PushSummary,
  RecordEventFilter,
  RecordEventRow,
  RetryFilter,
} from '../../usecases/ports/event-log.js';
import type { ChunkSelection } from '../../usecases/ports/chunks.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import type { EventRejection } from '../../sync/validate-event.js';
import { chunkCondition } from './chunk-selection.js';
import { guardPostgres } from './connection.js';
import { insertOutbox } from './outbox.js';
import { withTransaction } from './transaction.js';

interface EventRow {
  id: string;
  status: EventStatus;
  error: EventOutcome['error'] | null;
  conflict: EventOutcome['conflict'] | null;
  applied_at: Date | null;
}

interface BatchRow {
  id: string;
  device_id: string;
  user_id: string;
  received_at: Date;
  total: number;
  rejected: EventRejection[];
  duplicates: string[];
}

/**
 * Inserts events PENDING (those whose id is new) in one statement; returns the ids inserted. One JSON
 * document per statement: Postgres parses it in C, faster than array literals built in JS.
 */
async function insertEvents(
  client: pg.PoolClient,
  batch: BatchHeader,
  events: AcceptedEvent[],
): Promise<string[]> {
  const { rows } = await client.query<{ id: string }>(
    `insert into sync_events (id, batch_id, device_id, user_id, type, payload, location, payload_hash,
                              occurred_at, received_at, roles)
     select e.id, $1, $2, $3, e.type, e.payload, e.location, e.hash, e.occurred_at, $4, $6::text[]
     from jsonb_to_recordset($5::jsonb)
       as e(id uuid, type text, payload jsonb, location jsonb, hash text, occurred_at timestamptz)
     on conflict (id) do nothing
     returning id`,
    [
      batch.id,
      batch.deviceId,
      batch.userId,
      batch.receivedAt,
      JSON.stringify(
        events.map((e) => ({
          id: e.event.id,
          type: e.event.type,
          payload: e.event.payload,
          location: e.event.location ?? null,
          hash: e.hash,
          occurred_at: e.event.occurredAt,
        })),
      ),
      batch.roles ? [...batch.roles] : null,
    ],
  );
  return rows.map((r) => r.id);
}

/**
 * The event log in the tenant database. Every statement handles a whole batch, or a part of one at push
 * (usecases/push.ts ACCEPT_PART_SIZE events): no round trip per event.
 */
export class PostgresEventLog implements EventLog {
  constructor(private readonly poolFor: (tenant: Tenant) => pg.Pool) {}

  async acceptBatch(
    tenant: Tenant,
    batch: BatchHeader,
    parts: AsyncIterable<CheckedPart>,
    outbox: (acceptedIds: string[]) => OutboxMessage[],
  ): Promise<AcceptResult> {
    const source = parts[Symbol.asyncIterator]();
    // The first part is taken (checked) before a connection is: a push holds one only while Postgres has
    // something to write.
    const firstPart = await source.next();
    try {
      return await this.acceptParts(tenant, batch, firstPart, source, outbox);
    } finally {
      // Closes the parts' generator whatever happened (a no-op once it is done).
      await source.return?.().catch(() => undefined);
    }
  }

  private acceptParts(
    tenant: Tenant,
    batch: BatchHeader,
    firstPart: IteratorResult<CheckedPart>,
    source: AsyncIterator<CheckedPart>,
    outbox: (acceptedIds: string[]) => OutboxMessage[],
  ): Promise<AcceptResult> {
    return withTransaction(this.poolFor(tenant), async (client) => {
      // An id twice in one batch: the first occurrence is the event, a later one its duplicate or a reuse.
      const key = (e: AcceptedEvent) => e.event.id.toLowerCase();
      const firsts = new Map<string, AcceptedEvent>();
      const events: AcceptedEvent[] = [];
      const rejected: EventRejection[] = [];
      const acceptedIds = new Set<string>();
      // The part being written. Its statement runs while the loop takes (checks) the next part; the
      // connection gets one statement at a time, so the next waits for it. A catch is attached at once (a
      // failure met while the next part is checked is not an unhandled rejection; awaiting still throws),
      // and whatever fails, the statement in flight is waited for before the rollback is sent.
      let writing: Promise<void> = Promise.resolve();
      let next = firstPart;
      try {
        while (!next.done) {
          const part = next.value;
          rejected.push(...part.rejected);
          const fresh: AcceptedEvent[] = [];
          for (const e of part.accepted) {
            events.push(e);
            if (!firsts.has(key(e))) {
              firsts.set(key(e), e);
              fresh.push(e);
            }
          }
          await writing;
          if (fresh.length > 0) {
            writing = insertEvents(client, batch, fresh).then((ids) => {
              for (const id of ids) acceptedIds.add(id);
            });
            writing.catch(() => {});
          }
          next = await source.next();
        }
        await writing;
      } catch (error) {
        await writing.catch(() => {});
        throw error;
      }
      const notInserted = [...firsts.values()].filter((e) => !acceptedIds.has(key(e)));
      if (notInserted.length > 0) {
        // The same event pushed again (same id, body and device) after a retryable refusal (PHOTO_NOT_UPLOADED,
        // TARGET_NOT_FOUND, FAILED…) is taken again: PENDING, moved to this batch, whose outcome then shows it.
        // A plain UPDATE (not ON CONFLICT DO UPDATE) locks only those rows, never one a processor holds.
        const retaken = await client.query<{ id: string }>(
          `update sync_events s set batch_id = $1, received_at = $3, status = 'PENDING', error = null,
             conflict = null, applied_at = null, attempts = s.attempts + 1, roles = $5::text[]
           from jsonb_to_recordset($4::jsonb) as v(id uuid, hash text)
           where s.id = v.id and s.payload_hash = v.hash and s.device_id = $2
             and s.status in ('REJECTED', 'FAILED') and coalesce((s.error->>'retryable')::boolean, false)
           returning s.id`,
          [
            batch.id,
            batch.deviceId,
            batch.receivedAt,
            JSON.stringify(notInserted.map((e) => ({ id: e.event.id, hash: e.hash }))),
            batch.roles ? [...batch.roles] : null,
          ],
        );
        for (const r of retaken.rows) acceptedIds.add(r.id);
      }
      const isAccepted = (e: AcceptedEvent) => firsts.get(key(e)) === e && acceptedIds.has(key(e));
      const existing = [...firsts.values()].filter((e) => !acceptedIds.has(key(e)));
      const duplicates: string[] = [];
      const reused: EventRejection[] = [];
      if (acceptedIds.size < events.length) {
        const { rows } = existing.length
          ? await client.query<{ id: string; payload_hash: string }>(
              'select id, payload_hash from sync_events where id = any($1::uuid[])',
              [existing.map((e) => e.event.id)],
            )
          : { rows: [] };
        const known = new Map(rows.map((r) => [r.id, r.payload_hash]));
        for (const e of events) {
          if (isAccepted(e)) continue;
          // A later occurrence of an id accepted now compares with that first occurrence.
          const hash = acceptedIds.has(key(e)) ? firsts.get(key(e))?.hash : known.get(key(e));
          if (hash === e.hash) duplicates.push(e.event.id);
          else
            reused.push({
              eventId: e.event.id,
              index: e.index,
              code: 'EVENT_ID_REUSED',
              message: 'this event id was already used with a different body',
              retryable: false,
            });
        }
      }
      const allRejected = [...rejected, ...reused];
      const accepted = events.filter(isAccepted).map((e) => e.event.id);
      await client.query(
        `insert into sync_batches (id, device_id, user_id, received_at, total, accepted, rejected, duplicates)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          batch.id,
          batch.deviceId,
          batch.userId,
          batch.receivedAt,
          batch.total,
          accepted.length,
          JSON.stringify(allRejected),
          JSON.stringify(duplicates),
        ],
      );
      // The messages commit with the events: nothing leaves before the commit, nothing is lost after it.
      const entries = await insertOutbox(client, outbox(accepted));
      return { accepted, duplicates, rejected: allRejected, outbox: entries };
    });
  }

  async outcomesOf(tenant: Tenant, deviceId: string, eventIds: string[]): Promise<EventOutcome[]> {
    if (!eventIds.length) return [];
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<EventRow>(
        'select id, status, error, conflict from sync_events where id = any($1::uuid[]) and device_id = $2',
        [eventIds, deviceId],
      ),
    );
    return rows.map((r) => ({
      eventId: r.id,
      status: r.status,
      ...(r.conflict ? { conflict: r.conflict } : {}),
      ...(r.error ? { error: r.error } : {}),
    }));
  }

  async batchOutcome(
    tenant: Tenant,
    batchId: string,
  ): Promise<(BatchOutcome & { userId: string }) | undefined> {
    const pool = this.poolFor(tenant);
    const [batchResult, eventResult] = await guardPostgres(() =>
      Promise.all([
        pool.query<BatchRow>('select * from sync_batches where id = $1', [batchId]),
        pool.query<EventRow>(
          `select id, status, error, conflict, applied_at from sync_events where batch_id = $1
           order by occurred_at, id`,
          [batchId],
        ),
      ]),
    );
    const batch = batchResult.rows[0];
    if (!batch) return undefined;
    const events: EventOutcome[] = [
      ...eventResult.rows.map((r) => ({
        eventId: r.id,
        status: r.status,
        ...(r.conflict ? { conflict: r.conflict } : {}),
        ...(r.error ? { error: r.error } : {}),
      })),
      ...batch.duplicates.map((id) => ({ eventId: id, status: 'DUPLICATE' as const })),
      ...batch.rejected.map((r) => ({
        eventId: r.eventId,
        status: 'REJECTED' as const,
        error: {
          code: r.code,
          message: r.message,
          retryable: r.retryable,
          ...(r.errors ? { errors: r.errors } : {}),
        },
      })),
    ];
    const count = (status: EventStatus) => events.filter((e) => e.status === status).length;
    const pending = count('PENDING');
    const settled = eventResult.rows.length - pending;
    const completedAt = eventResult.rows.reduce<Date | null>(
      (latest, r) => (r.applied_at && (!latest || r.applied_at > latest) ? r.applied_at : latest),
      null,
    );
    return {
      batchId: batch.id,
      deviceId: batch.device_id,
      userId: batch.user_id,
      status: pending === 0 ? 'COMPLETED' : settled > 0 ? 'PROCESSING' : 'PENDING',
      receivedAt: batch.received_at.toISOString(),
      ...(pending === 0 ? { completedAt: (completedAt ?? batch.received_at).toISOString() } : {}),
      counts: {
        total: events.length,
        pending,
        applied: count('APPLIED'),
        duplicate: count('DUPLICATE'),
        conflict: count('CONFLICT'),
        rejected: count('REJECTED'),
        failed: count('FAILED'),
      },
      events,
    };
  }

  retryFailed(
    tenant: Tenant,
    filter: RetryFilter,
    outbox: (events: { id: string; batchId: string; deviceId: string }[]) => OutboxMessage[],
  ): Promise<{ eventIds: string[]; outbox: OutboxEntry[] }> {
    return withTransaction(this.poolFor(tenant), async (client) => {
      const { rows } = await client.query<{ id: string; batch_id: string; device_id: string }>(
        `update sync_events set status = 'PENDING', error = null, attempts = attempts + 1
         where status in ('FAILED', 'REJECTED') and coalesce((error->>'retryable')::boolean, status = 'FAILED')
           and ($1::text is null or user_id = $1)
           and ($2::text is null or device_id = $2)
           and ($3::uuid[] is null or id = any($3))
         returning id, batch_id, device_id`,
        [filter.userId ?? null, filter.deviceId ?? null, filter.eventIds ?? null],
      );
      const entries = await insertOutbox(
        client,
        outbox(rows.map((r) => ({ id: r.id, batchId: r.batch_id, deviceId: r.device_id }))),
      );
      return { eventIds: rows.map((r) => r.id), outbox: entries };
    });
  }

  async markFailed(
    tenant: Tenant,
    chunk: ChunkSelection,
    error: { code: string; message: string },
  ): Promise<number> {
    const { where, param } = chunkCondition(chunk);
    const { rowCount } = await guardPostgres(() =>
      this.poolFor(tenant).query(
        `update sync_events set status = 'FAILED', error = $2, applied_at = now()
         where ${where} and status = 'PENDING'`,
        [param, JSON.stringify({ ...error, retryable: true })],
      ),
    );
    return rowCount ?? 0;
  }

  async deviceCounts(tenant: Tenant, deviceId: string): Promise<{ pending: number; failed: number }> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{ pending: number; failed: number }>(
        `select count(*) filter (where status = 'PENDING') as pending,
                count(*) filter (where status = 'FAILED') as failed
         from sync_events where device_id = $1 and status in ('PENDING', 'FAILED')`,
        [deviceId],
      ),
    );
    return rows[0] ?? { pending: 0, failed: 0 };
  }
  async latestPushes(tenant: Tenant, userId: string, limit: number): Promise<PushSummary[]> {
    // sync_batches_user_received_idx serves the order; an event moved to a later batch (taken again after a
    // retryable refusal) is named by that later one.
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{
        id: string;
        device_id: string;
        received_at: Date;
        event_ids: string[];
      }>(
        `select b.id, b.device_id, b.received_at,
                array(select e.id::text from sync_events e where e.batch_id = b.id)
                  || array(select jsonb_array_elements_text(b.duplicates)) as event_ids
         from sync_batches b
         where b.user_id = $1
         order by b.received_at desc, b.id
         limit $2`,
        [userId, Math.min(Math.max(limit, 1), 100)],
      ),
    );
    return rows.map((r) => ({
      batchId: r.id,
      deviceId: r.device_id,
      receivedAt: r.received_at.toISOString(),
      eventIds: [...new Set(r.event_ids.map((id) => id.toLowerCase()))],
    }));
  }

  async recordEvents(tenant: Tenant, filter: RecordEventFilter): Promise<RecordEventRow[]> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{
        id: string;
        batch_id: string;
        device_id: string;
        user_id: string;
        type: RecordEventRow['type'];
        payload: Record<string, unknown>;
        occurred_at: Date;
        received_at: Date;
        status: EventStatus;
        error: RecordEventRow['error'];
        conflict: RecordEventRow['conflict'];
        attempts: number;
        conflict_status: RecordEventRow['conflictStatus'];
        record_version: number | null;
      }>(
        `select e.id, e.batch_id, e.device_id, e.user_id, e.type, e.payload, e.occurred_at, e.received_at,
                e.status, e.error, e.conflict, e.attempts,
                case when c.id is null then null when c.resolution = 'PENDING_REVIEW' then 'HELD' else 'SETTLED' end
                  as conflict_status,
                r.version as record_version
         from sync_events e
         left join conflicts c on c.id = (e.conflict ->> 'conflictId')::uuid
         left join records r on r.collection = e.payload ->> 'collection' and r.id = e.payload ->> 'recordId'
         where e.type in ('RECORD_CREATED', 'RECORD_UPDATED', 'RECORD_DELETED')
           and ($1::uuid[] is null or e.id = any($1))
           and ($2::text is null or e.device_id = $2)
           and ($3::text is null or e.user_id = $3)
           and (not $4::boolean or e.status in ('PENDING', 'FAILED', 'REJECTED')
                or (e.status = 'CONFLICT' and c.resolution = 'PENDING_REVIEW'))
         order by e.received_at, e.occurred_at, e.id
         limit $5`,
        [
          filter.ids ?? null,
          filter.deviceId ?? null,
          filter.userId ?? null,
          filter.unsettledOnly ?? false,
          Math.min(Math.max(filter.limit, 1), 1000),
        ],
      ),
    );
    return rows.map((r) => ({
      id: r.id,
      batchId: r.batch_id,
      deviceId: r.device_id,
      userId: r.user_id,
      type: r.type,
      payload: r.payload,
      occurredAt: r.occurred_at.toISOString(),
      receivedAt: r.received_at.toISOString(),
      status: r.status,
      error: r.error,
      conflict: r.conflict,
      attempts: r.attempts,
      conflictStatus: r.conflict_status,
      recordVersion: r.record_version,
    }));
  }
}
