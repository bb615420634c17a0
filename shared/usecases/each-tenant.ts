/**
 * "For each tenant, isolated": how every job that walks the tenants (the timers pruneChangeLog and
 * sweepPhotos, `npm start`'s prune) runs its per-tenant work. One tenant whose database is missing, down or
 * broken must not stop the tenants after it (issue 10, item 9), and must not pass silently either.
 */
import type { Logger } from '../logger.js';
import { recordTenantJobFailure } from '../observability.js';
import type { Tenant, TenantRegistry } from './ports/tenancy.js';
import { describeError } from '../redact.js';

/** One tenant's outcome of a job: its value, or why it failed (a redacted message and error name/code). */
export type TenantJobResult<T> =
  | { tenantId: string; ok: true; value: T }
  | { tenantId: string; ok: false; error: { name: string; message: string; code?: string } };

/**
 * Runs `work` for every registered tenant (only ACTIVE ones with `activeOnly`), one after another, each in
 * its own try/catch. A tenant's failure is logged (warn, with `job` and `tenantId`), counted in the
 * `fieldsync.tenant_job.failures` metric, and returned as `{ ok: false, error }`; the next tenant runs
 * regardless. Returns one result per tenant walked, in the registry's order (by id). Only the registry
 * lookup itself can throw (no tenant list, nothing to isolate).
 */
export async function forEachTenant<T>(
  deps: { tenants: TenantRegistry; log: Logger },
  job: string,
  work: (tenant: Tenant) => Promise<T>,
  options: { activeOnly?: boolean } = {},
): Promise<TenantJobResult<T>[]> {
  const results: TenantJobResult<T>[] = [];
  for (const tenant of await deps.tenants.list()) {
    if (options.activeOnly && tenant.status !== 'ACTIVE') continue;
    try {
      results.push({ tenantId: tenant.id, ok: true, value: await work(tenant) });
    } catch (error) {
      const described = describeError(error);
      deps.log.warn({ job, tenantId: tenant.id, err: described }, `${job} failed for a tenant`);
      recordTenantJobFailure(job, tenant.id);
      results.push({ tenantId: tenant.id, ok: false, error: described });
    }
  }
  return results;
}

/** The tenants a job failed for, for its summary log line. */
export const failedTenants = (results: TenantJobResult<unknown>[]): string[] =>
  results.flatMap((r) => (r.ok ? [] : [r.tenantId]));
