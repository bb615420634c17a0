/**
 * Ports: scope grants (SPEC v1.1 "Scopes").
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
import type { ScopeGrant } from '../../contracts/scopes.js';
import type { Tenant } from './tenancy.js';

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
