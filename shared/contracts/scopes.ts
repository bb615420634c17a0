import { z } from 'zod';
import { MANAGER_ROLES } from '../auth/principal.js';
import { isoDateTimeSchema } from './common.js';
import { defineRoute, problem } from './route.js';

/**
 * Scope grants (SPEC v1.1 "Scopes (selective sync)"): an OPERATOR reads and writes the records of the scopes
 * granted to them; MANAGER and ADMIN read all. A scope is a value of a collection's scope field (a building
 * id, a clinic id), compared as text.
 */

/** A scope value: 1–256 characters, no `/` (it is a path segment) and no `,` (pull takes comma lists). */
export const scopeValueSchema = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^/,\s][^/,]*$/, 'must not contain "/" or "," nor start with a space');

/** A user id as tokens carry it (`sub`). */
export const grantUserIdSchema = z.string().min(1).max(256);

export const scopeMemberParamsSchema = z.object({ scope: scopeValueSchema, userId: grantUserIdSchema });

export const scopeGrantSchema = z.object({
  scope: z.string(),
  userId: z.string(),
  grantedBy: z.string().nullable().describe('The user who granted it (`cli` from the command line)'),
  grantedAt: isoDateTimeSchema,
});
export type ScopeGrant = z.infer<typeof scopeGrantSchema>;

export const listGrantsQuerySchema = z.object({
  userId: grantUserIdSchema.optional().describe("Only this user's grants"),
});

export const grantListSchema = z.object({ grants: z.array(scopeGrantSchema) });

export const putScopeMemberRoute = defineRoute({
  name: 'putScopeMember',
  method: 'PUT',
  route: 'v1/scopes/{scope}/members/{userId}',
  summary: 'Grant a scope to a user: an OPERATOR then pulls and writes its records (idempotent)',
  tags: ['scopes'],
  access: MANAGER_ROLES,
  params: scopeMemberParamsSchema,
  responses: {
    200: { description: 'The user already had this scope; the existing grant', schema: scopeGrantSchema },
    201: { description: 'Granted', schema: scopeGrantSchema },
  },
});

export const deleteScopeMemberRoute = defineRoute({
  name: 'deleteScopeMember',
  method: 'DELETE',
  route: 'v1/scopes/{scope}/members/{userId}',
  summary: "Revoke a user's scope: their devices receive the scope's records as deletions on their next pull",
  tags: ['scopes'],
  access: MANAGER_ROLES,
  params: scopeMemberParamsSchema,
  responses: {
    204: { description: 'Revoked' },
    404: problem('The user has no grant of this scope'),
  },
});

export const listGrantsRoute = defineRoute({
  name: 'listScopeGrants',
  method: 'GET',
  route: 'v1/scopes',
  summary: 'Scope grants, by scope then user (optionally one user’s)',
  tags: ['scopes'],
  access: MANAGER_ROLES,
  query: listGrantsQuerySchema,
  responses: { 200: { description: 'The grants', schema: grantListSchema } },
});
