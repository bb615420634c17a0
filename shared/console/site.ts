/**
 * The managers' console as static assets (docs/console.md): the pages compiled from shared/console/web/
 * (tsconfig.console.json, built into dist/shared/console/web/ by scripts/run.mjs), two vendor files served
 * straight from node_modules (uPlot for the charts, MSAL for the Entra ID sign-in), `index.html` and
 * `config.json`. Every path the console answers is listed up front in a map: a request names a key of that
 * map or gets 404, so no request path ever reaches the file system (no traversal by construction).
 *
 * Caching: the app's files live under `app/<build>/…` and the vendor files under `vendor/<package>@<version>/…`,
 * so their URLs change whenever their bytes do: `immutable` for a year. `index.html` and `config.json` are
 * revalidated on every load (`no-cache` with an ETag). The Content-Security-Policy allows scripts and styles
 * from this origin only (no inline code), API calls to this origin (plus the Entra authority when
 * configured), and images from this origin and the photo storage account (the read URLs of photos).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import type { Config, Connection } from '../config.js';

/** One answerable path of the console. */
export interface ConsoleAsset {
  body: Buffer;
  contentType: string;
  /** A strong validator: the first 128 bits of the body's SHA-256, base64url, quoted (RFC 9110 §8.8.3). */
  etag: string;
  cacheControl: string;
}

/** What `config.json` tells the pages: how to sign in and where the API is. */
export interface ConsoleClientConfig {
  /** Base URL of the API, relative to the origin (`/api`). */
  apiBase: string;
  /**
   * `dev`: the local stack's development issuer is configured, so the page takes a token from its URL
   * fragment (what `npm start` prints); `entra`: MSAL with the settings below; `none`: no sign-in configured.
   */
  signIn: 'dev' | 'entra' | 'none';
  entra?: { clientId: string; authority: string; scopes: string[] };
}

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'no-cache';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

const contentTypeOf = (path: string): string | undefined => {
  const dot = path.lastIndexOf('.');
  return dot < 0 ? undefined : CONTENT_TYPES[path.slice(dot)];
};

/** The strong ETag of a body. */
export const etagOf = (body: Buffer): string =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;

const asset = (body: Buffer, contentType: string, cacheControl: string): ConsoleAsset => ({
  body,
  contentType,
  etag: etagOf(body),
  cacheControl,
});

/** Every file under `dir`, as forward-slash paths relative to it. */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'));
}

/** The folder and version of an installed package (its package.json found above its main file). */
function installedPackage(name: string): { dir: string; version: string } {
  const require = createRequire(import.meta.url);
  let dir = dirname(require.resolve(name));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (parsed.name === name && parsed.version) return { dir, version: parsed.version };
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the package.json of ${name}`);
    dir = parent;
  }
}

/** The vendor files the pages load: [package, file inside it]. Nothing else of node_modules is served. */
const VENDOR_FILES = [
  ['uplot', 'dist/uPlot.iife.min.js'],
  ['uplot', 'dist/uPlot.min.css'],
  ['@azure/msal-browser', 'lib/msal-browser.min.js'],
] as const;

/**
 * The origin photos' read URLs point at (the Blob service endpoint), for the CSP's img-src; undefined when
 * it cannot be told from the connection (the photos then do not show, nothing else breaks).
 */
export function blobOrigin(connection: Connection): string | undefined {
  const originOf = (url: string) => {
    try {
      return new URL(url).origin;
    } catch {
      return undefined;
    }
  };
  if (connection.kind === 'identity') return originOf(connection.endpoint);
  const parts = new Map(
    connection.connectionString
      .split(';')
      .map((part) => part.trim())
      .filter((part) => part.includes('='))
      .map((part) => {
        const at = part.indexOf('=');
        return [part.slice(0, at).toLowerCase(), part.slice(at + 1)] as const;
      }),
  );
  const endpoint = parts.get('blobendpoint');
  if (endpoint) return originOf(endpoint);
  if (parts.get('usedevelopmentstorage')?.toLowerCase() === 'true') return 'http://127.0.0.1:10000';
  const account = parts.get('accountname');
  if (!account) return undefined;
  const protocol = parts.get('defaultendpointsprotocol') ?? 'https';
  return originOf(`${protocol}://${account}.blob.${parts.get('endpointsuffix') ?? 'core.windows.net'}`);
}

/**
 * The Content-Security-Policy of every console answer: no inline script or style anywhere, no plugins, no
 * framing, no base-URI or form tricks; API calls to this origin (and the Entra authority's, for MSAL's
 * token requests and its silent-renewal frame); images from here and from the photo storage.
 */
export function contentSecurityPolicy(options: { authorityOrigin?: string; imageOrigin?: string }): string {
  const { authorityOrigin, imageOrigin } = options;
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    `img-src 'self'${imageOrigin ? ` ${imageOrigin}` : ''}`,
    `connect-src 'self'${authorityOrigin ? ` ${authorityOrigin}` : ''}`,
    `frame-src ${authorityOrigin ?? "'none'"}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The console, ready to answer: its assets by path (below `console/`), and the headers every answer carries. */
export interface ConsoleSite {
  /** The build id in the app files' URLs (`app/<build>/main.js`). */
  build: string;
  assets: Map<string, ConsoleAsset>;
  /** Security headers of every answer, 404s included. */
  headers: Record<string, string>;
}

export interface ConsoleSiteOptions {
  /** Where the compiled pages are: dist/shared/console/web/. */
  webDir: string;
  config: Pick<Config, 'auth' | 'blob' | 'console'>;
  /** The API base path, `/api` (host.json routePrefix). */
  apiBase?: string;
}

/**
 * Loads the console's files once (per instance) and renders index.html and config.json for this
 * configuration. Throws when the compiled pages are missing (a build that skipped tsconfig.console.json).
 */
export function loadConsoleSite({ webDir, config, apiBase = '/api' }: ConsoleSiteOptions): ConsoleSite {
  const files = listFiles(webDir).filter((path) => contentTypeOf(path) !== undefined);
  if (!files.includes('index.html')) {
    throw new Error(`the console is not built: no ${join(webDir, 'index.html')} (npm run build builds it)`);
  }
  const bodies = new Map(files.map((path) => [path, readFileSync(join(webDir, path))]));
  const build = createHash('sha256')
    .update(
      files
        .filter((path) => path !== 'index.html')
        .sort()
        .map((path) => `${path}\0${etagOf(bodies.get(path) ?? Buffer.alloc(0))}`)
        .join('\n'),
    )
    .digest('hex')
    .slice(0, 12);

  const base = `${apiBase}/console/`;
  const assets = new Map<string, ConsoleAsset>();
  for (const path of files) {
    if (path === 'index.html') continue;
    assets.set(
      `app/${build}/${path}`,
      asset(bodies.get(path) as Buffer, contentTypeOf(path) as string, IMMUTABLE),
    );
  }
  const vendorUrls: Record<string, string> = {};
  for (const [name, file] of VENDOR_FILES) {
    const { dir, version } = installedPackage(name);
    const path = `vendor/${name.replace(/^@azure\//, '')}@${version}/${file.slice(file.lastIndexOf('/') + 1)}`;
    assets.set(path, asset(readFileSync(join(dir, file)), contentTypeOf(file) as string, IMMUTABLE));
    vendorUrls[file.slice(file.lastIndexOf('/') + 1)] = `${base}${path}`;
  }

  const entra = config.console.entra;
  const clientConfig: ConsoleClientConfig = {
    apiBase,
    signIn: entra ? 'entra' : config.auth.mode === 'dev' ? 'dev' : 'none',
    ...(entra
      ? { entra: { clientId: entra.clientId, authority: entra.authority, scopes: [entra.apiScope] } }
      : {}),
  };
  assets.set(
    'config.json',
    asset(Buffer.from(JSON.stringify(clientConfig)), CONTENT_TYPES['.json'] as string, REVALIDATE),
  );

  // index.html names every other file by its cache-busting URL.
  const index = (bodies.get('index.html') as Buffer)
    .toString('utf8')
    .replaceAll('%APP%', `${base}app/${build}`)
    .replaceAll('%UPLOT_JS%', vendorUrls['uPlot.iife.min.js'] ?? '')
    .replaceAll('%UPLOT_CSS%', vendorUrls['uPlot.min.css'] ?? '')
    .replaceAll('%MSAL_JS%', vendorUrls['msal-browser.min.js'] ?? '');
  const indexAsset = asset(Buffer.from(index), CONTENT_TYPES['.html'] as string, REVALIDATE);
  assets.set('', indexAsset);
  assets.set('index.html', indexAsset);

  let authorityOrigin: string | undefined;
  if (entra) authorityOrigin = new URL(entra.authority).origin;
  const imageOrigin = blobOrigin(config.blob.connection);
  return {
    build,
    assets,
    headers: {
      'content-security-policy': contentSecurityPolicy({
        ...(authorityOrigin ? { authorityOrigin } : {}),
        ...(imageOrigin ? { imageOrigin } : {}),
      }),
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-resource-policy': 'same-origin',
    },
  };
}

/**
 * The asset a request path (below `console/`, as the route's catch-all parameter gives it) names, or
 * undefined. An `app/<build>/…` path of another build (a page loaded before a deployment) gets today's
 * file, without `immutable`: the old URL must not pin new bytes in a cache for a year.
 */
export function findAsset(site: ConsoleSite, path: string | undefined): ConsoleAsset | undefined {
  const key = path ?? '';
  const exact = site.assets.get(key);
  if (exact) return exact;
  const other = /^app\/[0-9a-f]{12}\/(.+)$/.exec(key);
  const current = other ? site.assets.get(`app/${site.build}/${other[1]}`) : undefined;
  return current ? { ...current, cacheControl: REVALIDATE } : undefined;
}

/** True when an If-None-Match header matches the ETag (weak comparison, RFC 9110 §13.1.2). */
export function notModified(ifNoneMatch: string | null, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === etag);
}
