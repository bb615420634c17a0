/**
 * Ports: what use cases need from the outside world, as plain types. Adapters under shared/adapters/
 * implement them; only the composition root (shared/app.ts) and local/ know which adapter is plugged in.
 */
import type { ActivityEvent, DeviceActivity, PhotoSummary } from './contracts/activity.js';
import type { Conflict, ConflictStatus, ReviewDecision } from './contracts/conflicts.js';
import type { EventType, SyncEvent } from './contracts/events.js';
import type { PullDeletion, ProductionEntity, RecordEntity, UserEntity } from './contracts/pull.js';
import type { Equipment, EquipmentInput, Well, WellInput } from './contracts/reference-data.js';
import type { ScopeGrant } from './contracts/scopes.js';
import type { BatchOutcome, EventOutcome } from './contracts/sync.js';
import type { HeldSet } from './sync/held-set.js';
import type { CollectionDefinition } from './contracts/schema.js';
import type { FieldError } from './errors.js';
import type { Strategy } from './sync/merge.js';
import type { ChunkInput, ChunkPlan, ChunkReferences, Outcome, PendingEvent } from './sync/plan-chunk.js';
import type { EventError } from './contracts/sync.js';
import type { EventRejection } from './sync/validate-event.js';

export interface Tenant {
  id: string;
  databaseName: string;
  /** The Postgres server (a name of Config.postgresServers) that holds the tenant's database. */
  server: string;
  displayName: string | null;
  status: 'ACTIVE' | 'SUSPENDED';
}

/** Where a tenant database lives: a server of the configured list and the database's name on it. */
export interface TenantLocation {
  server: string;
  databaseName: string;
}

/** Maps a tenant id to its database. */
export interface TenantRegistry {
  find(tenantId: string): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
  /** Registers a tenant; one already registered keeps its server and database (only the name changes). */
  register(tenant: {
    id: string;
    databaseName: string;
    server: string;
    displayName?: string | null;
  }): Promise<Tenant>;
  markMigrated(tenantId: string): Promise<void>;
  /** How many tenants each server holds (servers holding none are absent): what placement balances. */
  countByServer(): Promise<Map<string, number>>;
}

/** Creates and migrates tenant databases (ops, not the request path). */
export interface TenantDatabaseAdmin {
  /** The configured servers' names, the control server first. */
  readonly servers: readonly string[];
  /**
   * Creates the database on its server if it does not exist; true when it was created now. ValidationError
   * for a server not in the list; DependencyUnavailableError when the server cannot be reached.
   */
  ensureDatabase(location: TenantLocation): Promise<boolean>;
  /** Applies pending tenant migrations; returns the names applied. */
  migrate(location: TenantLocation): Promise<string[]>;
}

export interface UserRecord {
  id: string;
  displayName: string;
  email: string | null;
  role: 'OPERATOR' | 'MANAGER' | 'ADMIN';
}

export type DeleteOutcome = 'deleted' | 'already-deleted' | 'not-found';

/** Reference data of one tenant (wells, equipment, users). */
export interface ReferenceDataStore {
  upsertWell(tenant: Tenant, id: string, input: WellInput): Promise<{ well: Well; created: boolean }>;
  upsertEquipment(
    tenant: Tenant,
    id: string,
    input: EquipmentInput,
  ): Promise<{ equipment: Equipment; created: boolean }>;
  deleteEquipment(tenant: Tenant, id: string): Promise<DeleteOutcome>;
  /** Whether a unit of equipment exists: 'live', 'deleted' (soft-deleted) or undefined (never existed). */
  equipmentState(tenant: Tenant, id: string): Promise<'live' | 'deleted' | undefined>;
  upsertUsers(tenant: Tenant, users: UserRecord[]): Promise<void>;
}

/** One dependency's liveness probe, for GET /api/health. */
export interface DependencyCheck {
  name: string;
  check(): Promise<void>;
}

/** A message for the processor: which accepted events of which tenant to apply (by reference). */
export interface SyncChunkMessage {
  tenantId: string;
  batchId: string;
  deviceId: string;
  /** Ids of events already durably recorded as PENDING in the tenant's event log. */
  eventIds: string[];
  /** Why it was sent: a push, a retry of FAILED events, or an ops replay. */
  reason: 'push' | 'retry' | 'replay';
  /** Which attempt this copy is (absent = 1); see shared/sync/backoff.ts. */
  attempt?: number | undefined;
}

export interface OutgoingMessage {
  /** Fixed by content, so the queue's duplicate detection drops a re-send within its window. */
  messageId: string;
  body: SyncChunkMessage;
  applicationProperties: {
    tenantId: string;
    deviceId: string;
    batchId: string;
    reason: string;
    attempt?: number;
  };
}

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

/** The queue between the push route and the processor (Service Bus in Azure, pg-boss locally). */
export interface EventQueue {
  /** Durably enqueues every message or throws (DependencyUnavailableError('queue')): all or nothing per call. */
  send(messages: OutgoingMessage[]): Promise<void>;
  /**
   * Enqueues one message that becomes visible at `enqueueAt` (Service Bus scheduled message, pg-boss
   * startAfter); duplicate detection applies as for send. Throws DependencyUnavailableError('queue').
   */
  schedule(message: OutgoingMessage, enqueueAt: Date): Promise<void>;
}

export interface DeadLetteredMessage {
  messageId: string;
  body: unknown;
  applicationProperties: Record<string, unknown>;
  deadLetterReason: string | undefined;
  deadLetterErrorDescription: string | undefined;
  enqueuedTimeUtc: Date | undefined;
  deliveryCount: number;
}

/** Ops access to the dead-letter queue: list, and send messages back to the main queue. */
export interface DeadLetterQueue {
  list(options: { tenantId?: string; max?: number }): Promise<DeadLetteredMessage[]>;
  /** Moves matching dead letters back to the main queue; returns how many. */
  replay(options: { tenantId?: string; max?: number }): Promise<number>;
}

/** A stored HTTP answer, replayed for a repeated Idempotency-Key. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'completed'; response: StoredResponse }
  | { state: 'mismatch' }
  | { state: 'in-flight' };

/** Idempotency-Key records of pushes (Cosmos DB). Scoped by tenant and user: keys are client-made. */
export interface IdempotencyStore {
  /** Claims the key for this request, or says what an earlier request with it did. */
  claim(tenantId: string, userId: string, key: string, requestHash: string): Promise<IdempotencyClaim>;
  complete(
    tenantId: string,
    userId: string,
    key: string,
    requestHash: string,
    response: StoredResponse,
  ): Promise<void>;
  /** Drops a claim whose request failed, so the client's retry can proceed. */
  release(tenantId: string, userId: string, key: string): Promise<void>;
}

export interface DeviceRecord {
  tenantId: string;
  deviceId: string;
  userId: string;
  platform: string | null;
  appVersion: string | null;
  lastPushAt: string | null;
  lastPullAt: string | null;
  lastSyncAt: string | null;
  /** Where the device's last pull ended in the change log (for pendingPull). */
  pullPosition: { xid: string; seq: string } | null;
  /**
   * The hash of the held set (collections × scopes, shared/sync/held-set.ts) the device's next delta from
   * `pullPosition` watches: pendingPull counts only the record changes that delta would send. Null for a
   * pull recorded before it was kept (pendingPull then counts every change-log row).
   */
  heldSet: string | null;
  /** The tenant's sync-schema version served on the device's last pull (SPEC v1.1 "Collections"); null before one. */
  schemaVersion: number | null;
}

/**
 * Device sync status (Cosmos DB): one document per (tenant, device). recordPush/recordPull set `userId`, the
 * device's owner: callers check ownership first (usecases/device-access.ts).
 */
/** A pull page served to a device, as its status records it. */
export interface RecordedPull {
  deviceId: string;
  userId: string;
  at: string;
  position: { xid: string; seq: string };
  /** The schema version the page was served with (absent: left as it was). */
  schemaVersion?: number;
  /** The hash of the held set the next delta from `position` watches (absent: stored as null). */
  heldSet?: string;
}

export interface DeviceStatusStore {
  recordPush(
    tenantId: string,
    push: { deviceId: string; userId: string; platform?: string; appVersion?: string; at: string },
  ): Promise<void>;
  recordPull(tenantId: string, pull: RecordedPull): Promise<void>;
  /** The device's pushed events have all been settled (lastSyncAt). */
  recordSynced(tenantId: string, deviceId: string, at: string): Promise<void>;
  get(tenantId: string, deviceId: string): Promise<DeviceRecord | undefined>;
  list(tenantId: string): Promise<DeviceRecord[]>;
}

export interface AcceptedEvent {
  event: SyncEvent;
  /** sha256 of the event's canonical body: the same id with another hash is EVENT_ID_REUSED. */
  hash: string;
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
   * now (a pure function: it runs inside the transaction, so no network call) in one transaction.
   */
  acceptBatch(
    tenant: Tenant,
    batch: BatchHeader,
    events: AcceptedEvent[],
    rejected: EventRejection[],
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
  /** Marks still-PENDING events FAILED (their message was dead-lettered); returns how many. */
  markFailed(tenant: Tenant, eventIds: string[], error: { code: string; message: string }): Promise<number>;
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

/** Applies a chunk of PENDING events to the tenant's data, exactly once, in one transaction. */
export interface ChunkProcessor {
  /**
   * Throws only for infrastructure failures (the message is then redelivered). Every attempt runs the
   * processor's precheck on the events it settles.
   */
  process(tenant: Tenant, batchId: string, eventIds: string[]): Promise<ChunkSummary>;
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
  /** Settles one still-PENDING event as REJECTED with `error` (own transaction); returns its device id, if settled. */
  refuse(tenant: Tenant, eventId: string, error: EventError): Promise<string[]>;
}

/** The steps of one chunk's transaction (ChunkStore.inTransaction). */
export interface ChunkTransaction {
  /** The events of `eventIds` still PENDING, locked for update (a redelivered chunk finds none). */
  loadPending(eventIds: string[]): Promise<PendingEvent[]>;
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

/** Conflicts and the tenant's conflict strategies (tenant database). */
export interface ConflictStore {
  list(
    tenant: Tenant,
    query: { status: ConflictStatus; limit: number; after?: string | undefined },
  ): Promise<Conflict[]>;
  get(tenant: Tenant, id: string): Promise<Conflict | undefined>;
  /**
   * A manager's decision on an OPEN conflict, in one transaction under the record's lock: SERVER_WINS, CLIENT_WINS
   * and MERGED write `values` (field → value) into the record with the manager's stamp, mark the conflict RESOLVED
   * and update its event's report; ACKNOWLEDGED keeps the strategy's result and marks it ACKNOWLEDGED. Who and when
   * are recorded (reviewedBy/At; resolvedBy/At for a decision). Throws NotFoundError, ConflictError
   * CONFLICT_RESOLVED (already handled) or CONFLICT_HELD (ACKNOWLEDGED on a conflict MANUAL holds).
   */
  resolve(
    tenant: Tenant,
    id: string,
    decision: ReviewDecision,
    values: Record<string, unknown>,
    by: string,
  ): Promise<Conflict>;
  /**
   * Records a field user's request on an OPEN conflict (a decision that needs a manager's approval): it stays OPEN
   * in the inbox with requestedResolution/By/At. Throws NotFoundError, ConflictError CONFLICT_RESOLVED.
   */
  request(
    tenant: Tenant,
    id: string,
    resolution: 'SERVER_WINS' | 'CLIENT_WINS',
    by: string,
  ): Promise<Conflict>;
  strategies(tenant: Tenant): Promise<Partial<Record<EventType, Strategy>>>;
  setStrategies(tenant: Tenant, strategies: Partial<Record<EventType, Strategy>>, by: string): Promise<void>;
  /** The JSON Schema (draft 2020-12) of a collection's records (sync_collections.schema); undefined: none. */
  collectionSchema(tenant: Tenant, collection: string): Promise<Record<string, unknown> | undefined>;
}

/** Per-device counts from the tenant database, for device status. */
export interface DeviceCounts {
  pendingEvents: number;
  failedEvents: number;
  /**
   * OPEN conflicts (the managers' inbox: held, or settled by a strategy and not reviewed) in which one of the
   * device's events is either side (the event that lost or was held, or the event the record kept).
   */
  openConflicts: number;
  /** openConflicts split by where the device stands (they add up to it); see deviceCountsSql. */
  openConflictsBySide: { lost: number; won: number; held: number };
  photos: { awaitingUpload: number; attached: number };
}

export interface SyncStatsFilter {
  /** Inclusive; events by received_at. */
  from: Date;
  /** Exclusive. */
  to: Date;
  userId?: string | undefined;
  deviceId?: string | undefined;
  /** Events of this type only (then what the push refused or found known, which has no type, is left out). */
  eventType?: EventType | undefined;
  /** Events writing this collection only (shared/adapters/postgres/stats-store.ts, eventCollectionSql). */
  collection?: string | undefined;
  /** With a bucket: the series too, one entry per UTC hour or day from the one holding `from`. */
  bucket?: 'hour' | 'day' | undefined;
}

/** The figures of one bucket of a stats series (SyncStatsData.series). */
export interface SyncStatsBucketData {
  /** The bucket's start (UTC, on the hour or at midnight); it covers [start, start + 1 h or 24 h) ∩ [from, to). */
  start: Date;
  byStatus: Record<string, number>;
  rejectedAtPush: number;
  duplicatesAtPush: number;
  /** Percentiles of received → applied over the bucket's settled events. */
  receivedToAppliedMs: { p50: number | null; p95: number | null };
}

/** Raw figures of the event log over a time range; shared/usecases/stats.ts derives rates from them. */
export interface SyncStatsData {
  /** Events in the event log by status (PENDING, APPLIED, DUPLICATE, CONFLICT, REJECTED, FAILED). */
  byStatus: Record<string, number>;
  /** Refused at push, never in the event log: invalid events, clock skew, event ids reused with another body. */
  rejectedAtPush: number;
  /** Reported as duplicates at push (the server already had them). */
  duplicatesAtPush: number;
  /** Events settled by the processor (every status but PENDING and FAILED): the latency sample. */
  settled: number;
  occurredToAppliedMs: { p50: number | null; p95: number | null };
  receivedToAppliedMs: { p50: number | null; p95: number | null };
  /** With a bucket: every bucket of the range in order, empty ones with zero counts. */
  series?: SyncStatsBucketData[];
}

/** Read-only aggregates over a tenant's event log (managers' routes). */
export interface SyncStatsStore {
  /** Counts of every device that has any (or of one device): one grouped query, not one per device. */
  deviceCounts(tenant: Tenant, deviceId?: string): Promise<Map<string, DeviceCounts>>;
  syncStats(tenant: Tenant, filter: SyncStatsFilter): Promise<SyncStatsData>;
}

/** Fixed-window request counters shared by every instance (Cosmos DB `rate-limits`). */
export interface RateLimitCounters {
  /**
   * Adds one to the counter of `key` in the window that starts at `windowStart` (epoch ms) and lasts
   * `windowSeconds`, atomically across instances; returns the count including this hit.
   */
  hit(key: string, windowStart: number, windowSeconds: number): Promise<number>;
}

/** A time-limited URL to one blob (a SAS). */
export interface SignedBlobUrl {
  url: string;
  expiresAt: string;
}

/** What an uploaded photo blob holds: its size and its first bytes. */
export interface PhotoBlob {
  sizeBytes: number;
  head: Uint8Array;
}

/**
 * A photo blob locked (leased) for its check, so its bytes cannot change under the check or after the
 * attach. `leaseId` is undefined when an earlier attach had locked it already.
 */
export type PhotoLock = { found: false } | { found: true; leaseId: string | undefined };

/** Photo blobs (Blob Storage, the photos container): SAS URLs and checks of what devices uploaded. */
export interface PhotoStore {
  /** A SAS URL allowing create and write (`cw`) of this blob only; ttlSeconds ≤ 900 (default 900). */
  uploadUrl(blobName: string, options?: { ttlSeconds?: number }): Promise<SignedBlobUrl>;
  /** A read-only (`r`) SAS URL of this blob, served with the given content type; ttlSeconds ≤ 900. */
  readUrl(blobName: string, options: { contentType: string; ttlSeconds?: number }): Promise<SignedBlobUrl>;
  /** Locks the blob against writes (an infinite lease); found: false when there is no such blob. */
  lock(blobName: string): Promise<PhotoLock>;
  /** The blob's size and first `headBytes` bytes (one ranged read); undefined when there is no such blob. */
  inspect(blobName: string, headBytes: number): Promise<PhotoBlob | undefined>;
  /** The sha256 (hex) of the whole blob; undefined when there is no such blob. */
  sha256(blobName: string): Promise<string | undefined>;
  /**
   * Unlocks a blob (breaks its lease, whoever holds it) whose attach did not happen, so its upload URL
   * works again. No blob, or no lease: nothing to do.
   */
  unlock(blobName: string): Promise<void>;
  /** Deletes a blob that failed its check (breaking the lock when `leaseId` is given). */
  discard(blobName: string, leaseId: string | undefined): Promise<void>;
  /** Tags the blob `state=attached` (the lifecycle rule keeps it). */
  markAttached(blobName: string, leaseId: string | undefined): Promise<void>;
  /**
   * Tags an unlocked blob `state=awaiting` (the lifecycle rule deletes it): 'missing' when there is no
   * blob, 'attached' when it is locked by an attach (left alone).
   */
  markAwaiting(blobName: string): Promise<'tagged' | 'missing' | 'attached'>;
  /**
   * Writes the bytes as the blob (a photo sent inline, compat dialect 003), as a device's PUT to its upload
   * URL would: 'locked' when an attach has locked the blob (its verified bytes stay as they are).
   */
  put(blobName: string, bytes: Uint8Array, contentType: string): Promise<'stored' | 'locked'>;
}

export interface PhotoRecord {
  photoId: string;
  blobName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string | null;
  status: 'AWAITING_UPLOAD' | 'ATTACHED';
  target: { type: string; id: string } | null;
  takenAt: string | null;
  deviceId: string;
  userId: string;
  createdAt: string;
  updatedAt: string;
}

/** The tenant's photo rows (Postgres `photos`): upload URLs handed out, and attached photos. */
export interface PhotoRecords {
  /**
   * Records the photos AWAITING_UPLOAD for a device and user (upsert by photo id, one statement). Photos
   * already ATTACHED stay so and are returned.
   */
  recordAwaiting(
    tenant: Tenant,
    photos: { photoId: string; blobName: string; contentType: string; sizeBytes: number }[],
    by: { deviceId: string; userId: string },
  ): Promise<{ alreadyAttached: { photoId: string; blobName: string }[] }>;
  get(tenant: Tenant, photoId: string): Promise<PhotoRecord | undefined>;
  /** Photos still AWAITING_UPLOAD whose last URL was handed out before `before`, not swept yet. */
  staleAwaiting(
    tenant: Tenant,
    before: Date,
    limit: number,
  ): Promise<{ photoId: string; blobName: string }[]>;
  /** Notes that these photos' blobs were handed to the lifecycle rule (so the sweep skips them next time). */
  markSwept(tenant: Tenant, photoIds: string[]): Promise<void>;
}

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

/** Scope grants (SPEC v1.1 "Scopes"): which scopes an OPERATOR reads and writes. */
export interface ScopeGrantStore {
  /** Grants the scope (idempotent): `created` false when the user already had it (the grant is unchanged). */
  grant(
    tenant: Tenant,
    scope: string,
    userId: string,
    grantedBy: string,
  ): Promise<{ grant: ScopeGrant; created: boolean }>;
  /** Revokes it; false when there was no such grant. */
  revoke(tenant: Tenant, scope: string, userId: string): Promise<boolean>;
  /** Grants by scope then user, optionally one user's. */
  list(tenant: Tenant, userId?: string): Promise<ScopeGrant[]>;
  /** The scopes granted to a user, sorted. */
  scopesOf(tenant: Tenant, userId: string): Promise<string[]>;
}

/** One stored collection of a tenant's sync schema (sync_collections, SPEC v1.1 "Collections"). */
export interface StoredCollection {
  name: string;
  /** Counts this collection's accepted changes (1 when created). */
  version: number;
  definition: CollectionDefinition;
  pack: string | null;
  builtin: boolean;
  /** For a builtin collection: which v1 events and routes write it. */
  writtenBy: string | null;
}

/** A tenant's sync schema: its version (max schema change; 0 when none) and its collections by name. */
export interface StoredSchema {
  schemaVersion: number;
  collections: StoredCollection[];
}

/** What to do with a collection, decided by the use case from its current stored state (or undefined). */
export type CollectionDecision =
  | { kind: 'write'; collection: Omit<StoredCollection, 'version'> }
  | { kind: 'unchanged' }
  | { kind: 'refused'; errors: FieldError[] };

/** The outcome of putCollection: the collection as it now is and what happened. */
export type PutCollectionResult =
  | { kind: 'created' | 'updated' | 'unchanged'; collection: StoredCollection; schemaVersion: number }
  | { kind: 'refused'; errors: FieldError[] };

/** The tenant's sync schema in its database (sync_collections + sync_schema_changes). */
export interface SchemaStore {
  /** The tenant's schema version alone: one cheap query, for caches keyed by it. */
  schemaVersion(tenant: Tenant): Promise<number>;
  /** The whole schema, collections ordered by name. */
  load(tenant: Tenant): Promise<StoredSchema>;
  /**
   * In one transaction, serialised with every other schema change of the tenant: reads the collection,
   * asks `decide`, and on 'write' stores it with version + 1 (1 when new) and appends a schema change (the
   * tenant's schema version + 1) naming `changedBy`.
   */
  putCollection(
    tenant: Tenant,
    name: string,
    decide: (current: StoredCollection | undefined) => CollectionDecision,
    changedBy: string,
  ): Promise<PutCollectionResult>;
}

/** Reads of the managers' console (shared/contracts/activity.ts) over a tenant's event log. Read-only. */
export interface ActivityStore {
  /** The device's newest `limit` batches, failed (or retryable rejected) events and photos. */
  deviceActivity(tenant: Tenant, deviceId: string, limit: number): Promise<DeviceActivity>;
  /** These events of the log (ids it does not have are absent). */
  events(tenant: Tenant, ids: string[]): Promise<ActivityEvent[]>;
  /**
   * Photos attached to a target, newest first: `type` and `id` as a conflict names its record (a RECORD is
   * `collection/id`, a PRODUCTION record `wellId|productionDate`).
   */
  photosOf(tenant: Tenant, target: { type: string; id: string }, limit: number): Promise<PhotoSummary[]>;
}
