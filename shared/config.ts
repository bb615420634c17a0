import { z } from 'zod';
import { CORS_ORIGIN_PATTERN, LOCAL_CORS_ORIGINS } from './http/cors.js';
import type { RetryPolicy } from './sync/backoff.js';

/**
 * Every setting the app reads, in one zod schema, parsed once at start-up. Names follow Azure Functions
 * conventions: identity-based connections use the `<Connection>__<property>` form (what the Functions host
 * and Bicep set in Azure), connection strings are the local form.
 */

const nonEmpty = z.string().trim().min(1, 'must not be empty');
const optionalNonEmpty = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));
const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const positiveNumber = (fallback: number) => z.coerce.number().positive().finite().default(fallback);
const url = (protocols: string[]) =>
  nonEmpty.refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL (${protocols.join(' or ')})`,
  );

/** A server's name: how tenants.server names it (lower-case letters, digits, hyphens; 1–40). */
const serverName = z
  .string()
  .trim()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/, 'must be 1–40 lower-case letters, digits or hyphens');

/** POSTGRES_SERVERS: a JSON array of {name, url} (connection strings) or {name, host} (Entra ID login). */
const serverList = z
  .string()
  .transform((raw, ctx) => {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be JSON: [{"name":"…","url":"postgres://…"}]' });
      return z.NEVER;
    }
  })
  .pipe(
    z
      .array(
        z.union([
          z.strictObject({ name: serverName, url: url(['postgres:', 'postgresql:']) }),
          z.strictObject({ name: serverName, host: nonEmpty }),
        ]),
      )
      .refine(
        (servers) => new Set(servers.map((s) => s.name)).size === servers.length,
        'server names must be unique',
      ),
  );

/** The raw environment, with the names exactly as they are set. Unknown variables are ignored. */
export const settingsSchema = z.object({
  // Set by the Functions platform in Azure; their presence is how we know we run there.
  WEBSITE_SITE_NAME: optionalNonEmpty,
  WEBSITE_INSTANCE_ID: optionalNonEmpty,
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),

  // PostgreSQL: the control database (tenant registry); tenant databases live on the same server.
  POSTGRES_URL: optionalNonEmpty.pipe(url(['postgres:', 'postgresql:']).optional()),
  POSTGRES_HOST: optionalNonEmpty,
  POSTGRES_PORT: positiveInt(5432),
  POSTGRES_DATABASE: nonEmpty.default('fieldsync'),
  POSTGRES_USER: optionalNonEmpty,
  // The port of direct (session) connections: migrations and CREATE DATABASE. POSTGRES_PORT may point at the
  // server's PgBouncer (6432, transaction pooling), which cannot hold node-pg-migrate's session advisory lock.
  POSTGRES_ADMIN_PORT: positiveInt(5432),
  // Connection budget per instance (docs/deploy.md "Postgres connection budget").
  CONTROL_POOL_MAX: positiveInt(2),
  TENANT_POOL_MAX: positiveInt(4),
  TENANT_POOL_IDLE_MS: positiveInt(30_000),
  TENANT_CONNECTIONS_MAX: positiveInt(8),
  // How long opening a connection may take (every pool, the migrator and the local queue) before 503.
  POSTGRES_CONNECT_TIMEOUT_MS: positiveInt(5000),
  /** The control server's name in the server list (tenants.server); docs/deploy.md "Tenant servers". */
  POSTGRES_SERVER_NAME: serverName.default('primary'),
  /**
   * More servers for tenant databases, as JSON: `[{"name":"second","url":"postgres://…/postgres"}]` with
   * POSTGRES_URL, or `[{"name":"second","host":"…postgres.database.azure.com"}]` with POSTGRES_HOST (Entra
   * login: the control server's user and ports). Absent: every tenant lives on the control server.
   */
  POSTGRES_SERVERS: optionalNonEmpty.pipe(serverList.optional()),

  // Cosmos DB: idempotency keys and device status.
  CosmosConnection: optionalNonEmpty,
  CosmosConnection__accountEndpoint: optionalNonEmpty.pipe(url(['https:']).optional()),
  COSMOS_DATABASE: nonEmpty.default('fieldsync'),
  /** PEM file of a local emulator's self-signed certificate, trusted for the Cosmos endpoint only. */
  COSMOS_CA_CERT_FILE: optionalNonEmpty,

  // Blob Storage: photos.
  StorageConnection: optionalNonEmpty,
  StorageConnection__blobServiceUri: optionalNonEmpty.pipe(url(['https:']).optional()),
  PHOTOS_CONTAINER: nonEmpty.default('photos'),

  // Queue between the push route and the processor.
  QUEUE_DRIVER: z.enum(['servicebus', 'local']).optional(),
  ServiceBusConnection: optionalNonEmpty,
  ServiceBusConnection__fullyQualifiedNamespace: optionalNonEmpty,
  SYNC_QUEUE_NAME: nonEmpty.default('sync-events'),
  /** How many days of production records a first pull (snapshot) sends. */
  PULL_PRODUCTION_DAYS: positiveInt(90),
  /** How long the change log keeps changes (and deletions); an older pull cursor gets 410 RESYNC_REQUIRED. */
  TOMBSTONE_RETENTION_DAYS: positiveInt(30),
  /** Database of the local queue (pg-boss) when not the control database. */
  LOCAL_QUEUE_URL: optionalNonEmpty.pipe(url(['postgres:', 'postgresql:']).optional()),
  /** Deliveries before a message is dead-lettered (Service Bus MaxDeliveryCount; Bicep sets the same). */
  QUEUE_MAX_DELIVERY_COUNT: positiveInt(10),
  /** Peek-lock duration of a delivery (Service Bus LockDuration). */
  QUEUE_LOCK_SECONDS: positiveInt(60),
  /** Window in which a re-sent MessageId is dropped (Service Bus duplicate detection). */
  QUEUE_DEDUPE_WINDOW_SECONDS: positiveInt(3600),
  /**
   * Back-off of a chunk that failed for an infrastructure reason (shared/sync/backoff.ts): the first retry
   * waits this long (fractions allowed), each next one twice as long, up to QUEUE_RETRY_MAX_DELAY_SECONDS,
   * until the delays add up to QUEUE_RETRY_SPAN_SECONDS; then the chunk's events become FAILED.
   */
  QUEUE_RETRY_BASE_SECONDS: positiveNumber(10),
  QUEUE_RETRY_MAX_DELAY_SECONDS: positiveNumber(120),
  QUEUE_RETRY_SPAN_SECONDS: positiveNumber(900),

  // Auth: an OIDC issuer with JWKS in Azure; an HS256 development secret locally.
  AUTH_ISSUER: nonEmpty,
  AUTH_AUDIENCE: nonEmpty,
  AUTH_JWKS_URL: optionalNonEmpty.pipe(url(['https:', 'http:']).optional()),
  AUTH_DEV_SECRET: optionalNonEmpty.pipe(
    z.string().min(32, 'must be at least 32 characters (HS256 needs a 256-bit key)').optional(),
  ),

  // User-assigned managed identity, when the app uses one.
  AZURE_CLIENT_ID: optionalNonEmpty,

  // Rate limits per user, counted in Cosmos DB (shared by every instance); docs/operations.md.
  RATE_LIMIT_PUSH_PER_MINUTE: positiveInt(30),
  RATE_LIMIT_PULL_PER_MINUTE: positiveInt(300),
  RATE_LIMIT_OTHER_PER_SECOND: positiveInt(10),
  /**
   * Requests a minute of a self-paced client that sends one request per operation after the other (the clinic
   * dialect: queue then process, each awaiting the answer; docs/compat/clinic.md "Rate limits").
   */
  RATE_LIMIT_SEQUENTIAL_PER_MINUTE: positiveInt(1200),

  /**
   * Browser origins the local host lets call the API (CORS), comma-separated: `*`, an origin
   * (`https://app.example.com`) or an origin with any port (`http://localhost:*`); `none` for none. Default
   * locally: every port of localhost and 127.0.0.1. In Azure the Function App's platform CORS
   * (Bicep `corsAllowedOrigins`) decides, so this setting is refused there.
   */
  CORS_ALLOWED_ORIGINS: optionalNonEmpty.pipe(
    z
      .string()
      .transform((v) =>
        v.toLowerCase() === 'none'
          ? []
          : v
              .split(',')
              .map((o) => o.trim())
              .filter((o) => o !== ''),
      )
      .refine(
        (origins) => origins.every((o) => CORS_ORIGIN_PATTERN.test(o)),
        'must be `none` or a comma-separated list of `*`, origins (https://app.example.com) or origins with any port (http://localhost:*), without paths',
      )
      .optional(),
  ),

  // OpenTelemetry to Application Insights (@azure/monitor-opentelemetry) when set; nothing when absent.
  APPLICATIONINSIGHTS_CONNECTION_STRING: optionalNonEmpty,

  /**
   * The managers' console's Microsoft Entra ID sign-in (docs/console.md), all three or none: the client id of
   * its single-page-application registration, the authority (https://login.microsoftonline.com/<tenant>) and
   * the API scope it asks a token for (e.g. api://fieldsync-api/.default). Bicep sets them in Azure.
   */
  CONSOLE_CLIENT_ID: optionalNonEmpty,
  CONSOLE_AUTHORITY: optionalNonEmpty.pipe(url(['https:']).optional()),
  CONSOLE_API_SCOPE: optionalNonEmpty,
});

/**
 * Rules across settings, checked on the raw environment so they are reported together with the per-setting
 * problems (a schema refinement would only run once every single setting is valid).
 */
function crossSettingProblems(
  env: Record<string, string | undefined>,
): { setting: string; message: string }[] {
  const has = (name: string) => Boolean(env[name]?.trim());
  const problems: { setting: string; message: string }[] = [];
  const need = (ok: boolean, setting: string, message: string) => {
    if (!ok) problems.push({ setting, message });
  };
  const inAzure = has('WEBSITE_SITE_NAME') || has('WEBSITE_INSTANCE_ID');
  need(
    has('POSTGRES_URL') || (has('POSTGRES_HOST') && has('POSTGRES_USER')),
    'POSTGRES_URL',
    'required: set POSTGRES_URL (connection string), or POSTGRES_HOST and POSTGRES_USER (Entra ID login)',
  );
  need(
    has('CosmosConnection') || has('CosmosConnection__accountEndpoint'),
    'CosmosConnection',
    'required: set CosmosConnection (connection string) or CosmosConnection__accountEndpoint',
  );
  need(
    has('StorageConnection') || has('StorageConnection__blobServiceUri'),
    'StorageConnection',
    'required: set StorageConnection (connection string) or StorageConnection__blobServiceUri',
  );
  const driver = env.QUEUE_DRIVER?.trim() || (inAzure ? 'servicebus' : 'local');
  if (driver === 'servicebus') {
    need(
      has('ServiceBusConnection') || has('ServiceBusConnection__fullyQualifiedNamespace'),
      'ServiceBusConnection',
      'required with QUEUE_DRIVER=servicebus: set ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace',
    );
  }
  need(!(inAzure && driver === 'local'), 'QUEUE_DRIVER', 'the local queue cannot run in Azure');
  need(
    has('AUTH_JWKS_URL') !== has('AUTH_DEV_SECRET'),
    'AUTH_JWKS_URL',
    'set exactly one of AUTH_JWKS_URL (OIDC issuer keys) and AUTH_DEV_SECRET (local HS256)',
  );
  need(
    !(inAzure && has('AUTH_DEV_SECRET')),
    'AUTH_DEV_SECRET',
    'a development secret is refused in Azure: set AUTH_JWKS_URL to the OIDC issuer keys',
  );
  need(
    !(inAzure && has('CORS_ALLOWED_ORIGINS')),
    'CORS_ALLOWED_ORIGINS',
    "not used in Azure: the Function App's CORS (infra corsAllowedOrigins) answers browsers there; remove it",
  );
  need(
    !(inAzure && env.AUTH_JWKS_URL?.trim().startsWith('http:')),
    'AUTH_JWKS_URL',
    'must use https in Azure',
  );
  need(...serverListProblem(env));
  // The back-off schedule (shared/sync/backoff.ts) must be one: delays that grow, and not thousands of them.
  const consoleSettings = ['CONSOLE_CLIENT_ID', 'CONSOLE_AUTHORITY', 'CONSOLE_API_SCOPE'];
  const consoleSet = consoleSettings.filter(has);
  need(
    consoleSet.length === 0 || consoleSet.length === consoleSettings.length,
    consoleSettings.find((name) => !has(name)) ?? 'CONSOLE_CLIENT_ID',
    `the console's Entra sign-in needs all of ${consoleSettings.join(', ')} (or none)`,
  );
  const seconds = (name: string, fallback: number) => Number(env[name]?.trim() || fallback);
  const base = seconds('QUEUE_RETRY_BASE_SECONDS', 10);
  need(
    !(base > seconds('QUEUE_RETRY_MAX_DELAY_SECONDS', 120)),
    'QUEUE_RETRY_MAX_DELAY_SECONDS',
    'must be at least QUEUE_RETRY_BASE_SECONDS',
  );
  need(
    !(seconds('QUEUE_RETRY_SPAN_SECONDS', 900) / base > 1000),
    'QUEUE_RETRY_SPAN_SECONDS',
    'must be at most 1000 × QUEUE_RETRY_BASE_SECONDS (the number of attempts is bounded)',
  );
  return problems;
}

/**
 * POSTGRES_SERVERS against the control server's settings: entries of the same kind (url with POSTGRES_URL,
 * host with POSTGRES_HOST) and no name twice (the control server's included). Malformed JSON is the schema's.
 */
function serverListProblem(env: Record<string, string | undefined>): [boolean, string, string] {
  const parsed = serverList.safeParse(env.POSTGRES_SERVERS?.trim() || '[]');
  if (!parsed.success) return [true, 'POSTGRES_SERVERS', ''];
  const control = env.POSTGRES_SERVER_NAME?.trim() || 'primary';
  const byUrl = Boolean(env.POSTGRES_URL?.trim());
  const wrongKind = parsed.data.find((s) => 'url' in s !== byUrl);
  if (wrongKind) {
    return [
      false,
      'POSTGRES_SERVERS',
      `server "${wrongKind.name}": give ${byUrl ? 'url (POSTGRES_URL is set)' : 'host (POSTGRES_HOST is set, Entra ID login)'}`,
    ];
  }
  return [
    !parsed.data.some((s) => s.name === control),
    'POSTGRES_SERVERS',
    `"${control}" is the control server's name (POSTGRES_SERVER_NAME); give the other servers other names`,
  ];
}

export type Settings = z.infer<typeof settingsSchema>;

export type PostgresConfig =
  | { kind: 'url'; url: string }
  | {
      kind: 'entra';
      host: string;
      /** The app's port: 5432, or 6432 for the server's PgBouncer. */
      port: number;
      /** Direct port for migrations and DDL (session features). */
      adminPort: number;
      database: string;
      user: string;
    };

/** One Postgres server tenant databases may live on; the first of Config.postgresServers is the control's. */
export interface PostgresServer {
  name: string;
  /** How to reach it; the database in it is where the admin connects to create tenant databases. */
  postgres: PostgresConfig;
}

export type Connection =
  { kind: 'connectionString'; connectionString: string } | { kind: 'identity'; endpoint: string };

export interface QueueConfig {
  queueName: string;
  maxDeliveryCount: number;
  lockSeconds: number;
  dedupeWindowSeconds: number;
  /** Back-off of failed chunks (re-sent with a scheduled enqueue time). */
  retry: RetryPolicy;
}

export interface Config {
  inAzure: boolean;
  logLevel: Settings['LOG_LEVEL'];
  postgres: PostgresConfig;
  /** Every server tenant databases may live on: the control server first (the default), then POSTGRES_SERVERS. */
  postgresServers: PostgresServer[];
  /** maxOpen: open connections over all tenant pools of one instance before idle pools are closed. */
  tenantPool: { max: number; idleMillis: number; maxOpen: number };
  controlPool: { max: number };
  /** connectionTimeoutMillis of every Postgres connection the app opens. */
  postgresConnectTimeoutMillis: number;
  cosmos: { connection: Connection; database: string; caCertFile: string | undefined };
  blob: { connection: Connection; photosContainer: string };
  queue: QueueConfig &
    ({ driver: 'local'; url: string | undefined } | { driver: 'servicebus'; connection: Connection });
  auth:
    | { mode: 'dev'; issuer: string; audience: string; secret: string }
    | { mode: 'oidc'; issuer: string; audience: string; jwksUrl: string };
  managedIdentityClientId: string | undefined;
  rateLimits: {
    pushPerMinute: number;
    pullPerMinute: number;
    otherPerSecond: number;
    sequentialPerMinute: number;
  };
  telemetry: { connectionString: string | undefined };
  /** Origins the local host answers CORS requests for (empty in Azure, where the platform does it). */
  cors: { allowedOrigins: string[] };
  pull: { productionDays: number; retentionDays: number };
  /** The managers' console's Entra ID sign-in (MSAL in the browser); undefined: not configured. */
  console: { entra: { clientId: string; authority: string; apiScope: string } | undefined };
}

export class ConfigError extends Error {
  constructor(readonly problems: { setting: string; message: string }[]) {
    super(
      `Invalid configuration — fix these settings and start again:\n${problems
        .map((p) => `  - ${p.setting}: ${p.message}`)
        .join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** Parses the environment into the app's configuration, or throws a ConfigError naming every bad setting. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = settingsSchema.safeParse(env);
  const problems = [
    ...(parsed.success
      ? []
      : parsed.error.issues.map((issue) => ({
          setting: issue.path.map(String).join('.') || '(environment)',
          message: issue.code === 'invalid_type' && issue.input === undefined ? 'required' : issue.message,
        }))),
    ...crossSettingProblems(env),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const s = parsed.data;
  const inAzure = Boolean(s.WEBSITE_SITE_NAME || s.WEBSITE_INSTANCE_ID);
  const connection = (connectionString: string | undefined, endpoint: string | undefined): Connection =>
    connectionString
      ? { kind: 'connectionString', connectionString }
      : { kind: 'identity', endpoint: endpoint ?? '' };
  const driver = s.QUEUE_DRIVER ?? (inAzure ? 'servicebus' : 'local');
  const entra = (host: string, database: string): PostgresConfig => ({
    kind: 'entra',
    host,
    port: s.POSTGRES_PORT,
    adminPort: s.POSTGRES_ADMIN_PORT,
    database,
    user: s.POSTGRES_USER ?? '',
  });
  const postgres: PostgresConfig = s.POSTGRES_URL
    ? { kind: 'url', url: s.POSTGRES_URL }
    : entra(s.POSTGRES_HOST ?? '', s.POSTGRES_DATABASE);
  return {
    inAzure,
    logLevel: s.LOG_LEVEL,
    postgres,
    postgresServers: [
      { name: s.POSTGRES_SERVER_NAME, postgres },
      // Another server has no control database: its admin connects to `postgres`, there from the start.
      ...(s.POSTGRES_SERVERS ?? []).map((server) => ({
        name: server.name,
        postgres:
          'url' in server ? { kind: 'url' as const, url: server.url } : entra(server.host, 'postgres'),
      })),
    ],
    tenantPool: {
      max: s.TENANT_POOL_MAX,
      idleMillis: s.TENANT_POOL_IDLE_MS,
      maxOpen: s.TENANT_CONNECTIONS_MAX,
    },
    controlPool: { max: s.CONTROL_POOL_MAX },
    postgresConnectTimeoutMillis: s.POSTGRES_CONNECT_TIMEOUT_MS,
    cosmos: {
      connection: connection(s.CosmosConnection, s.CosmosConnection__accountEndpoint),
      database: s.COSMOS_DATABASE,
      caCertFile: s.COSMOS_CA_CERT_FILE,
    },
    blob: {
      connection: connection(s.StorageConnection, s.StorageConnection__blobServiceUri),
      photosContainer: s.PHOTOS_CONTAINER,
    },
    queue: {
      queueName: s.SYNC_QUEUE_NAME,
      maxDeliveryCount: s.QUEUE_MAX_DELIVERY_COUNT,
      lockSeconds: s.QUEUE_LOCK_SECONDS,
      dedupeWindowSeconds: s.QUEUE_DEDUPE_WINDOW_SECONDS,
      retry: {
        baseSeconds: s.QUEUE_RETRY_BASE_SECONDS,
        maxDelaySeconds: s.QUEUE_RETRY_MAX_DELAY_SECONDS,
        spanSeconds: s.QUEUE_RETRY_SPAN_SECONDS,
      },
      ...(driver === 'local'
        ? { driver, url: s.LOCAL_QUEUE_URL }
        : {
            driver,
            connection: connection(s.ServiceBusConnection, s.ServiceBusConnection__fullyQualifiedNamespace),
          }),
    },
    auth: s.AUTH_DEV_SECRET
      ? { mode: 'dev', issuer: s.AUTH_ISSUER, audience: s.AUTH_AUDIENCE, secret: s.AUTH_DEV_SECRET }
      : { mode: 'oidc', issuer: s.AUTH_ISSUER, audience: s.AUTH_AUDIENCE, jwksUrl: s.AUTH_JWKS_URL ?? '' },
    managedIdentityClientId: s.AZURE_CLIENT_ID,
    pull: { productionDays: s.PULL_PRODUCTION_DAYS, retentionDays: s.TOMBSTONE_RETENTION_DAYS },
    rateLimits: {
      pushPerMinute: s.RATE_LIMIT_PUSH_PER_MINUTE,
      pullPerMinute: s.RATE_LIMIT_PULL_PER_MINUTE,
      otherPerSecond: s.RATE_LIMIT_OTHER_PER_SECOND,
      sequentialPerMinute: s.RATE_LIMIT_SEQUENTIAL_PER_MINUTE,
    },
    telemetry: { connectionString: s.APPLICATIONINSIGHTS_CONNECTION_STRING },
    cors: { allowedOrigins: s.CORS_ALLOWED_ORIGINS ?? (inAzure ? [] : [...LOCAL_CORS_ORIGINS]) },
    console: {
      entra:
        s.CONSOLE_CLIENT_ID && s.CONSOLE_AUTHORITY && s.CONSOLE_API_SCOPE
          ? { clientId: s.CONSOLE_CLIENT_ID, authority: s.CONSOLE_AUTHORITY, apiScope: s.CONSOLE_API_SCOPE }
          : undefined,
    },
  };
}
