// `npm run dlq -- list [--tenant T] [--max N]` · `npm run dlq -- replay [--tenant T] [--max N]`
import { parseArgs } from 'node:util';
import { azureCredential } from '../shared/adapters/azure-credential.js';
import { LocalQueue } from '../shared/adapters/local-queue/pg-boss-queue.js';
import { connectionFor } from '../shared/adapters/postgres/connection.js';
import { ServiceBusQueue } from '../shared/adapters/servicebus/service-bus-queue.js';
import { type Config, loadConfig } from '../shared/config.js';
import { DependencyUnavailableError } from '../shared/errors.js';
import type { DeadLetteredMessage, DeadLetterQueue } from '../shared/usecases/ports/queue.js';
import { loadLocalSettings } from './settings.js';
import { isListening, runningLocalPostgresUrl } from './stack.js';

const usage = `usage:
  npm run dlq -- list   [--tenant T] [--max N]   print the dead letters of the sync queue, one per line
  npm run dlq -- replay [--tenant T] [--max N]   send them back to the queue (new MessageId) and print how many
Uses the app's queue settings: QUEUE_DRIVER=servicebus → Service Bus (ServiceBusConnection...);
local → the pg-boss queue in the control database: POSTGRES_URL, or the running local stack (\`npm start\`).`;

/** Placeholders for the settings loadConfig requires but this command does not use. */
const UNUSED_SETTINGS: Record<string, string> = {
  CosmosConnection: 'AccountEndpoint=https://unused.invalid/;AccountKey=unused;',
  StorageConnection: 'UseDevelopmentStorage=true',
  AUTH_ISSUER: 'unused',
  AUTH_AUDIENCE: 'unused',
};
const UNUSED_POSTGRES_URL = 'postgres://unused.invalid/fieldsync';

function positiveInt(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer\n${usage}`);
  return n;
}

/** The app's configuration, with placeholders for the settings this command does not need. */
function queueConfig(env: Record<string, string | undefined>): { config: Config; postgresGiven: boolean } {
  const postgresGiven = Boolean(env.POSTGRES_URL?.trim() || env.POSTGRES_HOST?.trim());
  const filled: Record<string, string | undefined> = { ...env };
  for (const [name, value] of Object.entries(UNUSED_SETTINGS))
    if (!filled[name]?.trim()) filled[name] = value;
  if (!filled.AUTH_JWKS_URL?.trim() && !filled.AUTH_DEV_SECRET?.trim()) {
    filled.AUTH_DEV_SECRET = 'unused-placeholder-secret-of-32-characters';
  }
  if (!postgresGiven) filled.POSTGRES_URL = UNUSED_POSTGRES_URL;
  return { config: loadConfig(filled), postgresGiven };
}

/** The control database of the running local stack, as local/tenant-cli.ts finds it; never starts one. */
async function runningStackPostgresUrl(): Promise<string | undefined> {
  const local = loadLocalSettings();
  if (!(await isListening(local.ports.postgres))) return undefined;
  return runningLocalPostgresUrl(local.dataDir, local.ports.postgres);
}

async function openQueue(): Promise<{ dlq: DeadLetterQueue; close(): Promise<void> }> {
  const { config, postgresGiven } = queueConfig(process.env);
  const credential = () => azureCredential(config.managedIdentityClientId);
  if (config.queue.driver === 'servicebus') {
    const { connection } = config.queue;
    const queue = new ServiceBusQueue({
      connection,
      ...(connection.kind === 'identity' ? { credential: credential() } : {}),
      queue: config.queue,
    });
    return { dlq: queue, close: () => queue.close() };
  }
  // The app's local queue lives in the control database, or in LOCAL_QUEUE_URL's when that is set.
  const settings: object = config.queue;
  const dedicatedUrl =
    'url' in settings && typeof settings.url === 'string' && settings.url ? settings.url : undefined;
  let postgres = config.postgres;
  if (!dedicatedUrl && !postgresGiven) {
    const url = await runningStackPostgresUrl();
    if (!url) {
      throw new Error(
        'The local stack is not running: start it with `npm start` (or set POSTGRES_URL), then run this again.',
      );
    }
    postgres = { kind: 'url', url };
  }
  const queue = new LocalQueue({
    connection: dedicatedUrl
      ? { connectionString: dedicatedUrl }
      : connectionFor(postgres, undefined, credential),
    queue: config.queue,
    supervise: false,
    poolMax: 2,
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
  await queue.start();
  return { dlq: queue, close: () => queue.stop() };
}

const oneLine = (value: unknown): string =>
  value === undefined || value === null || value === '' ? '-' : String(value).replace(/\s+/g, ' ');

function formatDeadLetter(m: DeadLetteredMessage): string {
  const props = m.applicationProperties;
  const body = (typeof m.body === 'object' && m.body !== null ? m.body : {}) as Record<string, unknown>;
  const pick = (key: string) => props[key] ?? body[key];
  return [
    m.messageId,
    `tenant=${oneLine(pick('tenantId'))}`,
    `batch=${oneLine(pick('batchId'))}`,
    `device=${oneLine(pick('deviceId'))}`,
    `reason=${oneLine(m.deadLetterReason)}`,
    `description=${JSON.stringify(m.deadLetterErrorDescription ?? '')}`,
    `deliveryCount=${m.deliveryCount}`,
    `enqueued=${m.enqueuedTimeUtc?.toISOString() ?? '-'}`,
  ].join('\t');
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      max: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  if (command !== 'list' && command !== 'replay') throw new Error(`unknown command ${command}\n${usage}`);
  const options = { tenantId: values.tenant || undefined, max: positiveInt(values.max, 'max') };
  const { dlq, close } = await openQueue();
  try {
    if (command === 'list') {
      const letters = await dlq.list(options);
      for (const m of letters) process.stdout.write(`${formatDeadLetter(m)}\n`);
      process.stderr.write(`${letters.length} dead letter(s)\n`);
    } else {
      const moved = await dlq.replay(options);
      process.stdout.write(`${moved} dead letter(s) replayed\n`);
    }
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  const message =
    error instanceof DependencyUnavailableError
      ? `The queue is unavailable: ${error.cause instanceof Error ? error.cause.message : error.message}`
      : error instanceof Error
        ? error.message
        : String(error);
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
