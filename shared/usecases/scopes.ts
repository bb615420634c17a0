import type { Principal } from '../auth/principal.js';
import type { ScopeGrant } from '../contracts/scopes.js';
import { NotFoundError } from '../errors.js';
import type { SchemaStore } from './ports/schema.js';
import type { ScopeGrantStore } from './ports/scopes.js';
import type { Tenant } from './ports/tenancy.js';

/**
 * Scope grants (SPEC v1.1 "Scopes (selective sync)"). Managers and admins grant and revoke (the routes check
 * the role); the grant takes effect on the grantee's next pull page: a new scope arrives as a snapshot, a
 * revoked one as deletions (docs/selective-sync.md).
 */
export interface ScopeDeps {
  scopes: ScopeGrantStore;
}

/** Grants `scope` to `userId`, by `by` (a principal, or 'cli'); `created` false when it was already granted. */
export function grantScope(
  deps: ScopeDeps,
  tenant: Tenant,
  scope: string,
  userId: string,
  by: Principal | 'cli',
): Promise<{ grant: ScopeGrant; created: boolean }> {
  return deps.scopes.grant(tenant, scope, userId, by === 'cli' ? 'cli' : by.userId);
}

/** Revokes the grant; NotFoundError when the user does not have it. */
export async function revokeScope(
  deps: ScopeDeps,
  tenant: Tenant,
  scope: string,
  userId: string,
): Promise<void> {
  if (!(await deps.scopes.revoke(tenant, scope, userId))) {
    throw new NotFoundError(`user ${userId} has no grant of scope ${scope}`);
  }
}

/** The grants, by scope then user; only `userId`'s when given. */
export async function listGrants(
  deps: ScopeDeps,
  tenant: Tenant,
  userId?: string,
): Promise<{ grants: ScopeGrant[] }> {
  return { grants: await deps.scopes.list(tenant, userId) };
}

/**
 * The scope a new record of `collection` takes when the client did not say (a compat client whose document
 * has no scope field, e.g. document 004's encounters without `clinicId`): `{field, value}` when the collection
 * is scoped and the caller holds exactly one grant — the only scope they could write anyway; undefined
 * otherwise (the record's validation then names the missing field).
 */
export async function defaultScopeOf(
  deps: ScopeDeps & { schemas: SchemaStore },
  tenant: Tenant,
  principal: Principal,
  collection: string,
): Promise<{ field: string; value: string } | undefined> {
  const schema = await deps.schemas.load(tenant);
  const field = schema.collections.find((c) => c.name === collection)?.definition.scope;
  if (!field) return undefined;
  const granted = await deps.scopes.scopesOf(tenant, principal.userId);
  return granted.length === 1 && granted[0] !== undefined ? { field, value: granted[0] } : undefined;
}
