import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { signDevToken } from '../../shared/auth/dev-token.js';
import { bearerToken, createTokenVerifier } from '../../shared/auth/verifier.js';
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

describe('bearerToken', () => {
  it('reads a Bearer header and explains what is wrong otherwise', () => {
    expect(bearerToken('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerToken('bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(() => bearerToken(null)).toThrow(/missing/);
    expect(() => bearerToken('Basic dXNlcjpwdw==')).toThrow(/Bearer/);
    expect(() => bearerToken('Bearer a b')).toThrow(/Bearer/);
  });
});
