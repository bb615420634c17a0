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
