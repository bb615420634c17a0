import type pg from 'pg';
import type { Tenant, TenantRegistry } from '../../usecases/ports/tenancy.js';
import { guardPostgres } from './connection.js';

interface TenantRow {
  id: string;
  database_name: string;
  server: string;
  display_name: string | null;
  status: Tenant['status'];
}

const toTenant = (row: TenantRow): Tenant => ({
  id: row.id,
  databaseName: row.database_name,
  server: row.server,
  displayName: row.display_name,
  status: row.status,
});

/**
 * The registry in the control database. Lookups are on every request, so they are cached briefly;
 * unknown tenants are cached for less time, so a tenant provisioned a moment ago is soon served.
 */
export class PostgresTenantRegistry implements TenantRegistry {
  private readonly cache = new Map<string, { tenant: Tenant | undefined; until: number }>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly ttlMillis = 30_000,
    private readonly negativeTtlMillis = 2_000,
  ) {}

  async find(tenantId: string): Promise<Tenant | undefined> {
    const hit = this.cache.get(tenantId);
    if (hit && hit.until > Date.now()) return hit.tenant;
    const { rows } = await guardPostgres(() =>
      this.pool.query<TenantRow>(
        'select id, database_name, server, display_name, status from tenants where id = $1',
        [tenantId],
      ),
    );
    const tenant = rows[0] ? toTenant(rows[0]) : undefined;
    this.cache.set(tenantId, {
      tenant,
      until: Date.now() + (tenant ? this.ttlMillis : this.negativeTtlMillis),
    });
    return tenant;
  }

  async list(): Promise<Tenant[]> {
    const { rows } = await guardPostgres(() =>
      this.pool.query<TenantRow>(
        'select id, database_name, server, display_name, status from tenants order by id',
      ),
    );
    return rows.map(toTenant);
  }

  async register(tenant: {
    id: string;
    databaseName: string;
    server: string;
    displayName?: string | null;
  }): Promise<Tenant> {
    // A tenant registered before keeps its server and database: only its display name may change.
    const { rows } = await guardPostgres(() =>
      this.pool.query<TenantRow>(
        `insert into tenants (id, database_name, server, display_name) values ($1, $2, $3, $4)
         on conflict (id) do update set display_name = coalesce(excluded.display_name, tenants.display_name)
         returning id, database_name, server, display_name, status`,
        [tenant.id, tenant.databaseName, tenant.server, tenant.displayName ?? null],
      ),
    );
    const registered = toTenant(rows[0] as TenantRow);
    this.cache.delete(tenant.id);
    return registered;
  }

  async markMigrated(tenantId: string): Promise<void> {
    await guardPostgres(() =>
      this.pool.query('update tenants set migrated_at = now() where id = $1', [tenantId]),
    );
  }

  async countByServer(): Promise<Map<string, number>> {
    const { rows } = await guardPostgres(() =>
      this.pool.query<{ server: string; n: number }>(
        'select server, count(*)::int as n from tenants group by server',
      ),
    );
    return new Map(rows.map((r) => [r.server, r.n]));
  }
}
