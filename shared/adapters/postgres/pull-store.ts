import type pg from 'pg';
import type { EntityType, ProductionEntity, UserEntity } from '../../contracts/pull.js';
import type { Equipment, Well } from '../../contracts/reference-data.js';
import type { LogPosition, PullPage, PullStore, Tenant } from '../../ports.js';
import { guardPostgres } from './connection.js';
import { equipmentFromRow, wellFromRow } from './reference-data-store.js';
import { isoRequired } from './types.js';

/** Snapshot order: one entity type after another, each by id. */
const SNAPSHOT_TYPES = ['well', 'equipment', 'user', 'production'] as const;

interface ChangeRow {
  seq: string;
  xid: string;
  entity_type: EntityType;
  entity_id: string;
  op: 'UPSERT' | 'DELETE';
}

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

  async changesPage(tenant: Tenant, after: LogPosition, limit: number): Promise<PullPage> {
    const { rows } = await this.query<ChangeRow>(
      tenant,
      // Ordered by the columns themselves (c.xid, c.seq): a bare `order by xid, seq` would sort the text
      // outputs of the same names, and '12' < '3' sends a page's cursor back (a change twice) or ahead.
      `select c.seq::text as seq, c.xid::text as xid, c.entity_type, c.entity_id, c.op from change_log c
       where (c.xid, c.seq) > ($1::xid8, $2::bigint) and c.xid < pg_snapshot_xmin(pg_current_snapshot())
       order by c.xid, c.seq limit $3`,
      [after.xid, after.seq, limit + 1],
    );
    const changes = rows.slice(0, limit);
    const last = changes.at(-1);
    const position = last ? { xid: last.xid, seq: last.seq } : after;
    // The entities' current state, once each even when they changed several times in this page.
    const ids = (type: EntityType) => [
      ...new Set(changes.filter((c) => c.entity_type === type).map((c) => c.entity_id)),
    ];
    const [wells, equipment, users, production] = await Promise.all([
      this.byIds(tenant, 'select * from wells where id = any($1)', ids('well')),
      this.byIds(tenant, 'select * from equipment where id = any($1)', ids('equipment')),
      this.byIds(tenant, 'select * from users where id = any($1)', ids('user')),
      this.byIds(tenant, 'select * from production_records where id::text = any($1)', ids('production')),
    ]);
    const page: PullPage = {
      wells: [],
      equipment: [],
      users: [],
      production: [],
      deleted: [],
      position,
      hasMore: rows.length > limit,
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
    return page;
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

  async countChangesAfter(tenant: Tenant, after: LogPosition, cap: number): Promise<number> {
    const { rows } = await this.query<{ n: number }>(
      tenant,
      `select count(*)::int as n from (
         select 1 from change_log
         where (xid, seq) > ($1::xid8, $2::bigint) and xid < pg_snapshot_xmin(pg_current_snapshot())
         limit $3) c`,
      [after.xid, after.seq, cap],
    );
    return rows[0]?.n ?? 0;
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
    return rows[0]?.n ?? 0;
  }
}
