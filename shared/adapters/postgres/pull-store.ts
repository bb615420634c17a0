import type pg from 'pg';
import type { EntityType, ProductionEntity, RecordEntity, UserEntity } from '../../contracts/pull.js';
import type { Equipment, Well } from '../../contracts/reference-data.js';
import {
  type LogPosition,
  type PullPage,
  type PullStore,
  type RecordPosition,
  type StoredRecord,
  SYNC_POINTS_KEPT,
  type SyncPointHolder,
} from '../../usecases/ports/pull.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import { EMPTY_HASH, type HeldSet, holds } from '../../sync/held-set.js';
import { comparePositions } from '../../sync/cursor.js';
import { guardPostgres } from './connection.js';
import { equipmentFromRow, wellFromRow } from './reference-data-store.js';
import { isoRequired } from './types.js';

/** Snapshot order: one entity type after another, each by id. */
const SNAPSHOT_TYPES = ['well', 'equipment', 'user', 'production'] as const;

interface ChangeRow {
  kind: 'change' | 'top';
  seq: string;
  xid: string;
  entity_type: EntityType | 'record';
  entity_id: string;
  op: 'UPSERT' | 'DELETE';
  collection: string | null;
}

/**
 * SQL of the held-set rule (shared/sync/held-set.ts `holds`) for a record or change-log row: `$c` the set's
 * collections (text[]), `$s` its scopes (text[]; null: every scope). `scoped` is an SQL expression telling
 * whether the collection has a scope field. Never null (coalesce), so `not (…)` means "not in the set".
 */
const inSet = (collection: string, scope: string, scoped: string, c: number, s: number) =>
  inSetOf(collection, scope, scoped, `$${c}::text[]`, `$${s}::text[]`);

/** {@link inSet} over any two text[] expressions (e.g. the columns of a stored held set). */
const inSetOf = (collection: string, scope: string, scoped: string, c: string, s: string) =>
  `(${collection} = any(${c}) and (not ${scoped} or ${s} is null or ` +
  `coalesce(${scope} = any(${s}), false)))`;

const recordFromRow = (r: Row): RecordEntity => ({
  collection: r.collection as string,
  id: r.id as string,
  version: r.version as number,
  data: r.data as Record<string, unknown>,
  updatedAt: isoRequired(r.updated_at as Date),
});

type Row = Record<string, unknown>;

const userFromRow = (r: Row): UserEntity => ({
  id: r.id as string,
  displayName: r.display_name as string,
  email: (r.email as string | null) ?? null,
  role: r.role as UserEntity['role'],
  updatedAt: isoRequired(r.updated_at as Date),
});

const productionFromRow = (r: Row): ProductionEntity => ({
  id: r.id as string,
  wellId: r.well_id as string,
  productionDate: r.production_date as string,
  oilVolume: r.oil_volume as number | null,
  gasVolume: r.gas_volume as number | null,
  waterVolume: r.water_volume as number | null,
  tubingPressure: r.tubing_pressure as number | null,
  casingPressure: r.casing_pressure as number | null,
  chokeSize: r.choke_size as number | null,
  runtime: r.runtime as number | null,
  notes: r.notes as string | null,
  updatedAt: isoRequired(r.updated_at as Date),
});

/**
 * Pull reads. Delta pages follow the change log in (xid, seq) order and only take rows whose transaction
 * is older than the oldest one still running (`pg_snapshot_xmin`): every such transaction has finished,
 * so nothing can later appear before a position already handed out — no change is skipped, whatever the
 * order in which concurrent transactions commit. A transaction held open only delays what comes after it.
 */
export class PostgresPullStore implements PullStore {
  private readonly keys = new Map<string, string>();

  constructor(private readonly poolFor: (tenant: Tenant) => pg.Pool) {}

  private query<R extends pg.QueryResultRow>(tenant: Tenant, sql: string, params: unknown[] = []) {
    return guardPostgres(() => this.poolFor(tenant).query<R>(sql, params));
  }

  async cursorKey(tenant: Tenant): Promise<string> {
    let key = this.keys.get(tenant.id);
    if (!key) {
      const { rows } = await this.query<{ cursor_key: string }>(
        tenant,
        'select cursor_key from change_log_state',
      );
      key = rows[0]?.cursor_key ?? '';
      this.keys.set(tenant.id, key);
    }
    return key;
  }

  async snapshotBoundary(tenant: Tenant): Promise<LogPosition> {
    // Everything from transactions at or above the oldest running one comes after this position.
    const { rows } = await this.query<{ xid: string }>(
      tenant,
      `select (pg_snapshot_xmin(pg_current_snapshot())::text::numeric - 1)::text as xid`,
    );
    return { xid: rows[0]?.xid ?? '0', seq: '9223372036854775807' };
  }

  async snapshotPage(
    tenant: Tenant,
    from: { typeIndex: number; afterId: string },
    limit: number,
    productionSince: string,
  ): Promise<{
    page: Omit<PullPage, 'position' | 'hasMore'>;
    next: { typeIndex: number; afterId: string } | undefined;
  }> {
    const page: Omit<PullPage, 'position' | 'hasMore'> = {
      wells: [],
      equipment: [],
      users: [],
      production: [],
      records: [],
      deleted: [],
    };
    let remaining = limit;
    let typeIndex = from.typeIndex;
    let afterId = from.afterId;
    while (remaining > 0 && typeIndex < SNAPSHOT_TYPES.length) {
      const type = SNAPSHOT_TYPES[typeIndex];
      // One more than needed tells whether this type has more.
      const rows = await this.snapshotRows(tenant, type ?? 'well', afterId, remaining + 1, productionSince);
      const taken = rows.slice(0, remaining);
      this.addRows(page, type ?? 'well', taken);
      remaining -= taken.length;
      if (rows.length > taken.length) {
        return { page, next: { typeIndex, afterId: String(taken.at(-1)?.id ?? afterId) } };
      }
      typeIndex += 1;
      afterId = '';
    }
    return { page, next: typeIndex < SNAPSHOT_TYPES.length ? { typeIndex, afterId } : undefined };
  }

  private async snapshotRows(
    tenant: Tenant,
    type: (typeof SNAPSHOT_TYPES)[number],
    afterId: string,
    limit: number,
    since: string,
  ) {
    const sql: Record<typeof type, string> = {
      well: `select * from wells where status = 'ACTIVE' and id > $1 order by id limit $2`,
      equipment: `select e.* from equipment e join wells w on w.id = e.well_id
                  where w.status = 'ACTIVE' and e.deleted_at is null and e.id > $1 order by e.id limit $2`,
      user: `select * from users where id > $1 order by id limit $2`,
      production: `select * from production_records where production_date >= $3::date and id::text > $1
                   order by id::text limit $2`,
    };
    const params = type === 'production' ? [afterId, limit, since] : [afterId, limit];
    return (await this.query<Row>(tenant, sql[type], params)).rows;
  }

  private addRows(page: Omit<PullPage, 'position' | 'hasMore'>, type: EntityType, rows: Row[]): void {
    for (const row of rows) {
      if (type === 'well') page.wells.push(wellFromRow(row as unknown as Parameters<typeof wellFromRow>[0]));
      else if (type === 'equipment')
        page.equipment.push(equipmentFromRow(row as unknown as Parameters<typeof equipmentFromRow>[0]));
      else if (type === 'user') page.users.push(userFromRow(row));
      else page.production.push(productionFromRow({ ...row, id: String(row.id) }));
    }
  }

  async changesPage(
    tenant: Tenant,
    after: LogPosition,
    limit: number,
    records: { target: HeldSet; watch: HeldSet },
  ): Promise<PullPage> {
    const { rows } = await this.query<ChangeRow>(
      tenant,
      // One statement, so one snapshot: `changes` takes the first limit + 1 rows a device needs (every v1
      // row; record rows whose scope now or before is in the watched set), `top` the last row visible at all,
      // so a page that skipped rows of other scopes still moves the position past them. Ordered by the
      // columns themselves (c.xid, c.seq): a bare `order by xid, seq` would sort the text outputs, and
      // '12' < '3' sends a page's cursor back (a change twice) or ahead.
      `with h as (select pg_snapshot_xmin(pg_current_snapshot()) as x),
       changes as (
         select c.seq, c.xid, c.entity_type, c.entity_id, c.op, c.collection
         from change_log c cross join h left join sync_collections sc on sc.name = c.collection
         where (c.xid, c.seq) > ($1::xid8, $2::bigint) and c.xid < h.x
           and (c.entity_type <> 'record'
                or ${inSet('c.collection', 'c.scope', '(sc.scope_field is not null)', 4, 5)}
                or ${inSet('c.collection', 'c.old_scope', '(sc.scope_field is not null)', 4, 5)})
         order by c.xid, c.seq limit $3),
       top as (
         select c.seq, c.xid from change_log c cross join h
         where (c.xid, c.seq) > ($1::xid8, $2::bigint) and c.xid < h.x
         order by c.xid desc, c.seq desc limit 1)
       select 'change' as kind, seq::text as seq, xid::text as xid, entity_type, entity_id, op, collection
       from changes
       union all
       select 'top', seq::text, xid::text, null, null, null, null from top`,
      [after.xid, after.seq, limit + 1, records.watch.collections, records.watch.scopes],
    );
    const relevant = rows.filter((r) => r.kind === 'change').sort((a, b) => comparePositions(a, b));
    const top = rows.find((r) => r.kind === 'top');
    const changes = relevant.slice(0, limit);
    const hasMore = relevant.length > limit;
    const last = hasMore ? changes.at(-1) : (top ?? changes.at(-1));
    const position = last ? { xid: last.xid, seq: last.seq } : after;
    // The entities' current state, once each even when they changed several times in this page.
    const ids = (type: EntityType) => [
      ...new Set(changes.filter((c) => c.entity_type === type).map((c) => c.entity_id)),
    ];
    const recordKeys = [
      ...new Map(
        changes
          .filter((c) => c.entity_type === 'record')
          .map((c) => [`${c.collection ?? ''}\u0000${c.entity_id}`, [c.collection ?? '', c.entity_id]]),
      ).values(),
    ];
    const [wells, equipment, users, production, recordRows] = await Promise.all([
      this.byIds(tenant, 'select * from wells where id = any($1)', ids('well')),
      this.byIds(tenant, 'select * from equipment where id = any($1)', ids('equipment')),
      this.byIds(tenant, 'select * from users where id = any($1)', ids('user')),
      this.byIds(tenant, 'select * from production_records where id::text = any($1)', ids('production')),
      recordKeys.length
        ? this.query<Row>(
            tenant,
            `select r.collection, r.id, r.version, r.data, r.updated_at, r.scope, r.deleted_at,
                    sc.scope_field is not null as scoped
             from unnest($1::text[], $2::text[]) k(collection, id)
             join records r on r.collection = k.collection and r.id = k.id
             join sync_collections sc on sc.name = r.collection`,
            [recordKeys.map((k) => k[0]), recordKeys.map((k) => k[1])],
          ).then((r) => r.rows)
        : Promise.resolve([] as Row[]),
    ]);
    const page: PullPage = {
      wells: [],
      equipment: [],
      users: [],
      production: [],
      records: [],
      deleted: [],
      position,
      hasMore,
    };
    page.wells = wells.map((r) => wellFromRow(r as unknown as Parameters<typeof wellFromRow>[0])) as Well[];
    for (const row of equipment) {
      if (row.deleted_at) page.deleted.push({ type: 'equipment', id: row.id as string });
      else
        page.equipment.push(
          equipmentFromRow(row as unknown as Parameters<typeof equipmentFromRow>[0]) as Equipment,
        );
    }
    page.users = users.map(userFromRow);
    page.production = production.map((r) => productionFromRow({ ...r, id: String(r.id) }));
    // A changed record goes as its current state when the device's set holds it, else as a deletion (only
    // the id): deleted, or moved out of the device's scopes. Its data never goes out of the target set.
    for (const row of recordRows) {
      const key = {
        collection: row.collection as string,
        scope: row.scope as string | null,
        scoped: row.scoped as boolean,
      };
      if (!row.deleted_at && holds(records.target, key)) page.records.push(recordFromRow(row));
      else page.deleted.push({ type: 'RECORD', collection: key.collection, id: row.id as string });
    }
    return page;
  }

  async syncSchema(
    tenant: Tenant,
  ): Promise<{ schemaVersion: number; collections: { name: string; scoped: boolean }[] }> {
    const { rows } = await this.query<{ name: string | null; scoped: boolean | null; version: number }>(
      tenant,
      `select c.name, c.scope_field is not null as scoped,
              (select coalesce(max(schema_version), 0) from sync_schema_changes)::int as version
       -- Builtin collections (the oil-gas pack's v1 entities) hold no records: the v1 keys serve them.
       from (select 1) one left join sync_collections c on not c.builtin order by c.name`,
    );
    return {
      schemaVersion: rows[0]?.version ?? 0,
      collections: rows.flatMap((r) =>
        r.name === null ? [] : [{ name: r.name, scoped: r.scoped === true }],
      ),
    };
  }

  async recordsPage(
    tenant: Tenant,
    filter: { from: HeldSet; minus: HeldSet },
    after: RecordPosition,
    limit: number,
  ): Promise<RecordEntity[]> {
    if (filter.from.collections.length === 0) return [];
    const scoped = '(sc.scope_field is not null)';
    const { rows } = await this.query<Row>(
      tenant,
      `select r.collection, r.id, r.version, r.data, r.updated_at
       from records r join sync_collections sc on sc.name = r.collection
       where r.deleted_at is null and (r.collection, r.id) > ($1::text, $2::text)
         and ${inSet('r.collection', 'r.scope', scoped, 3, 4)}
         and not ${inSet('r.collection', 'r.scope', scoped, 5, 6)}
       order by r.collection, r.id limit $7`,
      [
        after.collection,
        after.id,
        filter.from.collections,
        filter.from.scopes,
        filter.minus.collections,
        filter.minus.scopes,
        limit,
      ],
    );
    return rows.map(recordFromRow);
  }

  async findRecords(tenant: Tenant, refs: { collection: string; id: string }[]): Promise<StoredRecord[]> {
    if (!refs.length) return [];
    const { rows } = await this.query<Row>(
      tenant,
      `select r.collection, r.id, r.version, r.data, r.updated_at, r.created_at, r.deleted_at, r.scope
       from records r join unnest($1::text[], $2::text[]) as k(collection, id)
         on r.collection = k.collection and r.id = k.id`,
      [refs.map((r) => r.collection), refs.map((r) => r.id)],
    );
    return rows.map((row) => ({
      ...recordFromRow(row),
      scope: (row.scope as string | null) ?? null,
      createdAt: isoRequired(row.created_at as Date),
      deletedAt: row.deleted_at ? isoRequired(row.deleted_at as Date) : null,
    }));
  }

  async saveHeldSets(tenant: Tenant, sets: { hash: string; set: HeldSet }[]): Promise<void> {
    if (!sets.length) return;
    await this.query(
      tenant,
      // Inserts the missing sets and refreshes `used_at` of day-old ones; a set already there and fresh
      // (every page of a steady delta) is neither written nor locked, so a pull stays a read.
      // Scopes as JSON: a text[][] cannot hold one null (every scope) beside lists.
      `with s as (
         select x->>'hash' as hash, array(select jsonb_array_elements_text(x->'collections')) as collections,
                case when x->'scopes' = 'null'::jsonb then null
                     else array(select jsonb_array_elements_text(x->'scopes')) end as scopes
         from jsonb_array_elements($1::jsonb) x),
       refreshed as (
         update pull_held_sets p set used_at = now() from s
         where p.hash = s.hash and p.used_at < now() - interval '1 day' returning p.hash)
       insert into pull_held_sets (hash, collections, scopes)
       select s.hash, s.collections, s.scopes from s
       where not exists (select 1 from pull_held_sets p where p.hash = s.hash)
       on conflict (hash) do nothing`,
      [JSON.stringify(sets.map(({ hash, set }) => ({ hash, ...set })))],
    );
  }

  async loadHeldSets(tenant: Tenant, hashes: string[]): Promise<Map<string, HeldSet>> {
    if (!hashes.length) return new Map();
    const { rows } = await this.query<{ hash: string; collections: string[]; scopes: string[] | null }>(
      tenant,
      'select hash, collections, scopes from pull_held_sets where hash = any($1)',
      [hashes],
    );
    return new Map(rows.map((r) => [r.hash, { collections: r.collections, scopes: r.scopes }]));
  }

  async nextXid(tenant: Tenant): Promise<string> {
    const { rows } = await this.query<{ xid: string }>(
      tenant,
      'select pg_snapshot_xmax(pg_current_snapshot())::text as xid',
    );
    return rows[0]?.xid ?? '0';
  }

  private async byIds(tenant: Tenant, sql: string, ids: string[]): Promise<Row[]> {
    if (!ids.length) return [];
    return (await this.query<Row>(tenant, sql, [ids])).rows;
  }

  async prunedThrough(tenant: Tenant): Promise<LogPosition> {
    const { rows } = await this.query<{ xid: string; seq: string }>(
      tenant,
      'select pruned_xid::text as xid, pruned_seq::text as seq from change_log_state',
    );
    return rows[0] ?? { xid: '0', seq: '0' };
  }

  async countChangesAfter(
    tenant: Tenant,
    after: LogPosition,
    cap: number,
    heldSet?: string,
  ): Promise<number> {
    const scoped = '(sc.scope_field is not null)';
    // The delta's filter (changesPage) with the set read in the same statement: a record row counts when its
    // scope now or before is in the set. `h` has at most one row (the primary key); no row and a hash other
    // than the empty set's means the set is not known (pruned, not saved yet): count the row, as before.
    // Bounded by `cap` whatever the log holds.
    const { rows } = await this.query<{ n: number }>(
      tenant,
      `select count(*)::int as n from (
         select 1 from change_log c
         left join sync_collections sc on sc.name = c.collection
         left join pull_held_sets h on h.hash = $4::text
         where (c.xid, c.seq) > ($1::xid8, $2::bigint) and c.xid < pg_snapshot_xmin(pg_current_snapshot())
           and (c.entity_type <> 'record' or $4::text is null or (h.hash is null and $4::text <> $5::text)
                or coalesce(${inSetOf('c.collection', 'c.scope', scoped, 'h.collections', 'h.scopes')}, false)
                or coalesce(${inSetOf('c.collection', 'c.old_scope', scoped, 'h.collections', 'h.scopes')}, false))
         limit $3) c`,
      [after.xid, after.seq, cap, heldSet ?? null, EMPTY_HASH],
    );
    return rows[0]?.n ?? 0;
  }

  async positionBefore(tenant: Tenant, since: Date): Promise<LogPosition> {
    // The first row (in position order) of a transaction begun at or after `since` — rows are found by
    // time (index on changed_at), then ordered — and the snapshot boundary (every transaction still running):
    // the earlier of the two, minus one sequence number. Ordered by the typed columns (p.xid, p.seq): a bare
    // `order by xid, seq` sorts the text outputs, and '1006' < '828' would start after every change since.
    const { rows } = await this.query<{ xid: string; seq: string }>(
      tenant,
      `with w as materialized (select xid, seq from change_log where changed_at >= $1),
            first as (select xid, seq - 1 as seq from w order by xid, seq limit 1),
            boundary as (select (pg_snapshot_xmin(pg_current_snapshot())::text::numeric - 1)::text::xid8 as xid,
                                9223372036854775807::bigint as seq)
       select p.xid::text as xid, p.seq::text as seq
       from (select * from first union all select * from boundary) p
       order by p.xid, p.seq limit 1`,
      [since],
    );
    return rows[0] ?? { xid: '0', seq: '0' };
  }

  async issueSyncPoint(
    tenant: Tenant,
    holder: SyncPointHolder,
    atMs: number,
    position: LogPosition,
  ): Promise<number> {
    // The first free millisecond from `atMs` (a holder pulling twice in one millisecond gets the next); a
    // concurrent pull of the same holder may take it between the check and the insert: then look again (a
    // second further only if a whole second of points were taken).
    for (let attempt = 0; ; attempt += 1) {
      const from = atMs + Math.floor(attempt / 10) * 1000;
      const { rows } = await this.query<{ issued_ms: string }>(
        tenant,
        `insert into compat_sync_points (dialect, user_id, device_id, issued_ms, xid, seq)
         select $1, $2, $3, c.ms, $5::xid8, $6::bigint
         from generate_series($4::bigint, $4::bigint + 999) as c(ms)
         where not exists (select 1 from compat_sync_points p where p.dialect = $1 and p.user_id = $2
                             and p.device_id = $3 and p.issued_ms = c.ms)
         order by c.ms limit 1
         on conflict do nothing
         returning issued_ms::text`,
        [holder.dialect, holder.userId, holder.deviceId, from, position.xid, position.seq],
      );
      if (rows[0]) return Number(rows[0].issued_ms);
    }
  }

  async findSyncPoint(
    tenant: Tenant,
    holder: SyncPointHolder,
    atMs: number,
  ): Promise<LogPosition | undefined> {
    const { rows } = await this.query<{ xid: string; seq: string }>(
      tenant,
      `select xid::text, seq::text from compat_sync_points
       where dialect = $1 and user_id = $2 and device_id = $3 and issued_ms = $4`,
      [holder.dialect, holder.userId, holder.deviceId, atMs],
    );
    return rows[0];
  }

  async prune(tenant: Tenant, olderThanDays: number): Promise<number> {
    const { rows } = await this.query<{ n: number }>(
      tenant,
      `with gone as (
         delete from change_log where changed_at < now() - make_interval(days => $1) returning xid, seq),
       last as (select xid, seq from gone order by xid desc, seq desc limit 1)
       update change_log_state s set pruned_xid = greatest(s.pruned_xid, last.xid),
         pruned_seq = case when last.xid > s.pruned_xid or (last.xid = s.pruned_xid and last.seq > s.pruned_seq)
                           then last.seq else s.pruned_seq end
       from last
       returning (select count(*) from gone)::int as n`,
      [olderThanDays],
    );
    // Held sets no cursor within the retention can still name (a pull refreshes its set daily).
    await this.query(
      tenant,
      'delete from pull_held_sets where used_at < now() - make_interval(days => $1 + 1)',
      [olderThanDays],
    );
    // Sync points: a position older than the change history cannot be served anyway (the dialect falls back),
    // and a holder only ever sends back one of its latest.
    await this.query(
      tenant,
      `delete from compat_sync_points where created_at < now() - make_interval(days => $1)
          or (dialect, user_id, device_id, issued_ms) in (
            select dialect, user_id, device_id, issued_ms from (
              select dialect, user_id, device_id, issued_ms,
                     row_number() over (partition by dialect, user_id, device_id order by issued_ms desc) as n
              from compat_sync_points) r
            where r.n > $2)`,
      [olderThanDays, SYNC_POINTS_KEPT],
    );
    return rows[0]?.n ?? 0;
  }
}
