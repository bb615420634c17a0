/**
 * Ports: wells, equipment and users of a tenant (reference data).
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
import type { Equipment, EquipmentInput, Well, WellInput } from '../../contracts/reference-data.js';
import type { Tenant } from './tenancy.js';

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
