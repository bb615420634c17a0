/**
 * Ports: conflict records and their review.
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
import type { Conflict, ConflictStatus, ReviewDecision } from '../../contracts/conflicts.js';
import type { EventType } from '../../contracts/events.js';
import type { Strategy } from '../../sync/merge.js';
import type { Tenant } from './tenancy.js';

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
