import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

type KeyLike = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTokenVerifier,
  TOKEN_CLOCK_TOLERANCE_SECONDS,
  type TokenVerifier,
} from '../../shared/auth/verifier.js';
import { UnauthenticatedError } from '../../shared/errors.js';
import { tamper, unsignedToken } from '../support/jwt.js';

// An OIDC issuer's key endpoint, served on loopback, stands in for Entra ID's JWKS.
const issuer = 'https://login.example/tenant-1/v2.0';
const audience = 'api://fieldsync';
let server: Server;
let verifier: TokenVerifier;
let privateKey: KeyLike;
let publicJwk: JWK;
let otherPrivateKey: KeyLike;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  privateKey = pair.privateKey;
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
  otherPrivateKey = (await generateKeyPair('RS256')).privateKey;
  server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  verifier = createTokenVerifier({
    mode: 'oidc',
    issuer,
    audience,
    jwksUrl: `http://127.0.0.1:${port}/keys`,
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const sign = (
  claims: Record<string, unknown> = { tid: 'acme', roles: ['MANAGER'] },
  options: { key?: KeyLike; kid?: string; iss?: string; aud?: string; exp?: string } = {},
) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'key-1' })
    .setSubject('user-oid-1')
    .setIssuer(options.iss ?? issuer)
    .setAudience(options.aud ?? audience)
    .setExpirationTime(options.exp ?? '10m')
    .sign(options.key ?? privateKey);

const rejected = async (token: string, reason: RegExp) => {
  const error = await verifier.verify(token).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(UnauthenticatedError);
  expect((error as Error).message).toMatch(reason);
};

describe('OIDC token verification through JWKS (RS256)', () => {
  it('accepts a token signed by the issuer key', async () => {
    expect(await verifier.verify(await sign())).toEqual({
      userId: 'user-oid-1',
      tenantId: 'acme',
      roles: ['MANAGER'],
    });
  });

  it('refuses expired tokens, other issuers and other audiences', async () => {
    await rejected(await sign(undefined, { exp: '-10m' }), /expired/);
    await rejected(await sign(undefined, { iss: 'https://evil.example/' }), /"iss"/);
    await rejected(await sign(undefined, { aud: 'api://other' }), /"aud"/);
  });

  it('refuses a key the issuer does not publish', async () => {
    await rejected(await sign(undefined, { key: otherPrivateKey }), /signature/);
    await rejected(await sign(undefined, { key: otherPrivateKey, kid: 'unknown-kid' }), /key is unknown/);
  });

  it('refuses HS256 signed with the public key (algorithm confusion)', async () => {
    const publicKeyBytes = new TextEncoder().encode(JSON.stringify(publicJwk));
    const confused = await new SignJWT({ tid: 'acme', roles: ['ADMIN'] })
      .setProtectedHeader({ alg: 'HS256', kid: 'key-1' })
      .setSubject('attacker')
      .setIssuer(issuer)
      .setAudience(audience)
      .setExpirationTime('10m')
      .sign(publicKeyBytes);
    await rejected(confused, /algorithm/);
  });

  it('refuses alg none and tampered payloads', async () => {
    const now = Math.floor(Date.now() / 1000);
    await rejected(
      unsignedToken({ sub: 'x', tid: 'acme', roles: ['ADMIN'], iss: issuer, aud: audience, exp: now + 600 }),
      /algorithm|malformed/,
    );
    await rejected(
      tamper(await sign(), (c) => ({ ...c, tid: 'globex' })),
      /signature/,
    );
  });
});

describe('OIDC token time claims', () => {
  const now = () => Math.floor(Date.now() / 1000);
  // Signed by the issuer key with exactly these time claims (SignJWT sets none unless asked).
  const signTimes = (times: { exp?: number; nbf?: number; iat?: number }) =>
    new SignJWT({ tid: 'acme', roles: ['MANAGER'], ...times })
      .setProtectedHeader({ alg: 'RS256', kid: 'key-1' })
      .setSubject('user-oid-1')
      .setIssuer(issuer)
      .setAudience(audience)
      .sign(privateKey);
  // Far enough from the tolerance edge that a slow test run cannot cross it.
  const margin = 15;

  it('refuses a correctly signed token without exp', async () => {
    await rejected(await signTimes({}), /lacks the required "exp"/);
    await rejected(await signTimes({ iat: now(), nbf: now() }), /lacks the required "exp"/);
  });

  it('accepts exp within the clock tolerance and refuses it just beyond', async () => {
    const within = now() - TOKEN_CLOCK_TOLERANCE_SECONDS + margin;
    expect((await verifier.verify(await signTimes({ exp: within }))).userId).toBe('user-oid-1');
    await rejected(await signTimes({ exp: now() - TOKEN_CLOCK_TOLERANCE_SECONDS - margin }), /expired/);
  });

  it('refuses nbf or iat in the future beyond the tolerance, accepts them within it', async () => {
    const exp = now() + 3600;
    const soon = now() + TOKEN_CLOCK_TOLERANCE_SECONDS - margin;
    const late = now() + TOKEN_CLOCK_TOLERANCE_SECONDS + margin;
    expect((await verifier.verify(await signTimes({ exp, nbf: soon, iat: soon }))).userId).toBe('user-oid-1');
    await rejected(await signTimes({ exp, nbf: late }), /"nbf"/);
    await rejected(await signTimes({ exp, iat: late }), /"iat"/);
  });
});
