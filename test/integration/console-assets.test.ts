import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import {
  blobOrigin,
  contentSecurityPolicy,
  findAsset,
  loadConsoleSite,
  notModified,
} from '../../shared/console/site.js';
import { serveConsole } from '../../functions/console.js';
import { call } from '../support/http.js';

// The console's asset function (functions/console.ts, shared/console/site.ts): over the local host the test
// run started, and in-process for configurations the host does not have (Entra sign-in).
const base = inject('hostUrl');
const origin = new URL(base).origin;
const root = join(import.meta.dirname, '..', '..');
const webDir = join(root, 'dist', 'shared', 'console', 'web');
afterAll(() => closeApp());

/** A GET with the path sent exactly as written (fetch would normalise `..` away before sending). */
function rawGet(path: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(origin);
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const scriptAndStyleUrls = (html: string) =>
  [...html.matchAll(/(?:src|href)="([^"#]+)"/g)]
    .map((m) => m[1] as string)
    .filter((u) => u.startsWith('/api/'));

describe('the console asset function', () => {
  it('serves index.html with a strict CSP, nosniff, revalidation and an ETag that answers 304', async () => {
    const response = await fetch(`${base}/console/`);
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("style-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe');
    // The local stack has no Entra authority: API calls to this origin only; photos from Azurite.
    expect(csp).toContain("connect-src 'self';");
    expect(csp).toMatch(/img-src 'self' http:\/\/127\.0\.0\.1:\d+;/);
    // No inline code anywhere in the page (the CSP would block it).
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style=/);
    expect(html).not.toContain('%APP%');

    const etag = response.headers.get('etag') ?? '';
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    const again = await fetch(`${base}/console/`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('content-security-policy')).toBe(csp);
    const changed = await fetch(`${base}/console/`, { headers: { 'if-none-match': '"something-else"' } });
    expect(changed.status).toBe(200);
  });

  it('serves every file index.html names, app files and vendor files immutable, vendor bytes from node_modules', async () => {
    const html = await (await fetch(`${base}/console/`)).text();
    const urls = scriptAndStyleUrls(html);
    expect(urls.length).toBe(6); // the favicon, uPlot CSS + JS, MSAL, console.css, main.js
    // The page names its icon, so the browser never asks for /favicon.ico (a 404 outside the console).
    expect(urls.filter((u) => u.endsWith('/favicon.svg'))).toHaveLength(1);
    for (const url of urls) {
      const response = await fetch(`${origin}${url}`);
      expect(response.status, url).toBe(200);
      expect(response.headers.get('cache-control'), url).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('content-type'), url).toMatch(
        url.endsWith('.css')
          ? /^text\/css/
          : url.endsWith('.svg')
            ? /^image\/svg\+xml$/
            : /^text\/javascript/,
      );
      expect(response.headers.get('x-content-type-options'), url).toBe('nosniff');
      expect(response.headers.get('content-security-policy'), url).toContain("default-src 'self'");
    }
    const require = createRequire(import.meta.url);
    const uplotJs = urls.find((u) => u.endsWith('uPlot.iife.min.js')) ?? '';
    const uplotDir = join(require.resolve('uplot'), '..');
    expect(Buffer.from(await (await fetch(`${origin}${uplotJs}`)).arrayBuffer())).toEqual(
      readFileSync(join(uplotDir, 'uPlot.iife.min.js')),
    );
    // A module main.js imports by a relative path is served under the same build.
    const main = urls.find((u) => u.endsWith('/main.js')) ?? '';
    const api = await fetch(`${origin}${main.replace(/main\.js$/, 'pages/fleet.js')}`);
    expect(api.status).toBe(200);
    expect(api.headers.get('cache-control')).toContain('immutable');
  });

  it('answers config.json for the dev sign-in only because the development issuer is configured', async () => {
    const response = await fetch(`${base}/console/config.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(await response.json()).toEqual({ apiBase: '/api', signIn: 'dev' });
  });

  it('redirects /api/console to /api/console/, and HEAD answers like GET without a body', async () => {
    const bare = await fetch(`${base}/console`, { redirect: 'manual' });
    expect(bare.status).toBe(308);
    expect(bare.headers.get('location')).toBe('/api/console/');
    const head = await fetch(`${base}/console/config.json`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(head.headers.get('etag')).toBeTruthy();
  });

  it('answers 404 problem+json (with the security headers) for unknown files and other builds’ unknown files', async () => {
    for (const path of [
      'console/nope.js',
      'console/app/000000000000/nope.js',
      'console/vendor/uplot@0.0.1/uPlot.iife.min.js',
    ]) {
      const response = await fetch(`${base}/${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toBe('application/problem+json');
      expect(response.headers.get('content-security-policy'), path).toContain("default-src 'self'");
      expect(response.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
  });

  it('never serves a file outside the console: traversal by dots, encodings and backslashes', async () => {
    const html = await (await fetch(`${base}/console/`)).text();
    const main = scriptAndStyleUrls(html).find((u) => u.endsWith('/main.js')) ?? '';
    const build = main.replace(/\/main\.js$/, '');
    const attempts = [
      '/api/console/../../package.json',
      '/api/console/../host.json',
      '/api/console/%2e%2e/%2e%2e/package.json',
      '/api/console/..%2f..%2fpackage.json',
      '/api/console/%2e%2e%2f%2e%2e%2fhost.json',
      `${build}/../../../../../package.json`,
      `${build}/..%2f..%2f..%2f..%2f..%2fpackage.json`,
      `${build}/%2e%2e/%2e%2e/%2e%2e/local/start.js`,
      '/api/console/..\\..\\package.json',
      '/api/console/vendor/uplot@1.6.32/../../package.json',
      '/api/console/vendor/uplot@1.6.32/..%2fpackage.json',
      '/api/console//etc/passwd',
      '/api/console/%2fetc%2fpasswd',
      '/api/console/app/x/%00.js',
    ];
    const secrets = [readFileSync(join(root, 'package.json'), 'utf8').slice(0, 40), 'root:x:0:0'];
    for (const path of attempts) {
      const response = await rawGet(path);
      expect([400, 404, 308], path).toContain(response.status);
      for (const secret of secrets) expect(response.body, path).not.toContain(secret);
    }
  });
});

describe('console assets, in process', () => {
  const localConfig = {
    auth: { mode: 'dev', issuer: 'i', audience: 'a', secret: 'x'.repeat(32) },
    blob: {
      connection: { kind: 'identity', endpoint: 'https://acct.blob.core.windows.net/' },
      photosContainer: 'photos',
    },
    console: { entra: undefined },
  } as const;

  it('finds only the files of the map: any other path, with dots or not, is undefined', () => {
    const site = loadConsoleSite({ webDir, config: localConfig });
    fc.assert(
      fc.property(
        fc.string({ maxLength: 80 }),
        fc.constantFrom('', '../', '..%2f', '/', './', 'app/'),
        (tail, prefix) => {
          const path = `${prefix}${tail}`;
          const found = findAsset(site, path);
          if (found) expect(site.assets.has(path) || /^app\/[0-9a-f]{12}\//.test(path)).toBe(true);
          if (path.includes('..')) expect(found).toBeUndefined();
        },
      ),
      { numRuns: 2000 },
    );
    // Another build's URL of a real file: the current bytes, revalidated (never immutable under an old URL).
    const stale = findAsset(site, 'app/0123456789ab/main.js');
    expect(stale?.cacheControl).toBe('no-cache');
    expect(stale?.body).toEqual(site.assets.get(`app/${site.build}/main.js`)?.body);
  });

  it('with Entra settings: config.json says entra, the CSP lets MSAL reach the authority, and not more', () => {
    const site = loadConsoleSite({
      webDir,
      config: {
        ...localConfig,
        auth: {
          mode: 'oidc',
          issuer: 'i',
          audience: 'a',
          jwksUrl: 'https://login.microsoftonline.com/t/keys',
        },
        console: {
          entra: {
            clientId: '00000000-0000-0000-0000-000000000001',
            authority: 'https://login.microsoftonline.com/contoso.example',
            apiScope: 'api://fieldsync/.default',
          },
        },
      },
    });
    expect(JSON.parse(site.assets.get('config.json')?.body.toString() ?? '')).toEqual({
      apiBase: '/api',
      signIn: 'entra',
      entra: {
        clientId: '00000000-0000-0000-0000-000000000001',
        authority: 'https://login.microsoftonline.com/contoso.example',
        scopes: ['api://fieldsync/.default'],
      },
    });
    const csp = site.headers['content-security-policy'] ?? '';
    expect(csp).toContain("connect-src 'self' https://login.microsoftonline.com;");
    expect(csp).toContain('frame-src https://login.microsoftonline.com;');
    expect(csp).toContain("img-src 'self' https://acct.blob.core.windows.net;");
    // OIDC without the console's settings: no sign-in at all, never the dev one.
    const none = loadConsoleSite({
      webDir,
      config: { ...localConfig, auth: { mode: 'oidc', issuer: 'i', audience: 'a', jwksUrl: 'https://k' } },
    });
    expect(JSON.parse(none.assets.get('config.json')?.body.toString() ?? '')).toEqual({
      apiBase: '/api',
      signIn: 'none',
    });
  });

  it('tells the photo origin from every form of storage connection', () => {
    expect(blobOrigin({ kind: 'identity', endpoint: 'https://a.blob.core.windows.net/' })).toBe(
      'https://a.blob.core.windows.net',
    );
    expect(
      blobOrigin({
        kind: 'connectionString',
        connectionString:
          'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=k==;EndpointSuffix=core.windows.net',
      }),
    ).toBe('https://acct.blob.core.windows.net');
    expect(
      blobOrigin({
        kind: 'connectionString',
        connectionString: 'AccountName=x;AccountKey=k;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;',
      }),
    ).toBe('http://127.0.0.1:10000');
    expect(blobOrigin({ kind: 'connectionString', connectionString: 'UseDevelopmentStorage=true' })).toBe(
      'http://127.0.0.1:10000',
    );
    expect(blobOrigin({ kind: 'connectionString', connectionString: 'nonsense' })).toBeUndefined();
    expect(contentSecurityPolicy({})).toContain("frame-src 'none'");
  });

  it('compares ETags as RFC 9110 says (lists, weak prefixes, *)', () => {
    expect(notModified('"a", W/"b"', '"b"')).toBe(true);
    expect(notModified('*', '"x"')).toBe(true);
    expect(notModified('"a"', '"b"')).toBe(false);
    expect(notModified(null, '"b"')).toBe(false);
  });

  it('answers in process as over the host: POST is not served (405)', async () => {
    const response = await call(serveConsole, {
      method: 'POST',
      url: 'http://localhost/api/console/',
      params: {},
    });
    expect(response.status).toBe(405);
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
  });
});
