import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Database } from '@azure/cosmos';
import type { TokenCredential } from '@azure/identity';
import type { BlobServiceClient } from '@azure/storage-blob';
import pg from 'pg';
import { azureCredential } from './adapters/azure-credential.js';
import { createBlobServiceClient } from './adapters/blob/client.js';
import { BlobPhotoStore } from './adapters/blob/photo-store.js';
import { createCosmosDatabase } from './adapters/cosmos/client.js';
import { COSMOS_CONTAINERS } from './adapters/cosmos/containers.js';
import { CosmosRateLimiter } from './adapters/cosmos/rate-limiter.js';
import { CosmosDeviceStatusStore } from './adapters/cosmos/device-status-store.js';
import { CosmosIdempotencyStore } from './adapters/cosmos/idempotency-store.js';
import { LocalQueue } from './adapters/local-queue/pg-boss-queue.js';
import { ServiceBusQueue } from './adapters/servicebus/service-bus-queue.js';
import { PostgresChunkStore } from './adapters/postgres/chunk-store.js';
import { PostgresConflictStore } from './adapters/postgres/conflict-store.js';
import { PostgresPhotoRecords } from './adapters/postgres/photo-records.js';
import { PostgresPullStore } from './adapters/postgres/pull-store.js';
import { PostgresStatsStore } from './adapters/postgres/stats-store.js';
import { PostgresActivityStore } from './adapters/postgres/activity-store.js';
import { PostgresEventLog } from './adapters/postgres/event-log.js';
import { PostgresOutboxStore } from './adapters/postgres/outbox.js';
import { connectionFor } from './adapters/postgres/connection.js';
import { PoolCache } from './adapters/postgres/pools.js';
import { PostgresReferenceDataStore } from './adapters/postgres/reference-data-store.js';
import { PostgresScopeGrantStore } from './adapters/postgres/scope-grant-store.js';
import { PostgresSchemaStore } from './adapters/postgres/schema-store.js';
import { PostgresTenantDatabaseAdmin } from './adapters/postgres/tenant-database-admin.js';
import { PostgresTenantRegistry } from './adapters/postgres/tenant-registry.js';
import './adapters/postgres/types.js';
import { createTokenVerifier, type TokenVerifier } from './auth/verifier.js';
import { type Config, loadConfig } from './config.js';
import { DependencyUnavailableError } from './errors.js';
import { createLogger, type Logger } from './logger.js';
import type { ChunkProcessor } from './usecases/ports/chunks.js';
import type { ConflictStore } from './usecases/ports/conflicts.js';
import type { DeadLetterQueue, EventQueue } from './usecases/ports/queue.js';
import type {
  DependencyCheck,
  Tenant,
  TenantDatabaseAdmin,
  TenantRegistry,
} from './usecases/ports/tenancy.js';
import type { DeviceStatusStore } from './usecases/ports/devices.js';
import type { OutboxStore, EventLog } from './usecases/ports/event-log.js';
import type { IdempotencyStore } from './usecases/ports/idempotency.js';
import type { PhotoRecords, PhotoStore } from './usecases/ports/photos.js';
import type { PullStore } from './usecases/ports/pull.js';
import type { RateLimitCounters } from './usecases/ports/rate-limits.js';
import type { ReferenceDataStore } from './usecases/ports/reference-data.js';
import type { ScopeGrantStore } from './usecases/ports/scopes.js';
import type { SchemaStore } from './usecases/ports/schema.js';
import type { SyncStatsStore } from './usecases/ports/stats.js';
import type { ActivityStore } from './usecases/ports/activity.js';
import { projectRoot } from './project-root.js';
import { withTimeout } from './timeout.js';
import { createPhotoPrecheck } from './usecases/photos.js';
import { createRecordSchemas } from './usecases/schema.js';
import type { RecordSchemas } from './schema/validator.js';
import { ChunkEngine } from './usecases/apply-chunk.js';

/** Everything a function needs, built once per process. */
export interface App {
  config: Config;
  version: string;
  log: Logger;
  verifier: TokenVerifier;
  tenants: TenantRegistry;
  tenantAdmin: TenantDatabaseAdmin;
  referenceData: ReferenceDataStore;
  /** Each tenant's sync schema (collections, SPEC v1.1). */
  schemas: SchemaStore;
  /** A tenant's collections compiled for push-time validation, cached per schema version. */
  recordSchemas: (tenant: Tenant) => Promise<RecordSchemas>;
  eventLog: EventLog;
  /** The transactional outbox's table (rows written by eventLog, delivered by usecases/outbox.ts). */
  outbox: OutboxStore;
  processor: ChunkProcessor;
  conflicts: ConflictStore;
  stats: SyncStatsStore;
  /** The managers' console's reads (a device's activity, a conflict's events). */
  activity: ActivityStore;
  pull: PullStore;
  /** Scope grants: which scopes an OPERATOR reads and writes (SPEC v1.1 "Scopes"). */
  scopes: ScopeGrantStore;
  photoStore: PhotoStore;
  photoRecords: PhotoRecords;
  rateLimits: RateLimitCounters;
  idempotency: IdempotencyStore;
  devices: DeviceStatusStore;
  queue: EventQueue & DeadLetterQueue;
  /** The local queue (QUEUE_DRIVER=local), which the local Functions host subscribes its triggers to. */
  localQueue: LocalQueue | undefined;
  checks: DependencyCheck[];
  /** The tenant's pool; exposed for adapters built later and for tests' assertions. */
  tenantPool(tenant: Tenant): pg.Pool;
  close(): Promise<void>;
}

/** The composition root: the only place that chooses adapters. Clients are created lazily, once. */
export function createApp(config: Config): App {
  const log = createLogger(config.logLevel);
  const credential = (): TokenCredential => azureCredential(config.managedIdentityClientId);
  const connectTimeoutMillis = config.postgresConnectTimeoutMillis;
  const configFor = (database: string | undefined) =>
    connectionFor(config.postgres, database, credential, { connectTimeoutMillis });
  /** A server of the list by name; a name the registry holds but this config lacks is a 503 (ops must add it). */
  const serverConfig = (name: string) => {
    const server = config.postgresServers.find((s) => s.name === name);
    if (!server) {
      log.error({ server: name }, 'a tenant lives on a server missing from POSTGRES_SERVERS');
      throw new DependencyUnavailableError(`postgres server ${name}`, 30);
    }
    return server.postgres;
  };
  /** Connection settings of `database` on server `name`; `admin`: direct, never through PgBouncer. */
  const connectionOn = (name: string, database: string | undefined, admin = false) =>
    connectionFor(serverConfig(name), database, credential, { connectTimeoutMillis, admin });

  const controlPool = new pg.Pool({
    ...configFor(undefined),
    max: config.controlPool.max,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
  });
  controlPool.on('error', () => {});
  const tenantPools = new PoolCache((location) => connectionOn(location.server, location.databaseName), {
    max: config.tenantPool.max,
    idleMillis: config.tenantPool.idleMillis,
    maxOpen: config.tenantPool.maxOpen,
    connectionTimeoutMillis: connectTimeoutMillis,
  });
  const tenantPool = (tenant: Tenant) => tenantPools.get(tenant);
  // Each other server's admin database (`postgres`), for CREATE DATABASE there: made on first use, one
  // connection, since provisioning is rare.
  const otherAdminPools = new Map<string, pg.Pool>();
  const adminPool = (name: string): pg.Pool => {
    if (name === config.postgresServers[0]?.name) return controlPool;
    let pool = otherAdminPools.get(name);
    if (!pool) {
      pool = new pg.Pool({
        ...connectionOn(name, undefined, true),
        max: 1,
        idleTimeoutMillis: 10_000,
        allowExitOnIdle: true,
      });
      pool.on('error', () => {});
      otherAdminPools.set(name, pool);
    }
    return pool;
  };
  const tenantAdmin = new PostgresTenantDatabaseAdmin(
    config.postgresServers.map(({ name }) => ({
      name,
      pool: () => adminPool(name),
      // Migrations and DDL: direct to the server, never through PgBouncer (session advisory lock).
      connectionFor: (database: string) => connectionOn(name, database, true),
    })),
  );
  // The chunk engine's session-level photo locks need direct connections: through PgBouncer (transaction
  // mode) a session lock would stay on whichever server connection took it. Same pool when there is none.
  const sessionPools =
    config.postgres.kind === 'url' || config.postgres.adminPort === config.postgres.port
      ? undefined
      : new PoolCache((location) => connectionOn(location.server, location.databaseName, true), {
          max: 2,
          idleMillis: config.tenantPool.idleMillis,
          maxOpen: config.tenantPool.maxOpen,
          connectionTimeoutMillis: connectTimeoutMillis,
        });
  const sessionPool = (tenant: Tenant) => (sessionPools ?? tenantPools).get(tenant);

  let cosmos: Database | undefined;
  const cosmosDatabase = () => {
    cosmos ??= createCosmosDatabase(config.cosmos, credential);
    return cosmos;
  };
  let blob: BlobServiceClient | undefined;
  const blobService = () => {
    blob ??= createBlobServiceClient(config.blob, credential);
    return blob;
  };

  const container = (key: keyof typeof COSMOS_CONTAINERS) => () =>
    cosmosDatabase().container(COSMOS_CONTAINERS[key].name);
  const localQueue =
    config.queue.driver === 'local'
      ? new LocalQueue({
          connection: config.queue.url
            ? { connectionString: config.queue.url, connectionTimeoutMillis: connectTimeoutMillis }
            : configFor(undefined),
          queue: config.queue,
          log,
        })
      : undefined;
  const queue: EventQueue & DeadLetterQueue = localQueue ?? createServiceBusQueue(config, credential);

  const schemas = new PostgresSchemaStore(tenantPool);

  const photoStore = new BlobPhotoStore({ service: blobService, container: config.blob.photosContainer });

  const checks: DependencyCheck[] = [
    { name: 'postgres', check: async () => void (await controlPool.query('select 1')) },
    // Every other tenant server, by name: a down one means its tenants get 503 (docs/deploy.md).
    ...config.postgresServers.slice(1).map(({ name }) => ({
      name: `postgres:${name}`,
      check: async () => void (await adminPool(name).query('select 1')),
    })),
    { name: 'cosmos', check: async () => void (await cosmosDatabase().read()) },
    {
      name: 'blob',
      check: async () =>
        void (await blobService().getContainerClient(config.blob.photosContainer).getProperties()),
    },
  ].map((c) => ({
    name: c.name,
    check: () => withTimeout(c.check(), 3000, `${c.name} did not answer within 3000 ms`),
  }));

  return {
    config,
    version: packageVersion(),
    log,
    verifier: createTokenVerifier(config.auth),
    tenants: new PostgresTenantRegistry(controlPool),
    tenantAdmin,
    referenceData: new PostgresReferenceDataStore(tenantPool),
    schemas,
    recordSchemas: createRecordSchemas(schemas),
    eventLog: new PostgresEventLog(tenantPool),
    outbox: new PostgresOutboxStore(tenantPool),
    // The photo check is part of the processor: no processing path (a retry, a halved chunk) can skip it.
    processor: new ChunkEngine(
      new PostgresChunkStore(tenantPool, sessionPool),
      createPhotoPrecheck(photoStore),
    ),
    conflicts: new PostgresConflictStore(tenantPool),
    stats: new PostgresStatsStore(tenantPool),
    activity: new PostgresActivityStore(tenantPool),
    pull: new PostgresPullStore(tenantPool),
    scopes: new PostgresScopeGrantStore(tenantPool),
    photoStore,
    photoRecords: new PostgresPhotoRecords(tenantPool),
    rateLimits: new CosmosRateLimiter(container('rateLimits')),
    idempotency: new CosmosIdempotencyStore(container('idempotency')),
    devices: new CosmosDeviceStatusStore(container('devices')),
    queue,
    localQueue,
    checks,
    tenantPool,
    async close() {
      await Promise.allSettled([localQueue?.stop(), closeQueue(queue)]);
      await Promise.allSettled([
        controlPool.end(),
        tenantPools.closeAll(),
        sessionPools?.closeAll(),
        ...[...otherAdminPools.values()].map((pool) => pool.end()),
      ]);
    },
  };
}

function createServiceBusQueue(
  config: Config,
  credential: () => TokenCredential,
): EventQueue & DeadLetterQueue {
  if (config.queue.driver !== 'servicebus') throw new Error('not the Service Bus driver');
  return new ServiceBusQueue({
    connection: config.queue.connection,
    ...(config.queue.connection.kind === 'identity' ? { credential: credential() } : {}),
    queue: config.queue,
  });
}

const closeQueue = async (queue: EventQueue & DeadLetterQueue) =>
  (queue as { close?: () => Promise<void> }).close?.();

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '0.0.0';
  }
}

let current: App | undefined;

/** The process's App, built from the environment on first use (config errors surface here). */
export function getApp(): App {
  current ??= createApp(loadConfig(process.env));
  return current;
}

/** Closes the process's App (local host shutdown, tests). */
export async function closeApp(): Promise<void> {
  const app = current;
  current = undefined;
  await app?.close();
}
