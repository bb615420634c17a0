/**
 * Ports: the chunk engine: applying a chunk of PENDING events in one transaction.
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
import type { ChunkInput, ChunkPlan, ChunkReferences, Outcome, PendingEvent } from '../../sync/plan-chunk.js';
import type { EventError } from '../../contracts/sync.js';
import type { Tenant } from './tenancy.js';

export interface ChunkSummary {
  /** Events settled now (0 when a redelivered chunk found nothing PENDING). */
  processed: number;
  byStatus: Record<string, number>;
  deviceIds: string[];
}

/** A blob that a precheck found and locked (leased) for a PHOTO_ATTACHED event. */
export interface LockedBlob {
  photoId: string;
  blobName: string;
}

/** What a precheck decided: outcomes (REJECTED) for refused events, and the blobs it left locked. */
export interface PrecheckResult {
  outcomes: Map<string, Outcome>;
  /**
   * Blobs left locked: by this check, or found locked by an earlier one. The processor
   * unlocks every one whose photo did not end ATTACHED with it (`unlock`), so a lock never outlives an
   * attach that did not happen (the device could not upload again otherwise).
   */
  locked: LockedBlob[];
}

/**
 * Checks some events against services outside the tenant database before they are planned (the photo
 * of a PHOTO_ATTACHED is in Blob Storage…): an outcome for an event decides it (REJECTED), none lets it go
 * on. Part of every chunk processor (a constructor dependency): no processing path can skip it.
 */
export interface EventPrecheck {
  /** Called with the chunk's PHOTO_ATTACHED events, never while a Postgres transaction is open. */
  check(tenant: Tenant, events: PendingEvent[]): Promise<PrecheckResult>;
  /** Unlocks blobs whose attach did not happen. Throws DependencyUnavailableError('blob') on an outage. */
  unlock(tenant: Tenant, blobNames: string[]): Promise<void>;
}

/** Which events a chunk is: `eventIds` of the batch, or (absent) all of the batch's PENDING events. */
export interface ChunkSelection {
  batchId: string;
  eventIds?: string[] | undefined;
}

/** Applies a chunk of PENDING events to the tenant's data, exactly once, in one transaction. */
export interface ChunkProcessor {
  /**
   * Applies the events of `eventIds` still PENDING, or — `eventIds` absent — every event of the batch still
   * PENDING. Throws only for infrastructure failures (the message is then redelivered). Every attempt runs
   * the processor's precheck on the events it settles.
   */
  process(tenant: Tenant, batchId: string, eventIds?: string[]): Promise<ChunkSummary>;
}

/**
 * Storage of the chunk engine (shared/usecases/apply-chunk.ts), tenant database only: no rule lives here. The
 * use case decides the transaction scope, the lock order, the precheck, the plan and the poison isolation;
 * the store runs the statements (one per table and step, never one per event).
 */
export interface ChunkStore {
  /** Runs `work` in one transaction of the tenant database: commit when it resolves, rollback when it throws. */
  inTransaction<T>(tenant: Tenant, work: (tx: ChunkTransaction) => Promise<T>): Promise<T>;
  /**
   * Runs `work` on one connection of the tenant database that holds the advisory locks of `photoIds` (compared
   * in lower case, taken in sorted order) at session level, with no transaction open: across the precheck's
   * Blob calls, the chunk's transaction on that connection and the unlocks after its commit. Released when
   * `work` settles (a dropped connection releases them too). A direct connection, never through PgBouncer.
   */
  withPhotoLocks<T>(
    tenant: Tenant,
    photoIds: string[],
    work: (session: ChunkSession) => Promise<T>,
  ): Promise<T>;
  /**
   * True when `error` (thrown by a transaction) was caused by the data of an event of the chunk (a value the
   * database refuses), so the same events fail the same way again: the engine isolates the event by halving.
   * False for infrastructure failures (retried).
   */
  isPoison(error: unknown): boolean;
  /** The ids of the batch's events still PENDING (to halve a chunk that named its batch only). */
  pendingEventIds(tenant: Tenant, batchId: string): Promise<string[]>;
  /** Settles one still-PENDING event as REJECTED with `error` (own transaction); returns its device id, if settled. */
  refuse(tenant: Tenant, eventId: string, error: EventError): Promise<string[]>;
}

/** The steps of one chunk's transaction (ChunkStore.inTransaction). */
export interface ChunkTransaction {
  /**
   * The chunk's events still PENDING — those of `eventIds`, or every one of the batch when it is absent —
   * locked for update (a redelivered chunk finds none).
   */
  loadPending(chunk: ChunkSelection): Promise<PendingEvent[]>;
  /** Locks what the chunk rewrites, in sorted order: equipment rows, production and record keys. */
  lockRecords(refs: ChunkReferences): Promise<void>;
  /** Reads everything the plan needs (reference data, records, collections, grants, strategies, photo attaches). */
  loadInput(events: PendingEvent[], refs: ChunkReferences): Promise<Omit<ChunkInput, 'newId' | 'prechecked'>>;
  /**
   * Writes the plan: records, appends, conflicts, superseded and relabelled events, and every event's outcome.
   * Appends the database finds already present are DUPLICATE: their outcomes are set in `plan.outcomes`.
   */
  writePlan(events: PendingEvent[], plan: ChunkPlan): Promise<void>;
}

/** A connection holding a chunk's photo locks at session level (ChunkStore.withPhotoLocks). */
export interface ChunkSession {
  /** Runs `work` in one transaction on this connection: commit when it resolves, rollback when it throws. */
  inTransaction<T>(work: (tx: ChunkTransaction) => Promise<T>): Promise<T>;
  /**
   * Of these locked blobs, the ones whose photo is not ATTACHED with that blob (swept ones are handed back to the
   * sweep), read with no transaction open: the engine unlocks them.
   */
  unattachedBlobs(locked: LockedBlob[]): Promise<string[]>;
}
