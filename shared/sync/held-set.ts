import { createHash } from 'node:crypto';

/**
 * Selective sync's held set (SPEC v1.1 "Scopes (selective sync)", docs/selective-sync.md): which records a
 * device holds, as collections × scopes. A record (collection c, scope value s) is in the set when c is one
 * of `collections` and either c has no scope field, or `scopes` is null (every scope, the scope-less records
 * of a scoped collection included: MANAGER/ADMIN by default), or s is one of `scopes`.
 *
 * Pure: the pull use case and the Postgres pull store (which writes the same rule in SQL) both follow it.
 */
export interface HeldSet {
  /** Collection names, sorted, without duplicates. */
  collections: string[];
  /** Scope values, sorted, without duplicates; null: every scope. */
  scopes: string[] | null;
}

/** What the held-set rule needs of a record (or of a change-log row: the scope then or before). */
export interface RecordKey {
  collection: string;
  /** The record's scope value (text), null when it has none. */
  scope: string | null;
  /** Whether the collection has a scope field. */
  scoped: boolean;
}

/** The set holding nothing (a device before its first records). */
export const EMPTY_SET: HeldSet = { collections: [], scopes: [] };
/** The hash standing for {@link EMPTY_SET}; never stored. */
export const EMPTY_HASH = '0';

const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort();

/** The set in canonical form (sorted, no duplicates), so equal sets hash alike. */
export const heldSet = (collections: Iterable<string>, scopes: Iterable<string> | null): HeldSet => ({
  collections: sortedUnique(collections),
  scopes: scopes === null ? null : sortedUnique(scopes),
});

/** A short stable name of a set (22 base64url characters of its SHA-256; {@link EMPTY_HASH} for the empty set). */
export function heldSetHash(set: HeldSet): string {
  if (isEmpty(set)) return EMPTY_HASH;
  const canonical = heldSet(set.collections, set.scopes);
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url').slice(0, 22);
}

/** True when the set can hold no record (no collection, or no scope of a scoped collection only). */
export const isEmpty = (set: HeldSet): boolean => set.collections.length === 0;

/** Whether the record is in the set (the rule in the module comment). */
export function holds(set: HeldSet, record: RecordKey): boolean {
  if (!set.collections.includes(record.collection)) return false;
  if (!record.scoped || set.scopes === null) return true;
  return record.scope !== null && set.scopes.includes(record.scope);
}

/** The smallest set of this shape holding both (collections ∪, scopes ∪): a superset of a ∪ b. */
export const hull = (a: HeldSet, b: HeldSet): HeldSet =>
  heldSet(
    [...a.collections, ...b.collections],
    a.scopes === null || b.scopes === null ? null : [...a.scopes, ...b.scopes],
  );

/** a ∩ b, exactly (collections ∩, scopes ∩; null is every scope). */
export function intersect(a: HeldSet, b: HeldSet): HeldSet {
  const collections = a.collections.filter((c) => b.collections.includes(c));
  if (a.scopes === null) return heldSet(collections, b.scopes);
  if (b.scopes === null) return heldSet(collections, a.scopes);
  const other = b.scopes;
  return heldSet(
    collections,
    a.scopes.filter((s) => other.includes(s)),
  );
}

/**
 * The set a pull serves: the requested collections (default: every collection of the tenant's schema) and
 * the requested scopes ∩ the readable ones (default: every readable one). `readable` null: every scope
 * (MANAGER, ADMIN); else the caller's grants. A requested scope that is not readable is left out silently,
 * so that a device whose grant was revoked still gets that scope's records as deletions.
 */
export function effectiveSet(input: {
  requestedCollections?: readonly string[] | undefined;
  requestedScopes?: readonly string[] | undefined;
  tenantCollections: readonly string[];
  readable: readonly string[] | null;
}): HeldSet {
  const collections = input.requestedCollections ?? input.tenantCollections;
  const { requestedScopes: requested, readable } = input;
  const scopes =
    requested === undefined
      ? readable
      : readable === null
        ? requested
        : requested.filter((s) => readable.includes(s));
  return heldSet(collections, scopes === null ? null : [...scopes]);
}

/**
 * What a device's records may be, across a change of held set. `sure`: the device has every record of it
 * (as of the cursor's position). `maybe` ⊇ sure: the device may have records of it, none outside it.
 */
export interface HeldState {
  sure: HeldSet;
  maybe: HeldSet;
}

/**
 * A change of held set to `target`: the records of `maybe` not in `target` are sent as deletions (`remove`:
 * in `from`, not in `minus`), the records of `target` not in `sure` as a snapshot (`add`); the delta then
 * continues from the cursor's position filtered by `watch` (= hull(maybe, target): a record that left the
 * old set after the position reaches the device as a deletion) until it has caught up.
 */
export function transition(
  state: HeldState,
  target: HeldSet,
): {
  remove: { from: HeldSet; minus: HeldSet };
  add: { from: HeldSet; minus: HeldSet };
  watch: HeldSet;
} {
  return {
    remove: { from: state.maybe, minus: target },
    add: { from: target, minus: state.sure },
    watch: hull(state.maybe, target),
  };
}

/**
 * The state after a transition to `target` was interrupted by another change: records of `sure` ∩ `target`
 * were never deleted by it (they are in the target), the rest may have been; the device may hold records of
 * the old maybe and of the target (part of its snapshot was sent).
 */
export const interrupted = (state: HeldState, target: HeldSet): HeldState => ({
  sure: intersect(state.sure, target),
  maybe: hull(state.maybe, target),
});
