/**
 * Issue 12, items 2 and 7: every Postgres connection has a connect timeout from config, migrations go to the
 * direct (admin) port while the app may go through PgBouncer, the app's SQL uses no session feature that
 * PgBouncer's transaction pooling would break, and a token that cannot be had is a 503, not a 500.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join, relative } from 'node:path';
import { DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { afterEach, describe, expect, it } from 'vitest';
import {
  chooseCredential,
  isCredentialFailure,
  unavailableOnFailure,
} from '../../shared/adapters/azure-credential.js';
import { guardCosmos, isCosmosUnavailable } from '../../shared/adapters/cosmos/client.js';
import { connectionFor, entraToken } from '../../shared/adapters/postgres/connection.js';
import { createApp } from '../../shared/app.js';
import { loadConfig, type PostgresConfig } from '../../shared/config.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import { toProblem } from '../../shared/http/problem.js';
import { projectRoot } from '../../shared/project-root.js';

const local = {
  POSTGRES_URL: 'postgres://postgres:pw@127.0.0.1:5433/fieldsync',
  CosmosConnection: 'AccountEndpoint=https://127.0.0.1:8081/;AccountKey=a2V5;',
  StorageConnection: 'UseDevelopmentStorage=true',
  AUTH_ISSUER: 'fieldsync-local',
  AUTH_AUDIENCE: 'fieldsync-api',
  AUTH_DEV_SECRET: 'x'.repeat(32),
};

const entra: PostgresConfig = {
  kind: 'entra',
  host: 'pg.postgres.database.azure.com',
  port: 6432,
  adminPort: 5432,
  database: 'fieldsync',
  user: 'id-fieldsync',
};

const throwing: TokenCredential = {
  getToken: () =>
    Promise.reject(new Error('ManagedIdentityCredential: the identity endpoint did not answer')),
};

describe('Entra ID token failures are 503, not 500', () => {
  it('a Postgres password callback whose credential throws rejects with DependencyUnavailableError', async () => {
    const settings = connectionFor(entra, 'tenant_a', () => throwing);
    expect(typeof settings.password).toBe('function');
    const password = settings.password as () => Promise<string>;
    const error: unknown = await password().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as DependencyUnavailableError).dependency).toBe('postgres');
    const { problem, headers } = toProblem(error, 'req-1');
    expect(problem.status).toBe(503);
    expect(Number(headers['retry-after'])).toBeGreaterThanOrEqual(1);
    await expect(entraToken(() => ({ getToken: () => Promise.resolve(null) }))).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
  });

  it('the shared credential (Cosmos DB, Blob, Service Bus, telemetry) turns getToken failures into 503s', async () => {
    const error: unknown = await unavailableOnFailure(throwing)
      .getToken('https://cosmos.azure.com/.default')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(toProblem(error, 'req-2').problem.status).toBe(503);
    // A token passes through untouched.
    const token = { token: 't', expiresOnTimestamp: Date.now() + 60_000 };
    await expect(
      unavailableOnFailure({ getToken: () => Promise.resolve(token) }).getToken('s'),
    ).resolves.toBe(token);
  });

  it('an SDK that wraps the token failure in its own error still gives 503 (Cosmos DB)', async () => {
    const authFailure = Object.assign(new Error('ManagedIdentityCredential authentication failed'), {
      name: 'AuthenticationError',
    });
    const wrapped = new Error('request failed', { cause: new DependencyUnavailableError('entra-id') });
    for (const error of [authFailure, wrapped]) {
      expect(isCredentialFailure(error)).toBe(true);
      expect(isCosmosUnavailable(error)).toBe(true);
      const thrown: unknown = await guardCosmos(() => Promise.reject(error)).catch((e: unknown) => e);
      expect(toProblem(thrown, 'req-3').problem.status).toBe(503);
    }
    // A request fault stays what it is.
    expect(isCredentialFailure(new Error('bad request'))).toBe(false);
  });

  it('production (a client id) gets the ManagedIdentityCredential, not the DefaultAzureCredential chain', () => {
    expect(chooseCredential('00000000-0000-0000-0000-000000000001')).toBeInstanceOf(
      ManagedIdentityCredential,
    );
    expect(chooseCredential(undefined)).toBeInstanceOf(DefaultAzureCredential);
  });
});

describe('connection settings', () => {
  it('the app uses POSTGRES_PORT (PgBouncer), migrations and DDL the direct admin port', () => {
    expect(connectionFor(entra, 'tenant_a', () => throwing).port).toBe(6432);
    expect(connectionFor(entra, 'tenant_a', () => throwing, { admin: true }).port).toBe(5432);
    const config = loadConfig({
      ...local,
      POSTGRES_URL: undefined,
      POSTGRES_HOST: entra.host,
      POSTGRES_USER: entra.user,
      POSTGRES_PORT: '6432',
    });
    expect(config.postgres).toMatchObject({ kind: 'entra', port: 6432, adminPort: 5432 });
  });

  it('every connection gets connectionTimeoutMillis from config (default 5000), both forms', () => {
    expect(connectionFor(entra, undefined, () => throwing).connectionTimeoutMillis).toBe(5000);
    const url: PostgresConfig = { kind: 'url', url: local.POSTGRES_URL };
    expect(
      connectionFor(url, 't', () => throwing, { connectTimeoutMillis: 250 }).connectionTimeoutMillis,
    ).toBe(250);
    const config = loadConfig(local);
    expect(config.postgresConnectTimeoutMillis).toBe(5000);
    expect(config.controlPool.max).toBe(2);
    expect(config.tenantPool.max).toBe(4);
  });
});

describe('the control pool times out instead of hanging', () => {
  let server: Server | undefined;
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('a server that accepts but never answers gives DependencyUnavailableError within the timeout', async () => {
    // A black hole: TCP accepts, Postgres never speaks. Without connectionTimeoutMillis the control pool
    // would wait forever (the request hangs until the Functions timeout, then 500).
    const blackHole = createServer((socket) => void sockets.push(socket));
    server = blackHole;
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', () => resolve()));
    const { port } = blackHole.address() as { port: number };
    const app = createApp(
      loadConfig({
        ...local,
        POSTGRES_URL: `postgres://postgres:pw@127.0.0.1:${port}/fieldsync`,
        POSTGRES_CONNECT_TIMEOUT_MS: '300',
      }),
    );
    try {
      const started = Date.now();
      // ensureDatabase runs on the control pool.
      const error: unknown = await app.tenantAdmin
        .ensureDatabase({ server: 'primary', databaseName: 'tenant_x' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DependencyUnavailableError);
      expect(Date.now() - started).toBeLessThan(4000);
      expect(
        app.tenantPool({ server: 'primary', databaseName: 'tenant_x' } as never).options
          .connectionTimeoutMillis,
      ).toBe(300);
    } finally {
      await app.close();
    }
  });
});

/**
 * The SQL the app sends through the pooled connection (shared/, except the migrations, which run on the
 * direct admin connection, and the local queue, which never runs in Azure). PgBouncer in transaction mode
 * gives each transaction (or lone statement) any server connection, so session state must not be relied on.
 * A static check is enough here because every statement is a literal in these files (parameterised SQL).
 */
const SESSION_FEATURES: [string, RegExp][] = [
  [
    'session advisory lock (use pg_advisory_xact_lock in a transaction)',
    /pg_(try_)?advisory_lock(_shared)?\s*\(/i,
  ],
  ['advisory unlock (only session locks need one)', /pg_advisory_unlock/i],
  ['LISTEN/NOTIFY', /[`'"]\s*(listen|notify|unlisten)\s|pg_notify\s*\(/i],
  ['temporary table', /\bcreate\s+(global\s+|local\s+)?(temp|temporary)\s+table/i],
  ['session SET (use SET LOCAL)', /[`'"]\s*set\s+(?!local\b)(session\s+)?[a-z_.]+\s*(=|to\b)/i],
  ['session set_config (third argument must be true)', /set_config\s*\([^)]*,\s*false\s*\)/i],
  ['named prepared statement', /\.query\(\s*\{[^}]*\bname\s*:/s],
  ['PREPARE', /[`'"]\s*prepare\s+\w+/i],
  ['WITH HOLD cursor', /with\s+hold/i],
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      return entry.name === 'migrations' || entry.name === 'local-queue' ? [] : sourceFiles(path);
    }
    return /\.(ts|sql)$/.test(entry.name) ? [path] : [];
  });
}

function sessionFeatures(text: string): string[] {
  return SESSION_FEATURES.filter(([, pattern]) => pattern.test(text)).map(([name]) => name);
}

describe('the app SQL works through PgBouncer transaction pooling', () => {
  it('the check finds each session feature (it can fail)', () => {
    expect(sessionFeatures("await client.query('select pg_advisory_lock($1)', [k])")).toHaveLength(1);
    expect(sessionFeatures('await client.query(`LISTEN sync`)')).toHaveLength(1);
    expect(sessionFeatures("await pool.query('set search_path = tenant')")).toHaveLength(1);
    expect(sessionFeatures("await pool.query({ name: 'q1', text: 'select 1' })")).toHaveLength(1);
    expect(sessionFeatures('create temp table t (id int)')).toHaveLength(1);
    // What the app does use is fine: transaction-scoped locks, SET LOCAL, UPDATE ... SET.
    expect(sessionFeatures("client.query('select pg_advisory_xact_lock($1)')")).toEqual([]);
    expect(sessionFeatures("client.query('set local lock_timeout = 1000')")).toEqual([]);
    expect(sessionFeatures("client.query(`update events set status = 'FAILED'`)")).toEqual([]);
  });

  it('no file under shared/ (outside migrations and the local queue) uses one', () => {
    const root = projectRoot();
    // session-locks.ts runs on direct connections only (the admin port: the chunk engine's session pool).
    const direct = join(root, 'shared', 'adapters', 'postgres', 'session-locks.ts');
    const found = sourceFiles(join(root, 'shared'))
      .filter((file) => file !== direct)
      .flatMap((file) =>
        sessionFeatures(readFileSync(file, 'utf8')).map((f) => `${relative(root, file)}: ${f}`),
      );
    expect(found).toEqual([]);
  });
});

/**
 * The arithmetic of docs/deploy.md "Postgres connection budget", on the defaults the repository deploys:
 * per instance at most CONTROL_POOL_MAX + max(TENANT_CONNECTIONS_MAX, concurrency) connections (busy
 * tenant connections are bounded by the invocations running, idle ones by TENANT_CONNECTIONS_MAX), and
 * maximumInstanceCount instances per function group (the HTTP functions together, each Service Bus trigger,
 * each timer alone). Without PgBouncer the product must fit what the SKU leaves the app.
 */
describe('the default deployment fits its Postgres server', () => {
  const root = projectRoot();
  const read = (path: string) => readFileSync(join(root, path), 'utf8');
  const intParam = (text: string, name: string): number => {
    const match = new RegExp(`param ${name} int = (\\d+)`).exec(text);
    if (!match?.[1]) throw new Error(`param ${name} with an int default not found`);
    return Number(match[1]);
  };

  it('instances x connections per instance <= the SKU max_connections less the 15 Azure keeps', () => {
    const main = read('infra/main.bicep');
    const functionApp = read('infra/modules/functionapp.bicep');
    const host = JSON.parse(read('host.json')) as {
      extensions: { serviceBus: { maxConcurrentCalls: number; maxConcurrentSessions?: number } };
    };
    // azd deploys main.parameters.json's default (an azd variable), else the Bicep default: both must agree.
    const sku = /param postgresSkuName string = '([^']+)'/.exec(main)?.[1] ?? '';
    const azdSku = /\$\{POSTGRES_SKU_NAME=([^}]+)\}/.exec(read('infra/main.parameters.json'))?.[1];
    expect(azdSku).toBe(sku);
    const maxConnections = Number(new RegExp(`${sku}: (\\d+)`).exec(main)?.[1]);
    expect(maxConnections, `max_connections of ${sku} in main.bicep`).toBeGreaterThan(0);
    const appConnections = maxConnections - 15;

    // Schema defaults, which Azure gets (local/settings.ts raises the pool sizes for a developer machine).
    const config = loadConfig(local);
    const control = config.controlPool.max;
    const tenantOpen = config.tenantPool.maxOpen;
    const serviceBus = host.extensions.serviceBus;
    const sbConcurrency = Math.max(serviceBus.maxConcurrentCalls, serviceBus.maxConcurrentSessions ?? 0);
    const httpConcurrency = intParam(functionApp, 'httpPerInstanceConcurrency');
    const maxInstances = intParam(main, 'functionMaximumInstanceCount');

    // Every function file, the compat dialects' folders included (functions/compat/<dialect>/…).
    const functions = sourceFiles(join(root, 'functions')).map((f) => readFileSync(f, 'utf8'));
    const count = (pattern: RegExp) =>
      functions.reduce((n, text) => n + (text.match(pattern)?.length ?? 0), 0);
    const serviceBusTriggers = count(/app\.serviceBusQueue\(/g);
    const timers = count(/app\.timer\(/g);
    expect(serviceBusTriggers).toBeGreaterThan(0);

    const perHttp = control + Math.max(tenantOpen, httpConcurrency);
    const perServiceBus = control + Math.max(tenantOpen, sbConcurrency);
    const perTimer = control + tenantOpen; // a timer runs on one instance at a time
    const worst =
      maxInstances * perHttp + serviceBusTriggers * maxInstances * perServiceBus + timers * perTimer;
    expect(worst, `worst case ${worst} connections vs ${appConnections} on ${sku}`).toBeLessThanOrEqual(
      appConnections,
    );
    // The alert fires before the limit: at 80% of what the SKU leaves the app.
    expect(main).toMatch(/postgresConnectionsThreshold: \(postgresUserConnections \* 80\) \/ 100/);
  });
});
