import type pg from 'pg';
import type { Conflict, ConflictStatus, ReviewDecision } from '../../contracts/conflicts.js';
import type { EventType } from '../../contracts/events.js';
import { ConflictError, NotFoundError } from '../../errors.js';
import type { ConflictStore } from '../../usecases/ports/conflicts.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import type { Stamp, Strategy } from '../../sync/merge.js';
import { LOCK_SEEDS, lockKeys } from './advisory-locks.js';
import { guardPostgres } from './connection.js';
import { withTransaction } from './transaction.js';
import { PRODUCTION_COLUMNS } from './production-columns.js';

interface ConflictRow {
  id: string;
  record_type: Conflict['recordType'];
  record_key: string;
  fields: string[];
  event_id: string;
  other_event_id: string | null;
  server_value: Record<string, unknown>;
  client_value: Record<string, unknown>;
  resolution: Conflict['resolution'];
  status: Conflict['status'];
  resolved_by: string | null;
  resolved_at: Date | null;
  resolved_value: Record<string, unknown> | null;
  auto_resolution: Conflict['automaticResolution'];
  reviewed_by: string | null;
  reviewed_at: Date | null;
  requested_resolution: Conflict['requestedResolution'];
  requested_by: string | null;
  requested_at: Date | null;
  created_at: Date;
}

/** A conflict row with its two events' sides (WITH_EVENTS); absent columns: the event is not in the log. */
interface ConflictViewRow extends ConflictRow {
  e_type?: string | null;
  e_device_id?: string | null;
  e_user_id?: string | null;
  e_occurred_at?: Date | null;
  e_received_at?: Date | null;
  o_type?: string | null;
  o_device_id?: string | null;
  o_user_id?: string | null;
  o_occurred_at?: Date | null;
  o_received_at?: Date | null;
}

/**
 * A conflict with who wrote each side and when (the console shows them): its event's and the other event's
 * type, device, user, occurredAt and receivedAt, joined from the event log by primary key.
 */
const WITH_EVENTS = `select c.*,
    e.type as e_type, e.device_id as e_device_id, e.user_id as e_user_id, e.occurred_at as e_occurred_at,
    e.received_at as e_received_at,
    o.type as o_type, o.device_id as o_device_id, o.user_id as o_user_id, o.occurred_at as o_occurred_at,
    o.received_at as o_received_at
  from conflicts c
    left join sync_events e on e.id = c.event_id
    left join sync_events o on o.id = c.other_event_id`;

const sideOf = (
  type: string | null | undefined,
  deviceId: string | null | undefined,
  userId: string | null | undefined,
  occurredAt: Date | null | undefined,
  receivedAt: Date | null | undefined,
): Conflict['event'] =>
  type && deviceId && userId && occurredAt && receivedAt
    ? {
        type,
        deviceId,
        userId,
        occurredAt: occurredAt.toISOString(),
        receivedAt: receivedAt.toISOString(),
      }
    : null;

const toConflict = (r: ConflictViewRow): Conflict => ({
  id: r.id,
  recordType: r.record_type,
  recordKey: r.record_key,
  fields: r.fields,
  eventId: r.event_id,
  otherEventId: r.other_event_id,
  serverValue: r.server_value,
  clientValue: r.client_value,
  resolution: r.resolution,
  automaticResolution: r.auto_resolution,
  status: r.status,
  resolvedBy: r.resolved_by,
  resolvedAt: r.resolved_at?.toISOString() ?? null,
  resolvedValue: r.resolved_value,
  reviewedBy: r.reviewed_by,
  reviewedAt: r.reviewed_at?.toISOString() ?? null,
  requestedResolution: r.requested_resolution,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at?.toISOString() ?? null,
  event: sideOf(r.e_type, r.e_device_id, r.e_user_id, r.e_occurred_at, r.e_received_at),
  otherEvent: sideOf(r.o_type, r.o_device_id, r.o_user_id, r.o_occurred_at, r.o_received_at),
  createdAt: r.created_at.toISOString(),
});

const EQUIPMENT_COLUMNS: Record<string, string> = {
  status: 'status',
  serialNumber: 'serial_number',
  manufacturer: 'manufacturer',
  model: 'model',
  notes: 'notes',
};

/** `${collection}/${id}` → [collection, id] (a collection name has no '/'; an id may). */
const splitRecordKey = (key: string) => {
  const slash = key.indexOf('/');
  return [key.slice(0, slash), key.slice(slash + 1)] as const;
};

/** Conflicts, their review by managers, and the tenant's strategies. */
export class PostgresConflictStore implements ConflictStore {
  constructor(private readonly poolFor: (tenant: Tenant) => pg.Pool) {}

  async list(
    tenant: Tenant,
    query: { status: ConflictStatus; limit: number; after?: string | undefined },
  ): Promise<Conflict[]> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<ConflictRow>(
        `${WITH_EVENTS}
         where c.status = $1
           and ($2::uuid is null or (c.created_at, c.id) > (select created_at, id from conflicts where id = $2))
         order by c.created_at, c.id limit $3`,
        [query.status, query.after ?? null, query.limit],
      ),
    );
    return rows.map(toConflict);
  }

  async get(tenant: Tenant, id: string): Promise<Conflict | undefined> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<ConflictViewRow>(`${WITH_EVENTS} where c.id = $1`, [id]),
    );
    return rows[0] ? toConflict(rows[0]) : undefined;
  }

  resolve(
    tenant: Tenant,
    id: string,
    decision: ReviewDecision,
    values: Record<string, unknown>,
    by: string,
  ): Promise<Conflict> {
    return withTransaction(this.poolFor(tenant), async (client) => {
      const { rows } = await client.query<ConflictRow>('select * from conflicts where id = $1 for update', [
        id,
      ]);
      const conflict = rows[0];
      if (!conflict) throw new NotFoundError(`no conflict ${id}`);
      if (conflict.status !== 'OPEN') {
        throw new ConflictError(
          `conflict ${id} was already ${conflict.status === 'ACKNOWLEDGED' ? 'acknowledged' : `resolved (${conflict.resolution})`} by ${conflict.reviewed_by ?? 'a manager'}`,
          'CONFLICT_RESOLVED',
        );
      }
      if (decision === 'ACKNOWLEDGED' && conflict.resolution === 'PENDING_REVIEW') {
        throw new ConflictError(
          `conflict ${id} is held for review by the MANUAL strategy: there is no automatic result to keep; ` +
            'resolve it with SERVER_WINS, CLIENT_WINS or MERGED',
          'CONFLICT_HELD',
        );
      }
      // Lock the record as the chunk processor does, so neither writes over the other from a stale read.
      const current = await this.lockRecord(client, conflict);
      const currentValues = () => Object.fromEntries(conflict.fields.map((f) => [f, current[f] ?? null]));
      if (decision === 'ACKNOWLEDGED') {
        // The strategy's result stands: nothing is written; the record's values now are what was kept.
        await client.query(
          `update conflicts set status = 'ACKNOWLEDGED', reviewed_by = $2, reviewed_at = now(), resolved_value = $3
           where id = $1`,
          [id, by, JSON.stringify(currentValues())],
        );
        return this.read(client, id);
      }
      const now = new Date().toISOString();
      // The manager's decision is a write of its own, stamped now: later device writes compete with it by LWW.
      const stamp: Stamp = { occurredAt: now, deviceId: `manager:${by}`, eventId: id };
      const fields = Object.keys(values);
      if (fields.length > 0) {
        if (conflict.record_type === 'PRODUCTION')
          await this.writeProduction(client, conflict, values, stamp);
        else if (conflict.record_type === 'RECORD') await this.writeRecord(client, conflict, values, stamp);
        else await this.writeEquipment(client, conflict, values, stamp);
      }
      // Resolved against the record as it is now (another resolution or a newer write may have changed it since
      // the conflict was shown): SERVER_WINS keeps the current values, and those are what is recorded. The same
      // holds for an override of a strategy's result.
      const resolved = fields.length ? values : currentValues();
      await client.query(
        `update conflicts set status = 'RESOLVED', resolution = $2, resolved_by = $3, resolved_at = now(),
           resolved_value = $4, reviewed_by = $3, reviewed_at = now()
         where id = $1`,
        [id, decision, by, JSON.stringify(resolved)],
      );
      // The event's own report follows the review, so a device polling its batch sees the decision.
      await client.query(
        `update sync_events set conflict = jsonb_set(conflict, '{resolution}', to_jsonb($2::text))
         where id = $1 and conflict ->> 'conflictId' = $3`,
        [conflict.event_id, decision, id],
      );
      return this.read(client, id);
    });
  }

  /** The conflict as the API shows it, read in the caller's transaction (after its update). */
  private async read(client: pg.PoolClient, id: string): Promise<Conflict> {
    const { rows } = await client.query<ConflictViewRow>(`${WITH_EVENTS} where c.id = $1`, [id]);
    return toConflict(rows[0] as ConflictViewRow);
  }

  async request(
    tenant: Tenant,
    id: string,
    resolution: 'SERVER_WINS' | 'CLIENT_WINS',
    by: string,
  ): Promise<Conflict> {
    const pool = this.poolFor(tenant);
    const { rows } = await guardPostgres(() =>
      pool.query<{ id: string }>(
        `update conflicts set requested_resolution = $2, requested_by = $3, requested_at = now()
         where id = $1 and status = 'OPEN' returning id`,
        [id, resolution, by],
      ),
    );
    const after = await this.get(tenant, id);
    if (rows[0] && after) return after;
    // Not updated: no such conflict, or a manager handled it meanwhile.
    if (!after) throw new NotFoundError(`no conflict ${id}`);
    throw new ConflictError(`conflict ${id} was already handled by a manager`, 'CONFLICT_RESOLVED');
  }

  /**
   * Locks the conflict's record the way the chunk processor does (the advisory lock of a production record's key,
   * the equipment row) and returns its current field values by field name ({} when the record is gone).
   */
  private async lockRecord(client: pg.PoolClient, conflict: ConflictRow): Promise<Record<string, unknown>> {
    if (conflict.record_type === 'RECORD') {
      // The chunk engine's lock of this record (chunk-store.ts, lockRecords).
      await lockKeys(client, LOCK_SEEDS.record, [conflict.record_key]);
      const [collection, id] = splitRecordKey(conflict.record_key);
      const { rows } = await client.query<{ data: Record<string, unknown>; deleted: boolean }>(
        'select data, deleted_at is not null as deleted from records where collection = $1 and id = $2',
        [collection, id],
      );
      return rows[0] ? { ...rows[0].data, _deleted: rows[0].deleted } : {};
    }
    const columns = conflict.record_type === 'PRODUCTION' ? PRODUCTION_COLUMNS : EQUIPMENT_COLUMNS;
    const select = Object.entries(columns)
      .map(([field, column]) => `${column} as "${field}"`)
      .join(', ');
    if (conflict.record_type === 'PRODUCTION') {
      const [wellId, productionDate] = conflict.record_key.split('|');
      // The processor's lock of this record (chunk-store.ts, loadInput).
      await lockKeys(client, LOCK_SEEDS.productionRecord, [conflict.record_key]);
      const { rows } = await client.query<Record<string, unknown>>(
        `select ${select} from production_records where well_id = $1 and production_date = $2`,
        [wellId, productionDate],
      );
      return rows[0] ?? {};
    }
    const { rows } = await client.query<Record<string, unknown>>(
      `select ${select} from equipment where id = $1 for update`,
      [conflict.record_key],
    );
    return rows[0] ?? {};
  }

  private async writeProduction(
    client: pg.PoolClient,
    conflict: ConflictRow,
    values: Record<string, unknown>,
    stamp: Stamp,
  ): Promise<void> {
    const [wellId, productionDate] = conflict.record_key.split('|');
    const sets: string[] = [];
    const params: unknown[] = [wellId, productionDate];
    const meta: Record<string, Stamp> = {};
    for (const [field, value] of Object.entries(values)) {
      const column = (PRODUCTION_COLUMNS as Record<string, string>)[field];
      if (!column) continue;
      params.push(value);
      sets.push(`${column} = $${params.length}`);
      meta[field] = stamp;
    }
    params.push(JSON.stringify(meta));
    await client.query(
      `update production_records set ${sets.join(', ')}, field_meta = field_meta || $${params.length}::jsonb,
         updated_at = now()
       where well_id = $1 and production_date = $2`,
      params,
    );
  }

  private async writeEquipment(
    client: pg.PoolClient,
    conflict: ConflictRow,
    values: Record<string, unknown>,
    stamp: Stamp,
  ): Promise<void> {
    const sets: string[] = [];
    const params: unknown[] = [conflict.record_key];
    const fields: string[] = [];
    for (const [field, value] of Object.entries(values)) {
      const column = EQUIPMENT_COLUMNS[field];
      if (!column) continue;
      params.push(value);
      sets.push(`${column} = $${params.length}`);
      fields.push(field);
    }
    params.push(fields, JSON.stringify(stamp));
    await client.query(
      `update equipment set ${sets.join(', ')}, version = version + 1, updated_at = now(),
         field_meta = field_meta || (
           select coalesce(jsonb_object_agg(f, jsonb_build_object('version', equipment.version + 1, 'stamp', $${params.length}::jsonb)), '{}')
           from unnest($${params.length - 1}::text[]) f)
       where id = $1`,
      params,
    );
  }

  /**
   * A manager's values for a record: data fields merged into `data`, `_deleted` sets or clears the tombstone, every
   * written field stamped {version + 1, the manager's stamp}; the scope column follows the scope field.
   */
  private async writeRecord(
    client: pg.PoolClient,
    conflict: ConflictRow,
    values: Record<string, unknown>,
    stamp: Stamp,
  ): Promise<void> {
    const [collection, id] = splitRecordKey(conflict.record_key);
    const { _deleted: deleted, ...data } = values;
    await client.query(
      `update records r set data = r.data || $3::jsonb, version = r.version + 1, updated_at = now(),
         field_meta = r.field_meta || (
           select coalesce(jsonb_object_agg(f, jsonb_build_object('version', r.version + 1, 'stamp', $5::jsonb)), '{}')
           from unnest($4::text[]) f),
         deleted_at = case when $6::boolean is null then r.deleted_at when $6 then coalesce(r.deleted_at, now()) end,
         delete_stamp = case when $6::boolean is null then r.delete_stamp when $6 then $5::jsonb end,
         scope = case when c.scope_field is null then null else (r.data || $3::jsonb) ->> c.scope_field end
       from sync_collections c
       where c.name = r.collection and r.collection = $1 and r.id = $2`,
      [
        collection,
        id,
        JSON.stringify(data),
        Object.keys(values),
        JSON.stringify(stamp),
        typeof deleted === 'boolean' ? deleted : null,
      ],
    );
  }

  async collectionSchema(tenant: Tenant, collection: string): Promise<Record<string, unknown> | undefined> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{ schema: Record<string, unknown> }>(
        'select schema from sync_collections where name = $1',
        [collection],
      ),
    );
    return rows[0]?.schema;
  }

  async strategies(tenant: Tenant): Promise<Partial<Record<EventType, Strategy>>> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{ event_type: EventType; strategy: Strategy }>(
        'select event_type, strategy from conflict_strategies',
      ),
    );
    return Object.fromEntries(rows.map((r) => [r.event_type, r.strategy]));
  }

  async setStrategies(
    tenant: Tenant,
    strategies: Partial<Record<EventType, Strategy>>,
    by: string,
  ): Promise<void> {
    const entries = Object.entries(strategies);
    if (!entries.length) return;
    await guardPostgres(() =>
      this.poolFor(tenant).query(
        `insert into conflict_strategies (event_type, strategy, updated_by)
         select * from unnest($1::text[], $2::text[], $3::text[])
         on conflict (event_type) do update set strategy = excluded.strategy, updated_by = excluded.updated_by,
           updated_at = now()`,
        [entries.map(([t]) => t), entries.map(([, s]) => s), entries.map(() => by)],
      ),
    );
  }
}
