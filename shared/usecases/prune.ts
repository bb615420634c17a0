import type { Logger } from '../logger.js';
import type { PullStore } from './ports/pull.js';
import type { TenantRegistry } from './ports/tenancy.js';
import { failedTenants, forEachTenant, type TenantJobResult } from './each-tenant.js';

/**
 * Prunes every tenant's change log to the retention. Each tenant is isolated (forEachTenant): a failure is
 * logged, counted and returned, and the tenants after it are still pruned. Returns the rows pruned in all,
 * and one result per tenant (rows pruned, or the error).
 */
export async function pruneChangeLogs(deps: {
  tenants: TenantRegistry;
  pull: PullStore;
  log: Logger;
  config: { pull: { retentionDays: number } };
}): Promise<{ pruned: number; tenants: TenantJobResult<number>[] }> {
  const results = await forEachTenant(deps, 'pruneChangeLog', async (tenant) => {
    const pruned = await deps.pull.prune(tenant, deps.config.pull.retentionDays);
    if (pruned) deps.log.info({ tenantId: tenant.id, pruned }, 'change log pruned');
    return pruned;
  });
  const pruned = results.reduce((sum, r) => sum + (r.ok ? r.value : 0), 0);
  const failed = failedTenants(results);
  if (failed.length) deps.log.error({ failed }, 'change log prune failed for some tenants');
  return { pruned, tenants: results };
}
