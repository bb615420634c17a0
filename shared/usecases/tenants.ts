import { tenantIdSchema } from '../auth/principal.js';
import { ValidationError } from '../errors.js';
import type { SchemaStore, Tenant, TenantDatabaseAdmin, TenantRegistry } from '../ports.js';
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
 * Creates the tenant's database if needed, migrates it, installs the given packs (SPEC v1.1 "Collections":
 * shared/packs/<name>.json; none by default), then registers it: safe to run again (an installed pack is left
 * as it is, or upgraded compatibly). ValidationError for a bad id or an unknown pack; ConflictError
 * PACK_CONFLICT when packs cannot be combined or clash with the tenant's collections (then it is not
 * registered).
 */
export async function provisionTenant(
  deps: { tenants: TenantRegistry; tenantAdmin: TenantDatabaseAdmin; schemas: SchemaStore },
  tenantId: string,
  displayName?: string,
  packs: readonly string[] = [],
): Promise<ProvisionResult> {
  const id = tenantIdSchema.safeParse(tenantId);
  if (!id.success) {
    throw new ValidationError('invalid tenant id', [
      { path: 'tenantId', message: id.error.issues[0]?.message ?? '' },
    ]);
  }
  const databaseName = tenantDatabaseName(id.data);
  const databaseCreated = await deps.tenantAdmin.ensureDatabase(databaseName);
  const migrationsApplied = await deps.tenantAdmin.migrate(databaseName);
  // The packs before registering: a tenant is served only once its schema is complete.
  const unregistered: Tenant = {
    id: id.data,
    databaseName,
    displayName: displayName ?? null,
    status: 'ACTIVE',
  };
  const installed =
    packs.length > 0 ? await installPacks(deps, unregistered, packs, 'provisioning') : { installed: [] };
  const tenant = await deps.tenants.register({ id: id.data, databaseName, displayName: displayName ?? null });
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
      const applied = await deps.tenantAdmin.migrate(tenant.databaseName);
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
