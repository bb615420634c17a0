import { tenantIdSchema } from '../auth/principal.js';
import { DependencyUnavailableError, ValidationError } from '../errors.js';
import type { SchemaStore } from './ports/schema.js';
import type { Tenant, TenantDatabaseAdmin, TenantLocation, TenantRegistry } from './ports/tenancy.js';
import { installPacks, type PackInstall } from './schema.js';

/** Database name of a tenant: one-to-one, as tenant ids have no underscores. */
export const tenantDatabaseName = (tenantId: string): string =>
  `fieldsync_tenant_${tenantId.replaceAll('-', '_')}`;

export interface ProvisionResult {
  tenant: Tenant;
  databaseCreated: boolean;
  migrationsApplied: string[];
  /** What installing the packs did, per collection (created, updated, unchanged). */
  packs: PackInstall['installed'];
}

/**
 * The servers in placement order: fewest tenants first, ties by name (docs/deploy.md "Tenant servers").
 * Pure, so the rule is tested for all inputs.
 */
export function placementOrder(servers: readonly string[], counts: ReadonlyMap<string, number>): string[] {
  return [...servers].sort(
    (a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || (a < b ? -1 : a > b ? 1 : 0),
  );
}

/**
 * Creates the database of a new tenant on the least-loaded server that answers (or on `server` when given,
 * without falling back). ValidationError for a server not configured; DependencyUnavailableError naming
 * every server tried when none answers.
 */
async function place(
  deps: { tenants: TenantRegistry; tenantAdmin: TenantDatabaseAdmin },
  databaseName: string,
  server: string | undefined,
): Promise<{ location: TenantLocation; databaseCreated: boolean }> {
  if (server !== undefined) {
    const location = { server, databaseName };
    return { location, databaseCreated: await deps.tenantAdmin.ensureDatabase(location) };
  }
  const order = placementOrder(deps.tenantAdmin.servers, await deps.tenants.countByServer());
  const down: string[] = [];
  for (const candidate of order) {
    const location = { server: candidate, databaseName };
    try {
      return { location, databaseCreated: await deps.tenantAdmin.ensureDatabase(location) };
    } catch (error) {
      // An unreachable server is skipped: a new tenant goes to the next least-loaded one.
      if (!(error instanceof DependencyUnavailableError)) throw error;
      down.push(candidate);
    }
  }
  const error = new DependencyUnavailableError(`postgres servers ${down.join(', ')} (none reachable)`, 30);
  error.message = `no Postgres server is reachable to place the tenant (tried ${down.join(', ')})`;
  throw error;
}

/**
 * Creates the tenant's database if needed, migrates it, installs the given packs (SPEC v1.1 "Collections":
 * shared/packs/<name>.json; none by default), then registers it: safe to run again (an installed pack is left
 * as it is, or upgraded compatibly). A new tenant goes to `options.server`, or else to the least-loaded
 * reachable server; a registered one stays on its server (naming another is a ValidationError: tenants are
 * not moved). ValidationError for a bad id or an unknown pack or server; ConflictError PACK_CONFLICT when
 * packs cannot be combined or clash with the tenant's collections (then it is not registered).
 */
export async function provisionTenant(
  deps: { tenants: TenantRegistry; tenantAdmin: TenantDatabaseAdmin; schemas: SchemaStore },
  tenantId: string,
  displayName?: string,
  packs: readonly string[] = [],
  options: { server?: string } = {},
): Promise<ProvisionResult> {
  const id = tenantIdSchema.safeParse(tenantId);
  if (!id.success) {
    throw new ValidationError('invalid tenant id', [
      { path: 'tenantId', message: id.error.issues[0]?.message ?? '' },
    ]);
  }
  const existing = await deps.tenants.find(id.data);
  if (existing && options.server !== undefined && options.server !== existing.server) {
    throw new ValidationError(`tenant ${id.data} lives on server ${existing.server}; tenants are not moved`, [
      { path: 'server', message: `must be ${existing.server} (or left out) for this tenant` },
    ]);
  }
  const databaseName = existing?.databaseName ?? tenantDatabaseName(id.data);
  const { location, databaseCreated } = await place(deps, databaseName, existing?.server ?? options.server);
  const migrationsApplied = await deps.tenantAdmin.migrate(location);
  // The packs before registering: a tenant is served only once its schema is complete.
  const unregistered: Tenant = {
    id: id.data,
    ...location,
    displayName: displayName ?? null,
    status: 'ACTIVE',
  };
  const installed =
    packs.length > 0 ? await installPacks(deps, unregistered, packs, 'provisioning') : { installed: [] };
  const tenant = await deps.tenants.register({ id: id.data, ...location, displayName: displayName ?? null });
  await deps.tenants.markMigrated(id.data);
  return { tenant, databaseCreated, migrationsApplied, packs: installed.installed };
}

export interface MigrationProgress {
  tenantId: string;
  index: number;
  total: number;
  applied: string[];
  error?: string;
}

/** Migrates every registered tenant one after another, reporting each; one failure does not stop the rest. */
export async function migrateAllTenants(
  deps: { tenants: TenantRegistry; tenantAdmin: TenantDatabaseAdmin },
  onProgress: (progress: MigrationProgress) => void,
): Promise<{ migrated: number; failed: number }> {
  const tenants = await deps.tenants.list();
  let failed = 0;
  for (const [index, tenant] of tenants.entries()) {
    try {
      const applied = await deps.tenantAdmin.migrate(tenant);
      await deps.tenants.markMigrated(tenant.id);
      onProgress({ tenantId: tenant.id, index: index + 1, total: tenants.length, applied });
    } catch (error) {
      failed += 1;
      onProgress({
        tenantId: tenant.id,
        index: index + 1,
        total: tenants.length,
        applied: [],
        error: (error as Error).message,
      });
    }
  }
  return { migrated: tenants.length - failed, failed };
}
