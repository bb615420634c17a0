import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { projectRoot } from '../shared/project-root.js';

/** Settings of the local tools themselves (not the app): ports and where local data lives. */
const localSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(7071),
  FIELDSYNC_DATA_DIR: z.string().trim().min(1).optional(),
  LOCAL_POSTGRES_PORT: z.coerce.number().int().min(0).max(65535).default(5433),
  LOCAL_BLOB_PORT: z.coerce.number().int().min(0).max(65535).default(10000),
  LOCAL_COSMOS_PORT: z.coerce.number().int().min(0).max(65535).default(8081),
  LOCAL_EXTRA_SERVERS: z.string().trim().optional(),
});

/** A server name as POSTGRES_SERVERS accepts it (shared/config.ts). */
const SERVER_NAME = /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/;

/**
 * LOCAL_EXTRA_SERVERS: more embedded Postgres servers for tenant databases (docs/deploy.md "Tenant
 * servers"), comma-separated `name` or `name:port`; a server without a port takes the control server's port
 * plus its position (1, 2, …). Returns the servers and the problems found (each a sentence; none when valid).
 * A name equal to the control server's is refused later, by the app's own check of POSTGRES_SERVERS.
 */
export function parseExtraServers(
  value: string | undefined,
  postgresPort: number,
): { servers: { name: string; port: number }[]; problems: string[] } {
  const items = (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  const problems: string[] = [];
  const servers = items.map((item, index) => {
    const [name = '', port, ...rest] = item.split(':');
    const number = port === undefined ? postgresPort + index + 1 : Number(port);
    if (!SERVER_NAME.test(name) || rest.length > 0)
      problems.push(`"${item}": a name is 1–40 lower-case letters, digits or hyphens, then optionally :port`);
    else if (!Number.isInteger(number) || number < 1 || number > 65535)
      problems.push(`"${item}": the port must be 1–65535`);
    return { name, port: number };
  });
  const names = servers.map((s) => s.name);
  if (new Set(names).size !== names.length) problems.push('server names must be unique');
  return { servers, problems };
}

export interface LocalSettings {
  port: number;
  dataDir: string;
  ports: { postgres: number; blob: number; cosmos: number };
  /** LOCAL_EXTRA_SERVERS: more embedded Postgres servers for tenants (none by default). */
  extraServers: { name: string; port: number }[];
}

export function loadLocalSettings(env: Record<string, string | undefined> = process.env): LocalSettings {
  const parsed = localSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`Invalid local settings:\n${lines}`);
  }
  const s = parsed.data;
  const extra = parseExtraServers(s.LOCAL_EXTRA_SERVERS, s.LOCAL_POSTGRES_PORT);
  if (extra.problems.length) {
    const lines = extra.problems.map((p) => `  - LOCAL_EXTRA_SERVERS: ${p}`).join('\n');
    throw new Error(`Invalid local settings:\n${lines}`);
  }
  return {
    extraServers: extra.servers,
    port: s.PORT,
    dataDir: resolve(s.FIELDSYNC_DATA_DIR ?? join(projectRoot(), '.fieldsync')),
    ports: { postgres: s.LOCAL_POSTGRES_PORT, blob: s.LOCAL_BLOB_PORT, cosmos: s.LOCAL_COSMOS_PORT },
  };
}

export const LOCAL_ISSUER = 'fieldsync-local';
export const LOCAL_AUDIENCE = 'fieldsync-api';

/**
 * The development signing secret: AUTH_DEV_SECRET when set, else one generated on first use and kept in
 * the data folder, so tokens printed by `npm run token` are accepted by `npm start` across restarts.
 */
export function devSecret(dataDir: string, env: Record<string, string | undefined> = process.env): string {
  if (env.AUTH_DEV_SECRET) return env.AUTH_DEV_SECRET;
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'dev-secret');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

/** App settings with local defaults filled in: the dev secret, issuer, audience and the local queue. */
export function localAppSettings(
  dataDir: string,
  env: Record<string, string | undefined>,
): Record<string, string> {
  const settings: Record<string, string> = {};
  if (!env.AUTH_JWKS_URL) {
    settings.AUTH_DEV_SECRET = devSecret(dataDir, env);
    settings.AUTH_ISSUER = env.AUTH_ISSUER ?? LOCAL_ISSUER;
    settings.AUTH_AUDIENCE = env.AUTH_AUDIENCE ?? LOCAL_AUDIENCE;
  }
  if (!env.QUEUE_DRIVER) settings.QUEUE_DRIVER = 'local';
  // One local process serves every device and runs every processor: more connections per tenant than a
  // serverless instance's default of 4.
  if (!env.TENANT_POOL_MAX) settings.TENANT_POOL_MAX = '10';
  // ...and many tenants at once (the local server allows 300 connections, not an Azure SKU's budget).
  if (!env.TENANT_CONNECTIONS_MAX) settings.TENANT_CONNECTIONS_MAX = '100';
  // Trigger bindings name the queue through this setting (%SYNC_QUEUE_NAME%), so it must be set explicitly.
  if (!env.SYNC_QUEUE_NAME) settings.SYNC_QUEUE_NAME = 'sync-events';
  return settings;
}
