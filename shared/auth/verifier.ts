import { createRemoteJWKSet, type JWTPayload, errors as joseErrors, jwtVerify } from 'jose';
import { z } from 'zod';
import type { Config } from '../config.js';
import { UnauthenticatedError } from '../errors.js';
import { type Principal, roleSchema, tenantIdSchema } from './principal.js';

/** Verifies a bearer token and returns who is calling. Throws UnauthenticatedError for any bad token. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

const claimsSchema = z.object({
  sub: z.string().min(1).max(256),
  tid: tenantIdSchema,
  // Unknown roles are ignored rather than refused: an identity provider may add its own.
  roles: z
    .array(z.unknown())
    .default([])
    .transform((roles) =>
      roles.flatMap((r) => (roleSchema.safeParse(r).success ? [r as Principal['roles'][0]] : [])),
    ),
});

/**
 * How far the caller's clock and ours may disagree, in seconds, when checking `exp`, `nbf` and `iat`:
 * a token is still accepted this long after its `exp`, and this long before its `nbf`/`iat`. One minute
 * covers ordinary clock drift between the identity provider, a device and this app.
 */
export const TOKEN_CLOCK_TOLERANCE_SECONDS = 60;

/**
 * Local mode verifies HS256 with the development secret; Azure mode verifies the OIDC issuer's RS256 keys
 * from its JWKS. Each mode accepts exactly one algorithm family, so an HS256 token signed with a public
 * key, or `alg: none`, never passes. Both modes require `exp` and check `exp`, `nbf` and `iat` with
 * {@link TOKEN_CLOCK_TOLERANCE_SECONDS}. `verify` throws UnauthenticatedError (401 problem+json) saying which
 * check failed.
 */
export function createTokenVerifier(auth: Config['auth']): TokenVerifier {
  // `exp` is required (Entra ID always sets it): a token without one would be valid forever.
  // jose checks `exp` and `nbf` with the tolerance; `iat` is checked below (jose only does with maxTokenAge).
  const options = {
    issuer: auth.issuer,
    audience: auth.audience,
    clockTolerance: TOKEN_CLOCK_TOLERANCE_SECONDS,
    requiredClaims: ['exp'],
  };
  const check =
    auth.mode === 'dev'
      ? (() => {
          const key = new TextEncoder().encode(auth.secret);
          return (token: string) => jwtVerify(token, key, { ...options, algorithms: ['HS256'] });
        })()
      : (() => {
          const jwks = createRemoteJWKSet(new URL(auth.jwksUrl), { cooldownDuration: 30_000 });
          return (token: string) =>
            jwtVerify(token, jwks, { ...options, algorithms: ['RS256', 'PS256', 'ES256'] });
        })();

  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await check(token));
      } catch (error) {
        throw new UnauthenticatedError(describeJoseError(error));
      }
      // A token issued in the future (beyond the tolerance) was minted by a clock we cannot trust.
      if (
        payload.iat !== undefined &&
        payload.iat > Math.floor(Date.now() / 1000) + TOKEN_CLOCK_TOLERANCE_SECONDS
      ) {
        throw new UnauthenticatedError('token claim "iat" is in the future');
      }
      const claims = claimsSchema.safeParse(payload);
      if (!claims.success) {
        throw new UnauthenticatedError('token lacks a valid sub, tid or roles claim');
      }
      return { userId: claims.data.sub, tenantId: claims.data.tid, roles: claims.data.roles };
    },
  };
}

function describeJoseError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'token expired';
  if (error instanceof joseErrors.JWTClaimValidationFailed)
    return error.reason === 'missing'
      ? `token lacks the required "${error.claim}" claim`
      : `token claim "${error.claim}" is not accepted`;
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm is not accepted';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature is invalid';
  if (error instanceof joseErrors.JWKSNoMatchingKey) return 'token signing key is unknown';
  if (error instanceof joseErrors.JWKSTimeout) return 'token keys could not be fetched in time';
  return 'token is malformed or not verifiable';
}

/** Pulls the token out of an Authorization header value, or explains why there is none. */
export function bearerToken(header: string | null): string {
  if (!header) throw new UnauthenticatedError('missing Authorization header');
  const match = /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header);
  if (!match?.[1]) throw new UnauthenticatedError('Authorization header must be "Bearer <token>"');
  return match[1];
}
