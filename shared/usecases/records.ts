import { isManager, type Principal } from '../auth/principal.js';
import type { PullStore, RecordPosition, StoredRecord } from './ports/pull.js';
import type { ScopeGrantStore } from './ports/scopes.js';
import type { Tenant } from './ports/tenancy.js';
import { EMPTY_SET, heldSet } from '../sync/held-set.js';

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

/** Records per page when {@link liveRecordsIn} reads a scope. */
const LIST_PAGE = 500;

/**
 * Every live (not deleted) record of one collection in one scope, by id, with its creation time — read page by
 * page (PullStore.recordsPage, then findRecords for `createdAt`). The caller checks the scope is readable
 * (readableScopes). For compat routes that answer a scope's whole list at once (e.g. arxos
 * getEquipmentByBuilding): the list is not capped, so use it only where a scope's records fit one answer.
 */
export async function liveRecordsIn(
  deps: RecordReadDeps,
  tenant: Tenant,
  collection: string,
  scope: string,
): Promise<StoredRecord[]> {
  const from = heldSet([collection], [scope]);
  const out: StoredRecord[] = [];
  let after: RecordPosition = { collection: '', id: '' };
  for (;;) {
    const page = await deps.pull.recordsPage(tenant, { from, minus: EMPTY_SET }, after, LIST_PAGE);
    if (page.length === 0) break;
    const stored = await deps.pull.findRecords(
      tenant,
      page.map((r) => ({ collection: r.collection, id: r.id })),
    );
    const byId = new Map(stored.map((r) => [r.id, r]));
    for (const r of page) {
      const found = byId.get(r.id);
      // Deleted between the two reads: left out, as a later read would leave it out.
      if (found && found.deletedAt === null && found.scope === scope) out.push(found);
    }
    const last = page.at(-1);
    if (!last || page.length < LIST_PAGE) break;
    after = { collection: last.collection, id: last.id };
  }
  return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
