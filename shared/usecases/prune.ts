import type { Logger } from '../logger.js';
import type { PullStore, TenantRegistry } from '../ports.js';
import { describeError } from '../redact.js';

/** Prunes every tenant's change log to the retention; one tenant's failure does not stop the others. */
export async function pruneChangeLogs(deps: {
  tenants: TenantRegistry;
  pull: PullStore;
  log: Logger;
  config: { pull: { retentionDays: number } };
}): Promise<number> {
  let total = 0;
  for (const tenant of await deps.tenants.list()) {
    try {
      const pruned = await deps.pull.prune(tenant, deps.config.pull.retentionDays);
      total += pruned;
      if (pruned) deps.log.info({ tenantId: tenant.id, pruned }, 'change log pruned');
    } catch (error) {
      deps.log.warn({ tenantId: tenant.id, err: describeError(error) }, 'change log prune failed');
    }
  }
  return total;
}
