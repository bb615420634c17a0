import type pg from 'pg';
import type { EventType, SyncEvent } from '../../contracts/events.js';
import type { EventError } from '../../contracts/sync.js';
import type { ChunkSession, ChunkStore, ChunkTransaction, LockedBlob } from '../../usecases/ports/chunks.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import type { MergeRecord, Stamp, Strategy } from '../../sync/merge.js';
import {
  type ChunkInput,
  type ChunkPlan,
  type ChunkReferences,
  type CollectionRule,
  type EquipmentState,
  type Outcome,
  type PendingEvent,
  type RecordState,
  type SettledAttach,
  type Target,
  DELETED_FIELD,
  productionKey,
  recordKey,
} from '../../sync/plan-chunk.js';
import { LOCK_SEEDS, lockKeys } from './advisory-locks.js';
import { guardPostgres, isPostgresUnavailable } from './connection.js';
import { lockSession, unlockSession } from './session-locks.js';
import { withTransaction } from './transaction.js';
import { PRODUCTION_COLUMNS } from './production-columns.js';
import { chunkCondition } from './chunk-selection.js';

interface PendingRow {
  id: string;
  batch_id: string;
  device_id: string;
  user_id: string;
  roles: string[] | null;
  type: EventType;
  payload: Record<string, unknown>;
  location: SyncEvent['location'] | null;
  occurred_at: Date;
}

interface EquipmentRow {
  id: string;
  well_id: string;
  deleted: boolean;
  version: number;
  status: string;
  serial_number: string;
  manufacturer: string | null;
  model: string | null;
  notes: string | null;
  field_meta: EquipmentState['fieldMeta'];
  updated_at: Date;
}

interface RecordRow {
  collection: string;
  id: string;
  version: number;
  data: RecordState['data'];
  field_meta: RecordState['fieldMeta'];
  deleted: boolean;
  delete_stamp: Stamp | null;
  scope: string | null;
}

/** A note's or photo's target id as stored: a RECORD target as `${collection}/${id}` (its record key). */
const TARGET_ID = `case when p->'target'->>'type' = 'RECORD'
  then (p->'target'->>'collection') || '/' || (p->'target'->>'id') else p->'target'->>'id' end`;

/**
 * SQLSTATEs an event's own data can cause: data exceptions (22: a value out of range, bad input syntax…),
 * integrity violations (23), a datatype mismatch (42804), program limits (54: a value too large). The same
 * event fails the same way every time, so it is isolated and refused, never retried.
 */
const isDataError = (error: unknown): boolean => {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^(22|23|42804|54)/.test(code);
};

/**
 * The chunk engine's storage in the tenant's Postgres (ChunkStore): statements only, one per table and step.
 * The rules — what to lock and in which order, the plan, poison isolation — are the use case's
 * (shared/usecases/apply-chunk.ts) and the domain's (shared/sync/plan-chunk.ts).
 */
export class PostgresChunkStore implements ChunkStore {
  /**
   * @param poolFor the tenant's pool (through PgBouncer where the deployment has one)
   * @param sessionPoolFor the tenant's direct connections (the admin port), for session-level photo locks;
   *   the same pool when the app connects directly (local stack, Burstable servers)
   */
  constructor(
    private readonly poolFor: (tenant: Tenant) => pg.Pool,
    private readonly sessionPoolFor: (tenant: Tenant) => pg.Pool = poolFor,
  ) {}

  inTransaction<T>(tenant: Tenant, work: (tx: ChunkTransaction) => Promise<T>): Promise<T> {
    return withTransaction(this.poolFor(tenant), (client) => work(transaction(client)));
  }

  withPhotoLocks<T>(
    tenant: Tenant,
    photoIds: string[],
    work: (session: ChunkSession) => Promise<T>,
  ): Promise<T> {
    const pool = this.sessionPoolFor(tenant);
    const keys = [...new Set(photoIds.map((id) => id.toLowerCase()))];
    return guardPostgres(async () => {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await lockSession(client, LOCK_SEEDS.photo, keys);
        return await work(session(client));
      } finally {
        // Always released; a connection that cannot release them is dropped (which releases them).
        await unlockSession(client, LOCK_SEEDS.photo, keys).catch((error: unknown) => {
          broken = error instanceof Error ? error : new Error(String(error));
        });
        client.release(broken);
      }
    });
  }

  isPoison(error: unknown): boolean {
    return !isPostgresUnavailable(error) && isDataError(error);
  }

  async pendingEventIds(tenant: Tenant, batchId: string): Promise<string[]> {
    const { where, param } = chunkCondition({ batchId });
    const { rows } = await this.poolFor(tenant).query<{ id: string }>(
      `select id from sync_events where ${where} and status = 'PENDING' order by id`,
      [param],
    );
    return rows.map((r) => r.id);
  }

  async refuse(tenant: Tenant, eventId: string, error: EventError): Promise<string[]> {
    const { rows } = await this.poolFor(tenant).query<{ device_id: string }>(
      `update sync_events set status = 'REJECTED', applied_at = now(), attempts = attempts + 1, error = $2
       where id = $1 and status = 'PENDING' returning device_id`,
      [eventId, JSON.stringify(error)],
    );
    return rows.map((r) => r.device_id);
  }
}

/** One chunk transaction's steps on `client`. */
function transaction(client: pg.PoolClient): ChunkTransaction {
  return {
    async loadPending(chunk) {
      const { where, param } = chunkCondition(chunk);
      const { rows } = await client.query<PendingRow>(
        `select id, batch_id, device_id, user_id, roles, type, payload, location, occurred_at from sync_events
         where ${where} and status = 'PENDING' order by id for update`,
        [param],
      );
      return rows.map((r) => ({
        event: {
          id: r.id,
          type: r.type,
          occurredAt: r.occurred_at.toISOString(),
          payload: r.payload,
          ...(r.location ? { location: r.location } : {}),
        } as SyncEvent,
        batchId: r.batch_id,
        deviceId: r.device_id,
        userId: r.user_id,
        ...(r.roles ? { roles: r.roles } : {}),
      }));
    },
    async lockRecords(refs) {
      if (refs.updatedEquipmentIds.length) {
        await client.query('select 1 from equipment where id = any($1) order by id for update', [
          refs.updatedEquipmentIds,
        ]);
      }
      // Advisory locks cover production records and records that do not exist yet.
      await lockKeys(client, LOCK_SEEDS.productionRecord, refs.productionKeys);
      await lockKeys(client, LOCK_SEEDS.record, refs.recordKeys);
    },
    loadInput: (events, refs) => loadInput(client, events, refs),
    writePlan: (events, plan) => writePlan(client, events, plan),
  };
}

/** A connection holding a chunk's photo locks at session level: transactions and reads on it. */
function session(client: pg.PoolClient): ChunkSession {
  return {
    async inTransaction(work) {
      await client.query('begin');
      try {
        const result = await work(transaction(client));
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      }
    },
    async unattachedBlobs(locked: LockedBlob[]) {
      const { rows } = await client.query<{ blob_name: string }>(
        `with unattached as (
           select l.photo_id, l.blob_name from unnest($1::uuid[], $2::text[]) as l(photo_id, blob_name)
           where not exists (select 1 from photos p
                             where p.id = l.photo_id and p.blob_name = l.blob_name and p.status = 'ATTACHED')),
         -- Swept before this attempt tagged it attached: the sweep takes it again (state=awaiting).
         resweep as (update photos p set swept_at = null from unattached u
                     where p.id = u.photo_id and p.swept_at is not null)
         select blob_name from unattached`,
        [locked.map((l) => l.photoId), locked.map((l) => l.blobName)],
      );
      return rows.map((r) => r.blob_name);
    },
  };
}

const splitKey = (key: string) => {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)] as const;
};

async function loadInput(
  client: pg.PoolClient,
  events: PendingEvent[],
  refs: ChunkReferences,
): Promise<Omit<ChunkInput, 'newId' | 'prechecked'>> {
  const { wellIds, equipmentIds, productionKeys, photoIds } = refs;
  // One connection runs one statement at a time: these go one after another.
  const wells = await client.query<{ id: string; status: 'ACTIVE' | 'INACTIVE' | 'PLUGGED' }>(
    'select id, status from wells where id = any($1)',
    [wellIds],
  );
  const equipment = await client.query<EquipmentRow>(
    `select id, well_id, deleted_at is not null as deleted, version, status, serial_number, manufacturer,
              model, notes, field_meta, updated_at
       from equipment where id = any($1)`,
    [equipmentIds],
  );
  const production = await client.query<
    Record<string, unknown> & {
      well_id: string;
      production_date: string;
      field_meta: Record<string, Stamp>;
    }
  >(
    `select p.* from production_records p
       join unnest($1::text[], $2::date[]) k(well_id, production_date)
         on p.well_id = k.well_id and p.production_date = k.production_date`,
    [productionKeys.map((k) => k.split('|')[0]), productionKeys.map((k) => k.split('|')[1])],
  );
  const strategies = await client.query<{ event_type: EventType; strategy: Strategy }>(
    'select event_type, strategy from conflict_strategies',
  );
  const existing = async (sql: string, ids: string[]) =>
    ids.length
      ? new Set((await client.query<{ id: string }>(sql, [ids])).rows.map((r) => r.id))
      : new Set<string>();
  const inspections = await existing(
    'select event_id::text as id from inspections where event_id = any($1::uuid[])',
    refs.targetIds.INSPECTION,
  );
  const maintenanceLogs = await existing(
    'select event_id::text as id from maintenance_logs where event_id = any($1::uuid[])',
    refs.targetIds.MAINTENANCE,
  );
  // A production record by its own id (as pulled), or by a PRODUCTION_LOGGED event that wrote to it.
  const productionTargets = await existing(
    `select p.id::text as id from production_records p where p.id = any($1::uuid[])
     union all
     select e.id::text from sync_events e
       join production_records p on p.well_id = e.payload->>'wellId'
                                -- compared as text: a date Postgres cannot read never fails this lookup
                                and to_char(p.production_date, 'YYYY-MM-DD') = e.payload->>'productionDate'
     where e.id = any($1::uuid[]) and e.type = 'PRODUCTION_LOGGED'`,
    refs.targetIds.PRODUCTION,
  );
  // Attaches of earlier chunks that passed their checks: with this chunk's they decide each photo's link.
  const attaches = photoIds.length
    ? (
        await client.query<{
          id: string;
          photo_id: string;
          device_id: string;
          occurred_at: Date;
          target: Target;
          status: Outcome['status'];
          error: Outcome['error'] | null;
        }>(
          `select id, lower(payload->>'photoId') as photo_id, device_id, occurred_at, payload->'target' as target,
                  status, error
           from sync_events
           where type = 'PHOTO_ATTACHED' and lower(payload->>'photoId') = any($1::text[])
             and (status in ('APPLIED', 'DUPLICATE') or error->>'code' = 'PHOTO_ATTACHED_ELSEWHERE')`,
          [photoIds],
        )
      ).rows
    : [];
  const photoAttaches = new Map<string, SettledAttach[]>();
  for (const a of attaches) {
    const settled: SettledAttach = {
      eventId: a.id,
      stamp: { occurredAt: a.occurred_at.toISOString(), deviceId: a.device_id, eventId: a.id },
      target: a.target,
      outcome: { status: a.status, ...(a.error ? { error: a.error } : {}) },
    };
    photoAttaches.set(a.photo_id, [...(photoAttaches.get(a.photo_id) ?? []), settled]);
  }
  // Records: one query for every record the chunk writes or names as a target; its collections; the grants
  // of its scope-restricted users.
  const recordKeys = [...new Set([...refs.recordKeys, ...refs.recordTargetKeys])].map(splitKey);
  const records = recordKeys.length
    ? (
        await client.query<RecordRow>(
          `select r.collection, r.id, r.version, r.data, r.field_meta, r.deleted_at is not null as deleted,
                  r.delete_stamp, r.scope
           from records r join unnest($1::text[], $2::text[]) k(collection, id)
             on r.collection = k.collection and r.id = k.id`,
          [recordKeys.map((k) => k[0]), recordKeys.map((k) => k[1])],
        )
      ).rows
    : [];
  const collections = refs.collections.length
    ? (
        await client.query<{
          name: string;
          scope_field: string | null;
          conflict: Partial<CollectionRule['conflict']>;
        }>('select name, scope_field, conflict from sync_collections where name = any($1)', [
          refs.collections,
        ])
      ).rows
    : [];
  const grants = refs.scopedUserIds.length
    ? (
        await client.query<{ user_id: string; scope: string }>(
          'select user_id, scope from scope_grants where user_id = any($1)',
          [refs.scopedUserIds],
        )
      ).rows
    : [];
  const grantsByUser = new Map<string, Set<string>>();
  for (const g of grants)
    grantsByUser.set(g.user_id, (grantsByUser.get(g.user_id) ?? new Set()).add(g.scope));
  return {
    events,
    wells: new Map(wells.rows.map((w) => [w.id, { status: w.status }])),
    equipment: new Map(
      equipment.rows.map((e) => [
        e.id,
        {
          id: e.id,
          wellId: e.well_id,
          deleted: e.deleted,
          version: e.version,
          values: {
            status: e.status,
            serialNumber: e.serial_number,
            manufacturer: e.manufacturer,
            model: e.model,
            notes: e.notes,
          },
          fieldMeta: e.field_meta,
          baseStamp: { occurredAt: e.updated_at.toISOString(), deviceId: '', eventId: '' },
        },
      ]),
    ),
    production: new Map(
      production.rows.map((row) => {
        const fields: MergeRecord['fields'] = {};
        for (const [field, column] of Object.entries(PRODUCTION_COLUMNS)) {
          const stamp = row.field_meta[field];
          if (stamp) fields[field] = { value: row[column] as MergeRecord['fields'][string]['value'], stamp };
        }
        return [productionKey(row.well_id, row.production_date), { fields }];
      }),
    ),
    strategies: Object.fromEntries(strategies.rows.map((s) => [s.event_type, s.strategy])),
    targets: { INSPECTION: inspections, MAINTENANCE: maintenanceLogs, PRODUCTION: productionTargets },
    photoAttaches,
    collections: new Map(
      collections.map((c) => [
        c.name,
        {
          scopeField: c.scope_field,
          conflict: { strategy: c.conflict.strategy ?? 'LWW', fields: c.conflict.fields ?? {} },
        },
      ]),
    ),
    records: new Map(
      records.map((r) => [
        recordKey(r.collection, r.id),
        {
          collection: r.collection,
          id: r.id,
          version: r.version,
          data: r.data,
          fieldMeta: Object.fromEntries(Object.entries(r.field_meta).filter(([f]) => f !== DELETED_FIELD)),
          deleted: r.deleted,
          deleteStamp: r.delete_stamp,
          // Every delete taken, kept beside the liveness meta (planRecordEvent).
          deletes:
            (r.field_meta[DELETED_FIELD] as { deletes?: Stamp[] } | undefined)?.deletes ??
            (r.delete_stamp ? [r.delete_stamp] : []),
          scope: r.scope,
        },
      ]),
    ),
    grants: grantsByUser,
  };
}

/**
 * Takes back liveness losses of earlier chunks (plan.reinstated) in one statement: deletes the conflict rows and
 * sets each event whose report named one back to APPLIED, or to its latest remaining conflict. Runs before this
 * chunk's conflicts are inserted and its superseded events flipped (those come after and take precedence).
 */
async function reinstate(client: pg.PoolClient, reinstated: ChunkPlan['reinstated']): Promise<void> {
  if (!reinstated.length) return;
  await client.query(
    `with dropped as (
       delete from conflicts c
       using jsonb_to_recordset($1::jsonb) as v(record_key text, loser_wanted boolean, event_id uuid)
       where c.record_type = 'RECORD' and c.record_key = v.record_key and c.fields = array['_deleted']
         and (v.event_id is null or c.event_id = v.event_id)
         and (v.loser_wanted is null or (c.client_value ->> '_deleted')::boolean = v.loser_wanted)
       returning c.id, c.event_id),
     -- The statement sees conflicts as they were before the delete: the dropped rows are excluded by id.
     reports as (
       select d.event_id,
              (select jsonb_build_object('conflictId', c.id, 'fields', to_jsonb(c.fields), 'resolution', c.resolution,
                                         'serverValue', c.server_value, 'clientValue', c.client_value)
               from conflicts c
               where c.event_id = d.event_id and c.id not in (select id from dropped)
               order by c.created_at desc, c.id desc limit 1) as report
       from dropped d group by d.event_id)
     update sync_events s
     set status = case when r.report is null then 'APPLIED' else 'CONFLICT' end, conflict = r.report
     from reports r
     where s.id = r.event_id and s.status = 'CONFLICT'
       and (s.conflict ->> 'conflictId')::uuid in (select id from dropped)`,
    [
      JSON.stringify(
        reinstated.map((r) => ({
          record_key: r.recordKey,
          loser_wanted: 'loserWanted' in r ? r.loserWanted : null,
          event_id: 'eventId' in r ? r.eventId : null,
        })),
      ),
    ],
  );
}

/** Upserts the chunk's records in one statement (the change-log triggers log them, deletions as DELETE). */
async function writeRecords(client: pg.PoolClient, plan: ChunkPlan): Promise<void> {
  if (!plan.records.size) return;
  await client.query(
    `insert into records as r (collection, id, version, data, field_meta, scope, deleted_at, delete_stamp)
     select v.collection, v.id, v.version, v.data, v.field_meta, v.scope,
            case when v.deleted then now() end, v.delete_stamp
     from jsonb_to_recordset($1::jsonb) as v(collection text, id text, version int, data jsonb, field_meta jsonb,
                                             scope text, deleted boolean, delete_stamp jsonb)
     on conflict (collection, id) do update set version = excluded.version, data = excluded.data,
       field_meta = excluded.field_meta, scope = excluded.scope,
       -- A tombstone keeps the time it was first deleted; a resurrection clears it.
       deleted_at = case when excluded.deleted_at is null then null else coalesce(r.deleted_at, excluded.deleted_at) end,
       delete_stamp = excluded.delete_stamp, updated_at = now()`,
    [
      JSON.stringify(
        [...plan.records.values()].map((r) => ({
          collection: r.collection,
          id: r.id,
          version: r.version,
          data: r.data,
          // Every delete the record took, under the liveness key (no data field is named `_deleted`).
          field_meta: r.deletes.length
            ? { ...r.fieldMeta, [DELETED_FIELD]: { deletes: r.deletes } }
            : r.fieldMeta,
          scope: r.scope,
          deleted: r.deleted,
          delete_stamp: r.deleteStamp,
        })),
      ),
    ],
  );
}

/** Writes a chunk's plan: one statement per table (records, production, appends, equipment, conflicts, outcomes). */
async function writePlan(client: pg.PoolClient, events: PendingEvent[], plan: ChunkPlan): Promise<void> {
  await writeRecords(client, plan);

  if (plan.production.size) {
    const records = [...plan.production.values()];
    const column = (field: keyof typeof PRODUCTION_COLUMNS) =>
      records.map((r) => (r.record.fields[field]?.value ?? null) as unknown);
    await client.query(
      `insert into production_records (well_id, production_date, oil_volume, gas_volume, water_volume,
         tubing_pressure, casing_pressure, choke_size, runtime, notes, field_meta)
       select * from unnest($1::text[], $2::date[], $3::float8[], $4::float8[], $5::float8[], $6::float8[],
                            $7::float8[], $8::int[], $9::float8[], $10::text[], $11::jsonb[])
       on conflict (well_id, production_date) do update set
         oil_volume = excluded.oil_volume, gas_volume = excluded.gas_volume,
         water_volume = excluded.water_volume, tubing_pressure = excluded.tubing_pressure,
         casing_pressure = excluded.casing_pressure, choke_size = excluded.choke_size,
         runtime = excluded.runtime, notes = excluded.notes, field_meta = excluded.field_meta,
         updated_at = now()`,
      [
        records.map((r) => r.wellId),
        records.map((r) => r.productionDate),
        column('oilVolume'),
        column('gasVolume'),
        column('waterVolume'),
        column('tubingPressure'),
        column('casingPressure'),
        column('chokeSize'),
        column('runtime'),
        column('notes'),
        records.map((r) =>
          JSON.stringify(Object.fromEntries(Object.entries(r.record.fields).map(([f, s]) => [f, s.stamp]))),
        ),
      ],
    );
  }

  const duplicates = await writeAppends(client, plan.appends);
  for (const id of duplicates) plan.outcomes.set(id, { status: 'DUPLICATE' });

  if (plan.equipment.size) {
    const updates = [...plan.equipment.entries()];
    await client.query(
      `update equipment e set status = v.status, serial_number = v.serial_number, manufacturer = v.manufacturer,
         model = v.model, notes = v.notes, version = v.version, field_meta = v.field_meta, updated_at = now()
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::jsonb[])
         as v(id, status, serial_number, manufacturer, model, notes, version, field_meta)
       where e.id = v.id`,
      [
        updates.map(([id]) => id),
        updates.map(([, u]) => u.values.status),
        updates.map(([, u]) => u.values.serialNumber),
        updates.map(([, u]) => u.values.manufacturer),
        updates.map(([, u]) => u.values.model),
        updates.map(([, u]) => u.values.notes),
        updates.map(([, u]) => u.version),
        updates.map(([, u]) => JSON.stringify(u.fieldMeta)),
      ],
    );
  }

  await reinstate(client, plan.reinstated);

  if (plan.conflicts.length) {
    const c = plan.conflicts;
    await client.query(
      // Every new conflict is OPEN in the managers' inbox (held by MANUAL, or settled by the strategy and not
      // reviewed yet); a strategy's result is its automatic resolution, settled now (docs/architecture.md).
      `insert into conflicts (id, record_type, record_key, fields, event_id, other_event_id, server_value,
                              client_value, resolution, status, auto_resolution, resolved_at)
       select v.id, v.record_type, v.record_key, string_to_array(v.fields, ','), v.event_id, v.other_event_id,
              v.server_value, v.client_value, v.resolution, 'OPEN',
              nullif(v.resolution, 'PENDING_REVIEW'),
              case when v.resolution <> 'PENDING_REVIEW' then now() end
       from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::uuid[], $7::jsonb[], $8::jsonb[],
                   $9::text[]) as v(id, record_type, record_key, fields, event_id, other_event_id, server_value,
                                    client_value, resolution)`,
      [
        c.map((x) => x.id),
        c.map((x) => x.recordType),
        c.map((x) => x.recordKey),
        c.map((x) => x.fields.join(',')),
        c.map((x) => x.eventId),
        c.map((x) => (x.otherEventId && /^[0-9a-f-]{36}$/.test(x.otherEventId) ? x.otherEventId : null)),
        c.map((x) => JSON.stringify(x.serverValue)),
        c.map((x) => JSON.stringify(x.clientValue)),
        c.map((x) => x.resolution),
      ],
    );
  }

  if (plan.superseded.length) {
    await client.query(
      `update sync_events s set status = 'CONFLICT', conflict = v.conflict
       from unnest($1::uuid[], $2::jsonb[]) as v(id, conflict)
       where s.id = v.id and s.status in ('APPLIED', 'DUPLICATE', 'CONFLICT')`,
      [plan.superseded.map((s) => s.eventId), plan.superseded.map((s) => JSON.stringify(s.conflict))],
    );
  }

  if (plan.relabelled.length) {
    // Earlier attaches of a photo that a newer one has just outdone (or that a newer one names again).
    await client.query(
      `update sync_events s set status = v.status, error = v.error
       from jsonb_to_recordset($1::jsonb) as v(id uuid, status text, error jsonb)
       where s.id = v.id and s.status in ('APPLIED', 'DUPLICATE', 'REJECTED')`,
      [
        JSON.stringify(
          plan.relabelled.map((r) => ({
            id: r.eventId,
            status: r.outcome.status,
            error: r.outcome.error ?? null,
          })),
        ),
      ],
    );
  }

  const outcomes = events.map((e) => {
    const o = plan.outcomes.get(e.event.id) ?? { status: 'APPLIED' as const };
    return { id: e.event.id, status: o.status, error: o.error ?? null, conflict: o.conflict ?? null };
  });
  await client.query(
    `update sync_events s set status = v.status, error = v.error, conflict = v.conflict, applied_at = now(),
       attempts = s.attempts + 1
     from jsonb_to_recordset($1::jsonb) as v(id uuid, status text, error jsonb, conflict jsonb)
     where s.id = v.id`,
    [JSON.stringify(outcomes)],
  );
}

/** Which table each appended event type goes to, and how a row is made from the event (`v`, its payload `p`). */
const APPEND_INSERTS: Record<keyof ChunkPlan['appends'], string> = {
  WELL_READING_RECORDED: `insert into well_readings (event_id, device_id, user_id, content_hash, well_id, reading_type,
       value, unit, recorded_at)
     select event_id, device_id, user_id, content_hash, p->>'wellId', p->>'readingType', (p->>'value')::float8,
            p->>'unit', (p->>'recordedAt')::timestamptz
     from v where type = 'WELL_READING_RECORDED' on conflict do nothing returning event_id`,
  EQUIPMENT_INSPECTED: `insert into inspections (event_id, device_id, user_id, content_hash, well_id, equipment_id,
       inspection_type, status, equipment_status, leaks_detected, safety_hazards, visual_condition,
       corrective_actions, next_inspection_date, notes, inspected_at)
     select event_id, device_id, user_id, content_hash, p->>'wellId', p->>'equipmentId', p->>'inspectionType',
            p->>'status', p->>'equipmentStatus', (p->>'leaksDetected')::boolean, p->'safetyHazards',
            p->>'visualCondition', p->>'correctiveActions', (p->>'nextInspectionDate')::date, p->>'notes',
            (p->>'inspectedAt')::timestamptz
     from v where type = 'EQUIPMENT_INSPECTED' on conflict do nothing returning event_id`,
  MAINTENANCE_LOGGED: `insert into maintenance_logs (event_id, device_id, user_id, content_hash, equipment_id,
       maintenance_type, description, work_performed, parts_replaced, downtime_hours, cost, vendor_name,
       next_maintenance_date, performed_at)
     select event_id, device_id, user_id, content_hash, p->>'equipmentId', p->>'maintenanceType', p->>'description',
            p->>'workPerformed', p->'partsReplaced', (p->>'downtimeHours')::float8, (p->>'cost')::float8,
            p->>'vendorName', (p->>'nextMaintenanceDate')::date, (p->>'performedAt')::timestamptz
     from v where type = 'MAINTENANCE_LOGGED' on conflict do nothing returning event_id`,
  NOTES_ADDED: `insert into notes (event_id, device_id, user_id, content_hash, target_type, target_id, text,
       occurred_at)
     select event_id, device_id, user_id, content_hash, p->'target'->>'type', ${TARGET_ID}, p->>'text', occurred_at
     from v where type = 'NOTES_ADDED' on conflict do nothing returning event_id`,
  // The plan links each photo once (the attach with the greatest stamp): the caller passes one row per photo.
  PHOTO_ATTACHED: `insert into photos (id, blob_name, content_type, size_bytes, sha256, target_type, target_id,
       taken_at, status, device_id, user_id, event_id)
     select (p->>'photoId')::uuid, p->>'blobName', p->>'contentType', (p->>'sizeBytes')::bigint, p->>'sha256',
            p->'target'->>'type', ${TARGET_ID}, (p->>'takenAt')::timestamptz, 'ATTACHED', device_id, user_id,
            event_id
     from v where type = 'PHOTO_ATTACHED'
     on conflict (id) do update set status = 'ATTACHED', target_type = excluded.target_type,
       target_id = excluded.target_id, taken_at = excluded.taken_at, event_id = excluded.event_id,
       sha256 = excluded.sha256, blob_name = excluded.blob_name, content_type = excluded.content_type,
       size_bytes = excluded.size_bytes, device_id = excluded.device_id, user_id = excluded.user_id,
       updated_at = now()
     returning event_id`,
};

/**
 * Inserts the appended rows of every table in one statement (one round trip: a data-modifying CTE per table
 * that has rows); returns the event ids that were duplicates (not inserted: `on conflict do nothing`).
 */
async function writeAppends(client: pg.PoolClient, appends: ChunkPlan['appends']): Promise<string[]> {
  // Photos: the plan links each photo once (the attach with the greatest stamp); a Map keeps it so.
  const photos = [
    ...new Map(appends.PHOTO_ATTACHED.map((r) => [String(r.payload.photoId).toLowerCase(), r])).values(),
  ];
  const byType = { ...appends, PHOTO_ATTACHED: photos };
  const types = (Object.keys(APPEND_INSERTS) as (keyof ChunkPlan['appends'])[]).filter(
    (type) => byType[type].length,
  );
  if (!types.length) return [];
  const rows = types.flatMap((type) => byType[type].map((row) => ({ type, row })));
  const { rows: inserted } = await client.query<{ event_id: string }>(
    `with v as (
       select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::text[],
                            $7::timestamptz[])
         as v(event_id, device_id, user_id, content_hash, p, type, occurred_at)),
     ${types.map((type, i) => `i${i} as (${APPEND_INSERTS[type]})`).join(',\n     ')}
     ${types.map((_, i) => `select event_id from i${i}`).join(' union all ')}`,
    [
      rows.map((r) => r.row.eventId),
      rows.map((r) => r.row.deviceId),
      rows.map((r) => r.row.userId),
      rows.map((r) => r.row.contentHash),
      rows.map((r) => JSON.stringify(r.row.payload)),
      rows.map((r) => r.type),
      rows.map((r) => r.row.occurredAt),
    ],
  );
  const done = new Set(inserted.map((r) => r.event_id));
  return rows.filter((r) => !done.has(r.row.eventId)).map((r) => r.row.eventId);
}
