import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ALL_ROUTES } from '../../shared/contracts/routes.js';
import { tokenFor } from '../support/auth.js';
import { tamper } from '../support/jwt.js';

/** Public routes whose URL carries a signed capability: a made-up one is refused (docs/compat/fieldops.md). */
const CAPABILITY_ROUTES: Record<string, number> = { 'compat/fieldops/uploads/{token}': 403 };

// HTTP against the local Functions host (`node dist/local/start.js`) that the test run started.
const base = inject('hostUrl');
const root = join(import.meta.dirname, '..', '..');

const get = (path: string, init: RequestInit = {}) => fetch(`${base}/${path}`, init);
const withToken = (token: string, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` },
});

describe('the local Functions host', () => {
  it('registers every function file, and serves every route of the contract', async () => {
    // Every function file is imported by functions/index.ts or by its folder's index.ts (the compat
    // dialects' folders), and every folder index by functions/index.ts: none is left unregistered.
    const functionsDir = join(root, 'functions');
    const files = readdirSync(functionsDir, { recursive: true, encoding: 'utf8' }).filter(
      (f) => f.endsWith('.ts') && f !== 'index.ts',
    );
    const index = readFileSync(join(functionsDir, 'index.ts'), 'utf8');
    for (const file of files) {
      const js = file.replace(/\.ts$/, '.js');
      const folderIndex = join(functionsDir, dirname(file), 'index.ts');
      const imported =
        index.includes(`./${js}`) ||
        (dirname(file) !== '.' &&
          existsSync(folderIndex) &&
          readFileSync(folderIndex, 'utf8').includes(`./${basename(js)}`) &&
          index.includes(`./${dirname(file)}/index.js`));
      expect(imported, `functions/${file} is registered through an index`).toBe(true);
    }

    const doc = (await (await get('openapi.json')).json()) as {
      servers: { url: string }[];
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.servers.map((s) => s.url)).toEqual(['/api']);
    for (const route of ALL_ROUTES) {
      const path = `/${route.route}`.replace(/\{(\w+)\}/g, '{$1}');
      expect(
        doc.paths[path]?.[route.method.toLowerCase()],
        `${route.method} ${path} in OpenAPI`,
      ).toBeDefined();
      // Served: the host routes it to a function (no token → the function's own 401, or 200 when public; a
      // public route whose URL is the capability refuses the made-up one with 403).
      const response = await get(route.route.replace(/\{\w+\}/g, 'some-id'), { method: route.method });
      const expected = route.access !== 'public' ? 401 : (CAPABILITY_ROUTES[route.route] ?? 200);
      expect(response.status, `${route.method} ${route.route}`).toBe(expected);
      expect(response.headers.get('x-request-id')).toBeTruthy();
    }
    expect(Object.keys(doc.paths).length).toBe(new Set(ALL_ROUTES.map((r) => r.route)).size);
  });

  it('answers HEAD on every GET route like GET, without a body', async () => {
    const manager = await tokenFor('acme', ['MANAGER']);
    for (const route of ALL_ROUTES.filter((r) => r.method === 'GET')) {
      const path = route.route.replace(/\{\w+\}/g, '00000000-0000-4000-8000-000000000000');
      for (const init of [{}, withToken(manager)]) {
        const full = await get(path, init);
        const text = await full.text();
        const head = await get(path, { ...init, method: 'HEAD' });
        expect(head.status, `HEAD ${path}`).toBe(full.status);
        expect(await head.text(), `HEAD ${path}`).toBe('');
        expect(head.headers.get('content-type'), `HEAD ${path}`).toBe(full.headers.get('content-type'));
        expect(head.headers.get('x-request-id'), `HEAD ${path}`).toBeTruthy();
        if (route.name !== 'health') {
          expect(head.headers.get('content-length'), `HEAD ${path}`).toBe(String(Buffer.byteLength(text)));
        }
      }
    }
    // A route without GET has no HEAD either: 405 naming what it serves.
    const wrong = await get('v1/sync/batches', { method: 'HEAD' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('OPTIONS, POST');
  });

  it('lets a browser app on localhost call it (CORS), and no other origin', async () => {
    const preflight = await get('v1/sync/batches', {
      method: 'OPTIONS',
      headers: {
        origin: 'http://localhost:5173',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type, idempotency-key, prefer',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(preflight.headers.get('vary')).toContain('Origin');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('OPTIONS, POST');
    const allowedHeaders = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const header of [
      'authorization',
      'content-type',
      'content-encoding',
      'idempotency-key',
      'prefer',
      'x-request-id',
      'x-tenant-id',
    ])
      expect(allowedHeaders.split(', ')).toContain(header);
    expect(Number(preflight.headers.get('access-control-max-age'))).toBeGreaterThan(0);

    const actual = await get('v1/sync/status?deviceId=x', {
      headers: { origin: 'http://127.0.0.1:8080' },
    });
    expect(actual.status).toBe(401);
    expect(actual.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8080');
    const exposed = (actual.headers.get('access-control-expose-headers') ?? '').toLowerCase().split(', ');
    for (const header of [
      'retry-after',
      'preference-applied',
      'x-request-id',
      'location',
      'www-authenticate',
    ])
      expect(exposed).toContain(header);

    for (const origin of ['https://evil.example', 'http://localhost.evil.example', 'null']) {
      const denied = await get('v1/sync/batches', {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
      expect(denied.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(denied.headers.get('access-control-allow-methods'), origin).toBeNull();
      const health = await get('health', { headers: { origin } });
      expect(health.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('answers health 200 with each dependency', async () => {
    const response = await get('health');
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      checks: { postgres: { status: 'up' }, cosmos: { status: 'up' }, blob: { status: 'up' } },
    });
  });

  it('answers unknown paths 404 and wrong methods 405, as problem+json', async () => {
    const missing = await get('v1/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const wrong = await get('health', { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toContain('GET');
    expect(await wrong.json()).toMatchObject({
      status: 405,
      type: expect.any(String),
      title: expect.any(String),
    });
  });

  it('treats tokens right over HTTP: 401 for bad ones, 403 for role or tenant', async () => {
    const put = (token: string | undefined, headers: Record<string, string> = {}) =>
      get('v1/wells/e2e-well', {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify({
          name: 'E2E',
          apiNumber: `42-000-${Date.now()}`,
          latitude: 1,
          longitude: 2,
          status: 'ACTIVE',
        }),
      });
    const manager = await tokenFor('acme', ['MANAGER']);
    expect((await put(undefined)).status).toBe(401);
    expect((await put('garbage')).status).toBe(401);
    expect((await put(tamper(manager, (c) => ({ ...c, tid: 'globex' })))).status).toBe(401);
    expect((await put(await tokenFor('acme', ['OPERATOR']))).status).toBe(403);
    expect((await put(await tokenFor('nobody-here', ['MANAGER']))).status).toBe(403);
    expect((await put(manager, { 'x-tenant-id': 'globex' })).status).toBe(403);
    const ok = await put(manager);
    expect([200, 201]).toContain(ok.status);
    const problem = await (await put(undefined)).json();
    expect(problem).toMatchObject({
      status: 401,
      type: 'urn:fieldsync:problem:unauthenticated',
      title: 'Unauthorized',
    });
  });

  it('keeps the demo tenants apart: globex cannot delete acme equipment', async () => {
    // acme's record as its devices see it: a fresh device's snapshot pull (deleted equipment is left out).
    const acmeOperator = await tokenFor('acme', ['OPERATOR'], 'u-e2e-separation');
    const acmePump = async () => {
      const deviceId = `e2e-separation-${crypto.randomUUID()}`;
      const equipment: { id: string }[] = [];
      let cursor = '';
      for (;;) {
        const page = await get(
          `v1/sync/pull?deviceId=${deviceId}&limit=1000${cursor}`,
          withToken(acmeOperator),
        );
        expect(page.status).toBe(200);
        const body = (await page.json()) as {
          equipment: { id: string }[];
          hasMore: boolean;
          nextCursor: string;
        };
        equipment.push(...body.equipment);
        if (!body.hasMore) return equipment.find((e) => e.id === 'eq-pumpjack-1a');
        cursor = `&cursor=${encodeURIComponent(body.nextCursor)}`;
      }
    };
    const before = await acmePump();
    expect(before).toMatchObject({ id: 'eq-pumpjack-1a', deletedAt: null, serialNumber: 'LUF-640-1A-0042' });

    const globexManager = await tokenFor('globex', ['MANAGER']);
    const response = await get('v1/equipment/eq-pumpjack-1a', withToken(globexManager, { method: 'DELETE' }));
    expect(response.status).toBe(404);
    // Not only "not found" for globex: acme's record is still there, not soft-deleted, not even touched
    // (same version and updatedAt). A PUT would not tell: it answers 200 on soft-deleted equipment too.
    expect(await acmePump()).toEqual(before);
  });

  it('answers 413 for a body over 4 MiB and 415 for a non-JSON body', async () => {
    const manager = await tokenFor('acme', ['MANAGER']);
    const big = await get(
      'v1/wells/big',
      withToken(manager, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: `"${'x'.repeat(4 * 1024 * 1024 + 10)}"`,
      }),
    );
    expect(big.status).toBe(413);
    const xml = await get(
      'v1/wells/xml',
      withToken(manager, { method: 'PUT', headers: { 'content-type': 'application/xml' }, body: '<well/>' }),
    );
    expect(xml.status).toBe(415);
  });
});
