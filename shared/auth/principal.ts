import { z } from 'zod';

export const roleSchema = z.enum(['OPERATOR', 'MANAGER', 'ADMIN']);
export type Role = z.infer<typeof roleSchema>;
export const ALL_ROLES: readonly Role[] = roleSchema.options;
/** Roles of managers' routes. */
export const MANAGER_ROLES: readonly Role[] = ['MANAGER', 'ADMIN'];
/** Roles of field routes: every signed-in role may sync. */
export const FIELD_ROLES: readonly Role[] = ALL_ROLES;

/**
 * Tenant ids: lower-case letters, digits and hyphens (so each maps one-to-one to a database name); an Entra
 * directory id (a lower-case GUID) fits, for deployments that use the directory as the tenant.
 */
export const tenantIdSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/,
    'must be 3–40 lower-case letters, digits or hyphens, not starting or ending with a hyphen',
  );

/** Who is calling, as established by a verified token. The tenant comes from the token only. */
export interface Principal {
  userId: string;
  tenantId: string;
  roles: Role[];
}

export const hasAnyRole = (principal: Principal, allowed: readonly Role[]): boolean =>
  principal.roles.some((r) => allowed.includes(r));

export const isManager = (principal: Principal): boolean => hasAnyRole(principal, MANAGER_ROLES);
