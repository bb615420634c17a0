/**
 * Ports: the tenant event log: batches, events, their outbox, retries and reads.
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
import type { SyncEvent } from '../../contracts/events.js';
import type { BatchOutcome, EventOutcome, EventError } from '../../contracts/sync.js';
import type { EventRejection } from '../../sync/validate-event.js';
import type { ChunkSelection } from './chunks.js';
import type { Tenant } from './tenancy.js';
import type { OutgoingMessage } from './queue.js';

/**
 * What the transactional outbox holds until the relay delivers it (docs/architecture.md "Push pipeline"):
 * a chunk message for the queue, or a device's push to record in its status (Cosmos).
 */
export type OutboxMessage =
  | { kind: 'chunk'; message: OutgoingMessage }
  | {
      kind: 'device-push';
      push: { deviceId: string; userId: string; platform?: string; appVersion?: string; at: string };
    };

/** One outbox row: its id (uuid) and what it delivers. */
export interface OutboxEntry {
  id: string;
  entry: OutboxMessage;
}

/** The outbox table of a tenant database (rows are written by EventLog in the push's transaction). */
export interface OutboxStore {
  /**
   * Leases up to `limit` rows whose lease has run out (left by a crash or a failed delivery), oldest first,
   * for `leaseSeconds`, in one UPDATE … RETURNING (SKIP LOCKED): two sweeps never hold the same row.
   */
  claimStale(tenant: Tenant, limit: number, leaseSeconds: number): Promise<OutboxEntry[]>;
  /** Deletes delivered rows. */
  remove(tenant: Tenant, ids: string[]): Promise<void>;
}

export interface AcceptedEvent {
  event: SyncEvent;
  /** Its position in the push (`events[index]`): what a refusal found later (EVENT_ID_REUSED) reports. */
  index: number;
  /** sha256 of the event's canonical body: the same id with another hash is EVENT_ID_REUSED. */
  hash: string;
}

/**
 * A stretch of a push's events, checked (sync/validate-event.ts checkEvent), in push order: those accepted,
 * each with its hash, and those refused. A push comes to the event log as a sequence of these, so that
 * checking the next one overlaps Postgres writing this one (usecases/push.ts ACCEPT_PART_SIZE).
 */
export interface CheckedPart {
  accepted: AcceptedEvent[];
  rejected: EventRejection[];
}

export interface BatchHeader {
  id: string;
  deviceId: string;
  userId: string;
  /** The pusher's roles, stored on each event: the processor's scope rule for record writes uses them. */
  roles?: readonly string[];
  receivedAt: string;
  total: number;
}

export interface AcceptResult {
  /**
   * Ids recorded PENDING now: new events, and events pushed again (same id, same body, same device) whose
   * earlier outcome was a retryable REJECTED or FAILED — those are moved to this batch (docs/outcomes.md).
   */
  accepted: string[];
  /** Ids the server already had, with the same body. */
  duplicates: string[];
  /** Every refusal: those found before (invalid, clock skew) plus ids already used with another body. */
  rejected: EventRejection[];
  /** The outbox rows written with the batch (committed with it): the relay delivers them now. */
  outbox: OutboxEntry[];
}

export interface RetryFilter {
  userId?: string;
  deviceId?: string;
  eventIds?: string[];
}

/** The tenant's event log (Postgres): acceptance at push, outcomes, retries. */
export interface EventLog {
  /**
   * Records the batch, its new events as PENDING, and the outbox rows `outbox` builds from the ids recorded
   * now (a pure function: it runs inside the transaction, so no network call) in one transaction. The
   * events come in `parts`, in push order: each part is written (one statement) as soon as it is taken, and
   * the next is taken while that statement runs; taking a part must therefore be CPU work only (checking),
   * never a network call. An id is the event of its first accepted occurrence; a later one is a duplicate
   * of it, or EVENT_ID_REUSED when its body differs.
   */
  acceptBatch(
    tenant: Tenant,
    batch: BatchHeader,
    parts: AsyncIterable<CheckedPart>,
    outbox: (acceptedIds: string[]) => OutboxMessage[],
  ): Promise<AcceptResult>;
  batchOutcome(tenant: Tenant, batchId: string): Promise<(BatchOutcome & { userId: string }) | undefined>;
  /**
   * The outcomes the processor gave these events of one device (ids it does not have are absent): what a
   * DUPLICATE of an event settled earlier stands for (compat routes answer with the original outcome).
   */
  outcomesOf(tenant: Tenant, deviceId: string, eventIds: string[]): Promise<EventOutcome[]>;
  /**
   * Sets retryable events matching the filter (FAILED, or REJECTED with `error.retryable`) back to PENDING
   * and writes the outbox rows `outbox` builds from them (pure, inside the transaction), in one transaction.
   */
  retryFailed(
    tenant: Tenant,
    filter: RetryFilter,
    outbox: (events: { id: string; batchId: string; deviceId: string }[]) => OutboxMessage[],
  ): Promise<{ eventIds: string[]; outbox: OutboxEntry[] }>;
  /**
   * Marks a chunk's still-PENDING events FAILED (the processor gave up on its message): those of `eventIds`,
   * or every one of the batch when absent. Returns how many.
   */
  markFailed(
    tenant: Tenant,
    chunk: ChunkSelection,
    error: { code: string; message: string },
  ): Promise<number>;
  deviceCounts(tenant: Tenant, deviceId: string): Promise<{ pending: number; failed: number }>;
  /**
   * Record events (RECORD_*) of the log, oldest received first, each with whether its conflict is HELD or
   * SETTLED and its record's current version: by ids, or a device's / user's, or (`unsettledOnly`) only
   * those not synced yet — PENDING, FAILED, REJECTED, or CONFLICT with a conflict MANUAL holds. Added for the
   * compat/clinic queue items (shared/compat/clinic), which are record events.
   */
  recordEvents(tenant: Tenant, filter: RecordEventFilter): Promise<RecordEventRow[]>;
  /**
   * A user's most recent pushes (at most `limit`, newest received first), each with the ids of the events it
   * named — those it recorded and those it found already held (duplicates); not those it refused. Added for
   * compat/clinic's resolve by a local id (docs/compat/clinic.md "Item ids").
   */
  latestPushes(tenant: Tenant, userId: string, limit: number): Promise<PushSummary[]>;
}

/** One push as EventLog.latestPushes returns it. */
export interface PushSummary {
  batchId: string;
  deviceId: string;
  receivedAt: string;
  /** The events it named: recorded now or already held (not refused). */
  eventIds: string[];
}

/** Which record events EventLog.recordEvents returns (every given condition holds). */
export interface RecordEventFilter {
  ids?: string[];
  deviceId?: string;
  userId?: string;
  unsettledOnly?: boolean;
  /** At most this many (1..1000). */
  limit: number;
}

/** One record event of the log, as EventLog.recordEvents returns it. */
export interface RecordEventRow {
  id: string;
  batchId: string;
  deviceId: string;
  userId: string;
  type: 'RECORD_CREATED' | 'RECORD_UPDATED' | 'RECORD_DELETED';
  payload: Record<string, unknown>;
  occurredAt: string;
  receivedAt: string;
  status: BatchOutcome['events'][number]['status'];
  error: EventError | null;
  conflict: BatchOutcome['events'][number]['conflict'] | null;
  /** How often the event was taken again (retry, or pushed again after a retryable refusal). */
  attempts: number;
  /**
   * Whether the event's conflict still waits for a decision on its values: HELD (MANUAL holds it, resolution
   * PENDING_REVIEW) or SETTLED (by a strategy or a manager); null: no conflict. Not the review state.
   */
  conflictStatus: 'HELD' | 'SETTLED' | null;
  /** The record's current version (null: no such record). */
  recordVersion: number | null;
}
