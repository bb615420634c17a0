/**
 * Ports: what use cases need from the outside world, as plain types. Adapters under shared/adapters/
 * implement them; only the composition root (shared/app.ts) and local/ know which adapter is plugged in.
 */
import type { SyncEvent } from './contracts/events.js';
import type { Equipment, EquipmentInput, Well, WellInput } from './contracts/reference-data.js';
import type { BatchOutcome } from './contracts/sync.js';
import type { Outcome, PendingEvent } from './sync/plan-chunk.js';
import type { EventRejection } from './sync/validate-event.js';

export interface Tenant {
  id: string;
  databaseName: string;
  displayName: string | null;
  status: 'ACTIVE' | 'SUSPENDED';
}

/** Maps a tenant id to its database. */
export interface TenantRegistry {
  find(tenantId: string): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
  register(tenant: { id: string; databaseName: string; displayName?: string | null }): Promise<Tenant>;
  markMigrated(tenantId: string): Promise<void>;
}

/** Creates and migrates tenant databases (ops, not the request path). */
export interface TenantDatabaseAdmin {
  /** Creates the database if it does not exist; true when it was created now. */
  ensureDatabase(databaseName: string): Promise<boolean>;
  /** Applies pending tenant migrations; returns the names applied. */
  migrate(databaseName: string): Promise<string[]>;
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
}

export interface OutgoingMessage {
  /** Fixed by content, so the queue's duplicate detection drops a re-send within its window. */
  messageId: string;
  body: SyncChunkMessage;
  applicationProperties: { tenantId: string; deviceId: string; batchId: string; reason: string };
}

/** The queue between the push route and the processor (Service Bus in Azure, pg-boss locally). */
export interface EventQueue {
  /** Durably enqueues every message or throws (DependencyUnavailableError('queue')): all or nothing per call. */
  send(messages: OutgoingMessage[]): Promise<void>;
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
}

/** Device sync status (Cosmos DB): one document per (tenant, device). */
export interface DeviceStatusStore {
  recordPush(
    tenantId: string,
    push: { deviceId: string; userId: string; platform?: string; appVersion?: string; at: string },
  ): Promise<void>;
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
  receivedAt: string;
  total: number;
}

export interface AcceptResult {
  /** Ids recorded PENDING now. */
  accepted: string[];
  /** Ids the server already had, with the same body. */
  duplicates: string[];
  /** Every refusal: those found before (invalid, clock skew) plus ids already used with another body. */
  rejected: EventRejection[];
}

export interface RetryFilter {
  userId?: string;
  deviceId?: string;
  eventIds?: string[];
}

/** The tenant's event log (Postgres): acceptance at push, outcomes, retries. */
export interface EventLog {
  /**
   * Records the batch and its new events as PENDING in one transaction. `beforeCommit` runs inside it
   * with the ids recorded now (to enqueue them); if it throws, nothing is kept.
   */
  acceptBatch(
    tenant: Tenant,
    batch: BatchHeader,
    events: AcceptedEvent[],
    rejected: EventRejection[],
    beforeCommit: (acceptedIds: string[]) => Promise<void>,
  ): Promise<AcceptResult>;
  batchOutcome(tenant: Tenant, batchId: string): Promise<(BatchOutcome & { userId: string }) | undefined>;
  /** Sets FAILED events matching the filter back to PENDING and hands them to `beforeCommit` (to enqueue). */
  retryFailed(
    tenant: Tenant,
    filter: RetryFilter,
    beforeCommit: (events: { id: string; batchId: string; deviceId: string }[]) => Promise<void>,
  ): Promise<string[]>;
  /** Marks still-PENDING events FAILED (their message was dead-lettered); returns how many. */
  markFailed(tenant: Tenant, eventIds: string[], error: { code: string; message: string }): Promise<number>;
  deviceCounts(tenant: Tenant, deviceId: string): Promise<{ pending: number; failed: number }>;
}

export interface ChunkSummary {
  /** Events settled now (0 when a redelivered chunk found nothing PENDING). */
  processed: number;
  byStatus: Record<string, number>;
  deviceIds: string[];
}

/**
 * Checks some events against services outside the tenant database before they are planned (the photo
 * of a PHOTO_ATTACHED is in Blob Storage…): an outcome for an event decides it (REJECTED), none lets it go on.
 */
export type EventPrecheck = (tenant: Tenant, events: PendingEvent[]) => Promise<Map<string, Outcome>>;

/** Applies a chunk of PENDING events to the tenant's data, exactly once, in one transaction. */
export interface ChunkProcessor {
  /** Throws only for infrastructure failures (the message is then redelivered). */
  process(
    tenant: Tenant,
    batchId: string,
    eventIds: string[],
    precheck?: EventPrecheck,
  ): Promise<ChunkSummary>;
}
