/**
 * Ports: what use cases need from the outside world, as plain types. Adapters under shared/adapters/
 * implement them; only the composition root (shared/app.ts) and local/ know which adapter is plugged in.
 */
import type { Equipment, EquipmentInput, Well, WellInput } from './contracts/reference-data.js';

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
