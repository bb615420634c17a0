import { type JWTPayload, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { signDevToken } from '../../shared/auth/dev-token.js';
import {
  bearerToken,
  createTokenVerifier,
  TOKEN_CLOCK_TOLERANCE_SECONDS,
} from '../../shared/auth/verifier.js';
import { UnauthenticatedError } from '../../shared/errors.js';
import { tamper, unsignedToken } from '../support/jwt.js';

const auth = {
  mode: 'dev' as const,
  issuer: 'fieldsync-local',
  audience: 'fieldsync-api',
  secret: 's'.repeat(40),
};
const verifier = createTokenVerifier(auth);
const sign = (overrides: Partial<Parameters<typeof signDevToken>[0]> = {}) =>
  signDevToken({ ...auth, tenantId: 'acme', userId: 'u1', roles: ['OPERATOR'], ...overrides });
const rejected = async (token: string, reason: RegExp) => {
  const error = await verifier.verify(token).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnauthenticatedError);
  expect((error as Error).message).toMatch(reason);
};

describe('development token verification (HS256)', () => {
  it('accepts a valid token and reads sub, tid and roles', async () => {
    expect(await verifier.verify(await sign({ roles: ['MANAGER', 'OPERATOR'] }))).toEqual({
      userId: 'u1',
      tenantId: 'acme',
      roles: ['MANAGER', 'OPERATOR'],
    });
  });

  it('ignores roles it does not know', async () => {
    const token = await new SignJWT({ tid: 'acme', roles: ['OPERATOR', 'SUPERUSER', 42] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuer(auth.issuer)
      .setAudience(auth.audience)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(auth.secret));
    expect((await verifier.verify(token)).roles).toEqual(['OPERATOR']);
  });

  it('refuses an expired token', async () => {
    await rejected(await sign({ expiresIn: '-5m' }), /expired/);
  });

  it('refuses another issuer or audience', async () => {
    await rejected(await sign({ issuer: 'someone-else' }), /"iss"/);
    await rejected(await sign({ audience: 'another-api' }), /"aud"/);
  });

  it('refuses alg none', async () => {
    const now = Math.floor(Date.now() / 1000);
    await rejected(
      unsignedToken({
        sub: 'u1',
        tid: 'acme',
        roles: ['ADMIN'],
        iss: auth.issuer,
        aud: auth.audience,
        exp: now + 600,
      }),
      /algorithm|malformed/,
    );
  });

  it('refuses a tampered payload', async () => {
    await rejected(
      tamper(await sign(), (c) => ({ ...c, tid: 'globex' })),
      /signature/,
    );
    await rejected(
      tamper(await sign(), (c) => ({ ...c, roles: ['ADMIN'] })),
      /signature/,
    );
  });

  it('refuses a token signed with another secret', async () => {
    await rejected(await sign({ secret: 'x'.repeat(40) }), /signature/);
  });

  it('refuses a token without a tenant or with an ill-formed one', async () => {
    const noTid = await new SignJWT({ roles: ['OPERATOR'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuer(auth.issuer)
      .setAudience(auth.audience)
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(auth.secret));
    await rejected(noTid, /tid/);
    await rejected(await sign({ tenantId: "acme'; drop table tenants;--" }), /tid/);
  });

  it('refuses garbage', async () => {
    await rejected('not.a.jwt', /malformed/);
    await rejected('', /malformed/);
  });
});

describe('development token time claims', () => {
  const now = () => Math.floor(Date.now() / 1000);
  // SignJWT with explicit claims: signDevToken always sets exp, so these tokens are made by hand.
  const signClaims = (times: { exp?: number; nbf?: number; iat?: number }) =>
    new SignJWT({ tid: 'acme', roles: ['OPERATOR'], ...times })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuer(auth.issuer)
      .setAudience(auth.audience)
      .sign(new TextEncoder().encode(auth.secret));
  // Far enough from the tolerance edge that a slow test run cannot cross it.
  const margin = 15;

  it('refuses a token without exp, which would otherwise be valid forever', async () => {
    await rejected(await signClaims({}), /lacks the required "exp"/);
    await rejected(await signClaims({ iat: now(), nbf: now() }), /lacks the required "exp"/);
  });

  it('accepts exp just past within the clock tolerance and refuses it beyond', async () => {
    expect(
      (await verifier.verify(await signClaims({ exp: now() - TOKEN_CLOCK_TOLERANCE_SECONDS + margin })))
        .userId,
    ).toBe('u1');
    await rejected(await signClaims({ exp: now() - TOKEN_CLOCK_TOLERANCE_SECONDS - margin }), /expired/);
  });

  it('refuses nbf and iat in the future beyond the clock tolerance, accepts them within it', async () => {
    const exp = now() + 3600;
    const soon = now() + TOKEN_CLOCK_TOLERANCE_SECONDS - margin;
    const late = now() + TOKEN_CLOCK_TOLERANCE_SECONDS + margin;
    expect((await verifier.verify(await signClaims({ exp, nbf: soon, iat: soon }))).userId).toBe('u1');
    await rejected(await signClaims({ exp, nbf: late }), /"nbf"/);
    await rejected(await signClaims({ exp, iat: late }), /"iat"/);
  });

  it('refuses time claims that are not numbers', async () => {
    // jose's types want a number here; a hostile token need not follow them.
    const claims = { tid: 'acme', roles: ['OPERATOR'], exp: 'tomorrow' } as unknown as JWTPayload;
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u1')
      .setIssuer(auth.issuer)
      .setAudience(auth.audience)
      .sign(new TextEncoder().encode(auth.secret));
    await rejected(token, /"exp"/);
  });
});

describe('bearerToken', () => {
  it('reads a Bearer header and explains what is wrong otherwise', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(() => bearerToken(null)).toThrow(/missing/);
    expect(() => bearerToken('Basic dXNlcjpwdw==')).toThrow(/Bearer/);
    expect(() => bearerToken('Bearer a b')).toThrow(/Bearer/);
  });
});
