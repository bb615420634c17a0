import type pg from 'pg';
import type { ScopeGrant } from '../../contracts/scopes.js';
import type { ScopeGrantStore } from '../../usecases/ports/scopes.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import { guardPostgres } from './connection.js';
import { isoRequired } from './types.js';

interface GrantRow {
  scope: string;
  user_id: string;
  granted_by: string | null;
  granted_at: Date;
}

const grantFromRow = (r: GrantRow): ScopeGrant => ({
  scope: r.scope,
  userId: r.user_id,
  grantedBy: r.granted_by,
  grantedAt: isoRequired(r.granted_at),
});

/** Scope grants in the tenant database (table scope_grants, migration 0008). */
export class PostgresScopeGrantStore implements ScopeGrantStore {
  constructor(private readonly poolFor: (tenant: Tenant) => pg.Pool) {}

  private query<R extends pg.QueryResultRow>(tenant: Tenant, sql: string, params: unknown[] = []) {
    return guardPostgres(() => this.poolFor(tenant).query<R>(sql, params));
  }

  async grant(
    tenant: Tenant,
    scope: string,
    userId: string,
    grantedBy: string,
  ): Promise<{ grant: ScopeGrant; created: boolean }> {
    // One statement: the new row, or (on conflict) the one already there, unchanged.
    const { rows } = await this.query<GrantRow & { created: boolean }>(
      tenant,
      `with added as (
         insert into scope_grants (scope, user_id, granted_by) values ($1, $2, $3)
         on conflict (scope, user_id) do nothing
         returning scope, user_id, granted_by, granted_at, true as created)
       select * from added
       union all
       select scope, user_id, granted_by, granted_at, false from scope_grants
       where scope = $1 and user_id = $2 and not exists (select 1 from added)`,
      [scope, userId, grantedBy],
    );
    const row = rows[0];
    if (!row) throw new Error('the grant was neither added nor found');
    return { grant: grantFromRow(row), created: row.created };
  }

  async revoke(tenant: Tenant, scope: string, userId: string): Promise<boolean> {
    const { rowCount } = await this.query(
      tenant,
      'delete from scope_grants where scope = $1 and user_id = $2',
      [scope, userId],
    );
    return (rowCount ?? 0) > 0;
  }

  async list(tenant: Tenant, userId?: string): Promise<ScopeGrant[]> {
    const { rows } = await this.query<GrantRow>(
      tenant,
      `select scope, user_id, granted_by, granted_at from scope_grants
       where $1::text is null or user_id = $1 order by scope, user_id`,
      [userId ?? null],
    );
    return rows.map(grantFromRow);
  }

  async scopesOf(tenant: Tenant, userId: string): Promise<string[]> {
    const { rows } = await this.query<{ scope: string }>(
      tenant,
      'select scope from scope_grants where user_id = $1 order by scope',
      [userId],
    );
    return rows.map((r) => r.scope);
  }
}
