import { isManager, type Principal } from '../auth/principal.js';
import type { PullStore, ScopeGrantStore, StoredRecord, Tenant } from '../ports.js';

export interface RecordReadDeps {
  pull: PullStore;
  scopes: ScopeGrantStore;
}

/**
 * The scopes the caller may read (SPEC v1.1 "Scopes"): null for a MANAGER or ADMIN (every scope), else the
 * scopes granted to the OPERATOR.
 */
export async function readableScopes(
  deps: RecordReadDeps,
  tenant: Tenant,
  principal: Principal,
): Promise<Set<string> | null> {
  return isManager(principal) ? null : new Set(await deps.scopes.scopesOf(tenant, principal.userId));
}

/**
 * Records as they are now, by (collection, id), keyed `collection/id` — deleted ones included (`deletedAt`) —
 * keeping only those the caller may read: a record of a scope not granted to an OPERATOR is left out, as a pull
 * would leave it out. For routes that answer with the server's current record (e.g. a 409's server version).
 */
export async function readRecords(
  deps: RecordReadDeps,
  tenant: Tenant,
  principal: Principal,
  refs: { collection: string; id: string }[],
): Promise<Map<string, StoredRecord>> {
  const [found, readable] = await Promise.all([
    deps.pull.findRecords(tenant, refs),
    readableScopes(deps, tenant, principal),
  ]);
  return new Map(
    found
      .filter((r) => readable === null || r.scope === null || readable.has(r.scope))
      .map((r) => [`${r.collection}/${r.id}`, r]),
  );
}
