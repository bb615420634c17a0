/**
 * Ports: pull: the change log, snapshots, cursors and compat sync points.
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
import type { PullDeletion, ProductionEntity, RecordEntity, UserEntity } from '../../contracts/pull.js';
import type { Equipment, Well } from '../../contracts/reference-data.js';
import type { HeldSet } from '../../sync/held-set.js';
import type { Tenant } from './tenancy.js';

/** A position in a tenant's change log: (transaction id, sequence), compared in that order. */
export interface LogPosition {
  xid: string;
  seq: string;
}

export interface PullPage {
  wells: Well[];
  equipment: Equipment[];
  users: UserEntity[];
  production: ProductionEntity[];
  records: RecordEntity[];
  deleted: PullDeletion[];
  /** Where the next page starts. */
  position: LogPosition;
  hasMore: boolean;
}

/** The tenant's data as devices download it: a paged snapshot, then changes from the change log. */
export interface PullStore {
  cursorKey(tenant: Tenant): Promise<string>;
  /** The position before every change not yet visible to all: a snapshot begun now is complete up to it. */
  snapshotBoundary(tenant: Tenant): Promise<LogPosition>;
  snapshotPage(
    tenant: Tenant,
    from: { typeIndex: number; afterId: string },
    limit: number,
    productionSince: string,
  ): Promise<{
    page: Omit<PullPage, 'position' | 'hasMore'>;
    next: { typeIndex: number; afterId: string } | undefined;
  }>;
  /**
   * The changes after a position: v1 entities all, records only where a change-log row's scope (now or
   * before) is in `records.watch`; each changed record once, as its current state when it is in
   * `records.target` (and not deleted), else as a deletion. Rows skipped by the filter still move the position.
   */
  changesPage(
    tenant: Tenant,
    after: LogPosition,
    limit: number,
    records: { target: HeldSet; watch: HeldSet },
  ): Promise<PullPage>;
  /** The tenant's collections (with whether each has a scope field) and its schema version (0: none). */
  syncSchema(
    tenant: Tenant,
  ): Promise<{ schemaVersion: number; collections: { name: string; scoped: boolean }[] }>;
  /** Live records in `from` and not in `minus`, by (collection, id) after `after`, at most `limit`. */
  recordsPage(
    tenant: Tenant,
    filter: { from: HeldSet; minus: HeldSet },
    after: RecordPosition,
    limit: number,
  ): Promise<RecordEntity[]>;
  /**
   * The current state of these records (deleted ones included, with `deletedAt`), and each one's scope value:
   * for a route that answers with one record as it is now (compat routes' "server version"). Absent: unknown.
   */
  findRecords(tenant: Tenant, refs: { collection: string; id: string }[]): Promise<StoredRecord[]>;
  /** Stores held sets by hash (idempotent; refreshes a set's use at most daily). */
  saveHeldSets(tenant: Tenant, sets: { hash: string; set: HeldSet }[]): Promise<void>;
  /** The stored held sets of these hashes (a missing one is absent from the map). */
  loadHeldSets(tenant: Tenant, hashes: string[]): Promise<Map<string, HeldSet>>;
  /** The first transaction id not yet assigned: every transaction that has run so far is below it. */
  nextXid(tenant: Tenant): Promise<string>;
  /** How far the log was pruned: a cursor before this cannot be served. */
  prunedThrough(tenant: Tenant): Promise<LogPosition>;
  /**
   * Change-log rows after a position that a delta would send, counted up to `cap` (one bounded statement):
   * every v1 row, and a record row only when its scope now or before (`scope`, `old_scope`) is in the held
   * set stored under `heldSet` — the delta's own filter. Without `heldSet`, or for a hash no longer stored
   * (pruned, or not saved yet), every row counts; the empty set's hash counts no record row.
   */
  countChangesAfter(tenant: Tenant, after: LogPosition, cap: number, heldSet?: string): Promise<number>;
  /**
   * The position before every change made (transaction begun) at or after `since`, and before every change
   * not yet visible to all: a delta from it sends everything written since then, and changes of transactions
   * that began earlier only if they are still running. For a time a client sends that no sync point stands
   * for (docs/compat/wellpulse.md).
   */
  positionBefore(tenant: Tenant, since: Date): Promise<LogPosition>;
  /**
   * Stores a sync point: a compat pull answered the time `atMs` (epoch ms) for `position` (compat_sync_points).
   * Returns the instant issued: `atMs`, or the next millisecond free for this holder when it is taken.
   */
  issueSyncPoint(
    tenant: Tenant,
    holder: SyncPointHolder,
    atMs: number,
    position: LogPosition,
  ): Promise<number>;
  /** The position of the sync point issued to this holder at this instant (epoch ms); undefined if none (or pruned). */
  findSyncPoint(tenant: Tenant, holder: SyncPointHolder, atMs: number): Promise<LogPosition | undefined>;
  /**
   * Drops change-log rows older than `olderThanDays` (and held sets and sync points no cursor within that
   * retention can name; sync points beyond the newest {@link SYNC_POINTS_KEPT} of each holder too).
   */
  prune(tenant: Tenant, olderThanDays: number): Promise<number>;
}

/** Who a sync point was issued to: a compat dialect's pull by a user, for a device ('' when it named none). */
export interface SyncPointHolder {
  dialect: string;
  userId: string;
  deviceId: string;
}

/**
 * Sync points kept per holder: a client sends back the last time it was answered (or, when that answer was
 * lost, one of the few before), so older points of a holder that pulls often only take room.
 */
export const SYNC_POINTS_KEPT = 100;

/** A record as stored: its pull shape, its scope value (null: none), when it was created and deleted. */
export interface StoredRecord extends RecordEntity {
  scope: string | null;
  createdAt: string;
  deletedAt: string | null;
}

/** Where a page of records (snapshot or deletions) resumes: after this (collection, id); '' before all. */
export interface RecordPosition {
  collection: string;
  id: string;
}
