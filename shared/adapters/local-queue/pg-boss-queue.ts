/**
 * The local queue: pg-boss 10 in the control database (its own schema, `pgboss` unless told), with the
 * Service Bus semantics the app relies on in Azure:
 *
 * - duplicate detection: a job's id is a UUID derived from the MessageId, and pg-boss inserts with
 *   `ON CONFLICT (name, id) DO NOTHING`, so a re-send is dropped while the first job's row is still in
 *   `pgboss.job`. A row stays there while it waits or runs, then until pg-boss archives it:
 *   `archiveCompletedAfterSeconds` / `archiveFailedAfterSeconds` after it finished, both set to
 *   `dedupeWindowSeconds`. Archiving runs with the maintenance pass, so the window is at least
 *   `dedupeWindowSeconds` (counted from completion, where Service Bus counts from enqueue: never shorter).
 *   After archiving, the same MessageId is accepted again, as after the Service Bus window.
 * - peek-lock: a delivery is locked for `lockSeconds` (the queue's `expireInSeconds`). When the handler
 *   has not settled by then the lock is lost: the message is abandoned and redelivered, while the handler
 *   may still run. A process that dies mid-delivery leaves an active job that pg-boss's maintenance
 *   (every `lockSeconds`, at most 60 s) fails after `expireInSeconds`, which also redelivers it.
 * - settlement per message with a lock token: the delivery's `retry_count` (pg-boss increments it on each
 *   fetch after the first). Completing or abandoning checks it, so a late handler can never settle a later
 *   delivery of the same message (Service Bus would answer MessageLockLost; here it is logged and ignored).
 * - deliveryCount = pg-boss retryCount + 1; after `maxDeliveryCount` deliveries (queue `retryLimit` =
 *   maxDeliveryCount - 1, `retryDelay` 0) pg-boss moves the message to the `deadLetter` queue
 *   `<name>__deadletter` (Service Bus: `<name>/$deadletterqueue`), where it stays for `list` / `replay`.
 *   Nothing subscribes to it (issue 12 item 3: in Azure no function consumes the dead-letter subqueue
 *   either), so subscribing to a dead-letter path is refused.
 * - scheduled messages: `schedule` inserts with `startAfter` (Service Bus scheduledEnqueueTimeUtc).
 *
 * Why not `boss.work()`: it settles a fetched batch as a whole (one error for every job of the batch) and
 * completes the batch after the handler returns without a lock token, which races with a redelivery of a
 * job that was abandoned meanwhile. So the consumers below run their own loop on `boss.fetch()`
 * (batched: as many jobs as free handler slots) and settle each message themselves.
 *
 * Delivery right after commit, across processes: `send` (and `replay`) wakes the consumers of this process
 * at once and then sends a Postgres NOTIFY on the channel `<schema>_fieldsync_queue` (payload: the queue
 * name) once the jobs are committed; a scheduled message gets its NOTIFY when it falls due (a timer in
 * the process that scheduled it). Every LocalQueue with subscriptions holds one LISTEN connection on that
 * channel and wakes its consumers of the named queue, so another process fetches the message within a
 * round trip instead of at its next poll. Polling (every 0.5 s by default) stays as the fallback: a lost
 * LISTEN connection (re-opened after a pause), a NOTIFY that failed, a scheduler that exited before the
 * due time.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import type { QueueConfig } from '../../config.js';
import { DependencyUnavailableError } from '../../errors.js';
import type {
  DeadLetteredMessage,
  DeadLetterQueue,
  EventQueue,
  OutgoingMessage,
  SyncChunkMessage,
} from '../../usecases/ports/queue.js';
import { isPostgresUnavailable } from '../postgres/connection.js';
import { uuidFromHash } from '../../sync/uuid.js';

/** The Service Bus path of a queue's dead-letter subqueue: `<queue>/$deadletterqueue`. */
export const DEAD_LETTER_PATH_SUFFIX = '/$deadletterqueue';
/** pg-boss name of a queue's dead-letter queue (`$` and `/` are kept out of pg-boss names). */
export const deadLetterQueueName = (queueName: string): string => `${queueName}__deadletter`;

/** Set on every dead-lettered message: pg-boss dead-letters only when the retries are used up. */
export const MAX_DELIVERY_COUNT_EXCEEDED = 'MaxDeliveryCountExceeded';

/** One message handed to a subscriber: structurally the local Functions host's QueueDelivery. */
export interface LocalQueueDelivery {
  body: SyncChunkMessage;
  messageId: string;
  deliveryCount: number;
  enqueuedTimeUtc: Date;
  applicationProperties: Record<string, unknown>;
  contentType?: string;
}

/** A resolved promise completes the message; a rejected one abandons it (redelivery). */
export type LocalQueueHandler = (message: LocalQueueDelivery) => Promise<void>;

/** What the queue logs to; a pino logger fits. */
export interface LocalQueueLog {
  info(entry: Record<string, unknown>, message: string): void;
  warn(entry: Record<string, unknown>, message: string): void;
  error(entry: Record<string, unknown>, message: string): void;
}

export interface LocalQueueOptions {
  /** The control database: a connection string or pg client settings. */
  connection: string | pg.ClientConfig;
  queue: Omit<QueueConfig, 'retry'>;
  log?: LocalQueueLog;
  /** pg-boss schema; default 'pgboss'. */
  schema?: string;
  /** Handlers running at once per subscription (Service Bus maxConcurrentCalls); default 4. */
  concurrency?: number;
  /** How often an idle subscription looks for messages; default 0.5 s (pg-boss's minimum). */
  pollingIntervalSeconds?: number;
  /** Run pg-boss maintenance (lock expiry, archiving); default true. Off for one-shot tools. */
  supervise?: boolean;
  /** How long stop() waits for running handlers; default 30 s. */
  stopTimeoutSeconds?: number;
  /** Connections in the pool; default 10. */
  poolMax?: number;
}

/** What a job carries: the message as Service Bus would hold it. */
interface JobData {
  messageId: string;
  body: SyncChunkMessage;
  applicationProperties: Record<string, unknown>;
}

/** The output stored when a delivery fails; pg-boss copies it onto the dead-lettered job. */
interface FailureOutput {
  message: string;
  deliveryCount: number;
  enqueuedTimeUtc: string;
  deadLetterReason?: string;
}

type Job = PgBoss.JobWithMetadata<JobData>;

/** retry_limit of the dead-letter queue's own options (nothing consumes it; see the module comment). */
const UNLIMITED_RETRIES = 2_000_000_000;

/** A UUID (version-5 layout) from a sha256 of the MessageId: the same MessageId, the same job id. */
export function jobIdFor(messageId: string): string {
  return uuidFromHash(createHash('sha256').update(`fieldsync-queue:${messageId}`).digest(), 5);
}

/** A new MessageId for a replayed dead letter (so duplicate detection does not drop it). */
export function replayMessageId(original: string, unique: string, at: Date = new Date()): string {
  return createHash('sha256').update(`${original}:replay:${at.toISOString()}:${unique}`).digest('hex');
}

/** `<name>/$deadletterqueue` → the queue and the subqueue it names. */
export function parseQueuePath(path: string): { queueName: string; deadLetter: boolean } {
  return path.toLowerCase().endsWith(DEAD_LETTER_PATH_SUFFIX)
    ? { queueName: path.slice(0, -DEAD_LETTER_PATH_SUFFIX.length), deadLetter: true }
    : { queueName: path, deadLetter: false };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toQueueError(error: unknown): unknown {
  return isPostgresUnavailable(error) ? new DependencyUnavailableError('queue', 5, { cause: error }) : error;
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** Reason, description, delivery count and enqueue time of a dead-lettered job, from its output. */
function deadLetterDetails(
  output: unknown,
  createdOn: Date,
  maxDeliveryCount: number,
): {
  reason: string;
  description: string | undefined;
  deliveryCount: number;
  enqueuedTimeUtc: Date;
} {
  const out = asRecord(output);
  // Ours: { message, ... }; pg-boss's own lock expiry: { value: { message } }.
  const message = out.message ?? asRecord(out.value).message;
  const enqueued = typeof out.enqueuedTimeUtc === 'string' ? new Date(out.enqueuedTimeUtc) : undefined;
  return {
    reason: typeof out.deadLetterReason === 'string' ? out.deadLetterReason : MAX_DELIVERY_COUNT_EXCEEDED,
    description: typeof message === 'string' ? message : undefined,
    deliveryCount: typeof out.deliveryCount === 'number' ? out.deliveryCount : maxDeliveryCount,
    enqueuedTimeUtc: enqueued && !Number.isNaN(enqueued.getTime()) ? enqueued : createdOn,
  };
}

/** Scheduled messages whose due time this process announces with a NOTIFY; later ones rely on polling. */
const MAX_DUE_TIMERS = 1000;
/** Pause before a lost LISTEN connection is opened again (polling covers the gap). */
const RELISTEN_MILLIS = 1000;

const consoleLog: LocalQueueLog = {
  info: (entry, message) => console.info(message, entry),
  warn: (entry, message) => console.warn(message, entry),
  error: (entry, message) => console.error(message, entry),
};

/** The local EventQueue, dead-letter access and the host's QueueSubscriber, on pg-boss. */
export class LocalQueue implements EventQueue, DeadLetterQueue {
  private readonly pool: pg.Pool;
  private readonly schema: string;
  private readonly log: LocalQueueLog;
  private readonly concurrency: number;
  private readonly pollingMillis: number;
  private readonly supervise: boolean;
  private readonly stopTimeoutMillis: number;
  private readonly consumers = new Set<Consumer>();
  private readonly ensuredQueues = new Set<string>();
  private starting: Promise<PgBoss> | undefined;
  private stopped = false;
  /** The NOTIFY channel of this pg-boss schema (a plain identifier: the schema name is checked). */
  private readonly channel: string;
  /** The LISTEN connection, opened by the first subscription (a sender-only queue needs none). */
  private listening: Promise<pg.Client> | undefined;
  private relistenTimer: NodeJS.Timeout | undefined;
  /** Timers that NOTIFY when a scheduled message falls due. */
  private readonly dueTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: LocalQueueOptions) {
    const { connection, queue } = options;
    this.schema = options.schema ?? 'pgboss';
    if (!/^[A-Za-z_]\w{0,49}$/.test(this.schema)) throw new Error(`invalid pg-boss schema "${this.schema}"`);
    if (queue.maxDeliveryCount < 1) throw new Error('maxDeliveryCount must be at least 1');
    this.log = options.log ?? consoleLog;
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.pollingMillis = Math.max(0.5, options.pollingIntervalSeconds ?? 0.5) * 1000;
    this.supervise = options.supervise ?? true;
    this.stopTimeoutMillis = (options.stopTimeoutSeconds ?? 30) * 1000;
    this.channel = `${this.schema}_fieldsync_queue`.toLowerCase();
    const config: pg.PoolConfig =
      typeof connection === 'string' ? { connectionString: connection } : connection;
    this.pool = new pg.Pool({
      connectionTimeoutMillis: 10_000,
      ...config,
      max: options.poolMax ?? 10,
      application_name: config.application_name ?? 'fieldsync-queue',
    });
    this.pool.on('error', (error) => this.log.warn({ err: errorText(error) }, 'queue connection lost'));
  }

  get queueName(): string {
    return this.options.queue.queueName;
  }

  /** Installs or updates the pg-boss schema and creates the queue and its dead-letter queue. */
  async start(): Promise<void> {
    await this.ready();
  }

  /** Stops every subscription (waiting for running handlers), then pg-boss, then the connections. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.dueTimers) clearTimeout(timer);
    this.dueTimers.clear();
    clearTimeout(this.relistenTimer);
    const listener = await this.listening?.catch(() => undefined);
    this.listening = undefined;
    await listener?.end().catch(() => undefined);
    await Promise.all([...this.consumers].map((c) => c.stop()));
    this.consumers.clear();
    const boss = await this.starting?.catch(() => undefined);
    await boss?.stop({ graceful: true, close: false, timeout: 1000 });
    await this.pool.end();
  }

  /**
   * Enqueues every message in one INSERT (all or nothing). A MessageId already enqueued within the
   * dedupe window is dropped.
   */
  async send(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const boss = await this.ready();
    const jobs: PgBoss.JobInsert<JobData>[] = messages.map((m) => ({
      id: jobIdFor(m.messageId),
      name: this.queueName,
      data: { messageId: m.messageId, body: m.body, applicationProperties: { ...m.applicationProperties } },
    }));
    try {
      await boss.insert(jobs);
    } catch (error) {
      throw toQueueError(error);
    }
    await this.announce(this.queueName);
  }

  /**
   * Enqueues one message that becomes visible at `enqueueAt` (pg-boss `startAfter`, as Service Bus's
   * scheduledEnqueueTimeUtc); a MessageId already enqueued within the dedupe window is dropped.
   */
  async schedule(message: OutgoingMessage, enqueueAt: Date): Promise<void> {
    const boss = await this.ready();
    try {
      await boss.insert([
        {
          id: jobIdFor(message.messageId),
          name: this.queueName,
          data: {
            messageId: message.messageId,
            body: message.body,
            applicationProperties: { ...message.applicationProperties },
          },
          startAfter: enqueueAt,
        },
      ]);
    } catch (error) {
      throw toQueueError(error);
    }
    this.announceWhenDue(this.queueName, enqueueAt);
  }

  /**
   * Calls onMessage for each message of `queueName`. Structurally the local Functions host's
   * QueueSubscriber. A dead-letter path (`<queue>/$deadletterqueue`) is refused with an Error: dead
   * letters stay for `npm run dlq -- list|replay`, as in Azure, where no function consumes them.
   */
  async subscribe(queuePath: string, onMessage: LocalQueueHandler): Promise<{ stop(): Promise<void> }> {
    const { queueName, deadLetter } = parseQueuePath(queuePath);
    if (deadLetter) {
      throw new Error(
        `nothing consumes the dead-letter queue ${queuePath}: its letters stay for \`npm run dlq -- list|replay\``,
      );
    }
    const boss = await this.ready();
    try {
      await this.ensureQueues(boss, queueName);
    } catch (error) {
      throw toQueueError(error);
    }
    // Listening before the first fetch: a message committed after that fetch is announced to us.
    await this.listen().catch((error: unknown) =>
      this.log.warn({ err: errorText(error) }, 'queue LISTEN failed; polling only until it is back'),
    );
    const consumer = new Consumer({
      queue: this,
      boss,
      name: queueName,
      onMessage,
    });
    this.consumers.add(consumer);
    consumer.start();
    this.log.info({ queue: queuePath, concurrency: this.concurrency }, 'queue subscription started');
    return {
      stop: async () => {
        this.consumers.delete(consumer);
        await consumer.stop();
      },
    };
  }

  /** Dead letters of the queue, oldest first (default at most 100). */
  async list(options: { tenantId?: string; max?: number } = {}): Promise<DeadLetteredMessage[]> {
    await this.ready();
    const max = options.max ?? 100;
    try {
      const { rows } = await this.pool.query<{
        id: string;
        data: JobData;
        output: unknown;
        created_on: Date;
      }>(
        `SELECT id, data, output, created_on FROM ${this.schema}.job
          WHERE name = $1 AND state IN ('created', 'retry', 'active', 'failed')
            AND ($2::text IS NULL OR data->'applicationProperties'->>'tenantId' = $2)
          ORDER BY created_on, id
          LIMIT $3`,
        [deadLetterQueueName(this.queueName), options.tenantId ?? null, max],
      );
      return rows.map((row) => {
        const details = deadLetterDetails(row.output, row.created_on, this.options.queue.maxDeliveryCount);
        return {
          messageId: row.data.messageId,
          body: row.data.body,
          applicationProperties: row.data.applicationProperties,
          deadLetterReason: details.reason,
          deadLetterErrorDescription: details.description,
          enqueuedTimeUtc: details.enqueuedTimeUtc,
          deliveryCount: details.deliveryCount,
        };
      });
    } catch (error) {
      throw toQueueError(error);
    }
  }

  /**
   * Moves matching dead letters back to the main queue with a new MessageId, each in one transaction
   * (insert into the queue, delete from the dead-letter queue). Messages a dead-letter subscriber is
   * handling right now are left alone. Returns how many moved.
   */
  async replay(options: { tenantId?: string; max?: number } = {}): Promise<number> {
    const boss = await this.ready();
    const max = options.max ?? Number.POSITIVE_INFINITY;
    const deadLetter = deadLetterQueueName(this.queueName);
    let moved = 0;
    try {
      while (moved < max) {
        const done = await this.transaction(async (client, db) => {
          const { rows } = await client.query<{ id: string; data: JobData }>(
            `SELECT id, data FROM ${this.schema}.job
              WHERE name = $1 AND state IN ('created', 'retry', 'failed')
                AND ($2::text IS NULL OR data->'applicationProperties'->>'tenantId' = $2)
              ORDER BY created_on, id
              LIMIT 1
              FOR UPDATE SKIP LOCKED`,
            [deadLetter, options.tenantId ?? null],
          );
          const row = rows[0];
          if (!row) return true;
          const messageId = replayMessageId(row.data.messageId, row.id);
          // A replay is a new chain: it starts again at attempt 1 (with the whole back-off schedule ahead).
          const { attempt: _attempt, ...fields } = row.data.body;
          const { attempt: _propertyAttempt, ...properties } = row.data.applicationProperties;
          const body = { ...fields, reason: 'replay' as const };
          await boss.insert(
            [
              {
                id: jobIdFor(messageId),
                name: this.queueName,
                data: {
                  messageId,
                  body,
                  applicationProperties: {
                    ...properties,
                    reason: 'replay',
                    replayOf: row.data.messageId,
                  },
                },
              },
            ],
            { db },
          );
          await boss.deleteJob(deadLetter, row.id, { db });
          return false;
        });
        if (done) break;
        moved++;
      }
    } catch (error) {
      throw toQueueError(error);
    }
    if (moved > 0) await this.announce(this.queueName);
    return moved;
  }

  // ---- internals used by the consumers ----

  /** Wakes this process's consumers of a pg-boss queue (the equivalent of pg-boss notifyWorker). */
  notify(name: string): void {
    for (const consumer of this.consumers) if (consumer.name === name) consumer.wake();
  }

  /**
   * Wakes this process's consumers of `name` and NOTIFYs every listening LocalQueue (other processes
   * included) that it has committed messages. Best effort: the messages are committed already, so a failure
   * is logged and polling delivers them.
   */
  private async announce(name: string): Promise<void> {
    this.notify(name);
    try {
      await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, name]);
    } catch (error) {
      this.log.warn({ queue: name, err: errorText(error) }, 'queue NOTIFY failed; consumers will poll');
    }
  }

  /** A NOTIFY when a scheduled message becomes visible (now when it already is), from a timer of this process. */
  private announceWhenDue(name: string, at: Date): void {
    const delay = at.getTime() - Date.now();
    if (delay <= 0) {
      void this.announce(name);
      return;
    }
    if (this.dueTimers.size >= MAX_DUE_TIMERS) return;
    const timer = setTimeout(() => {
      this.dueTimers.delete(timer);
      if (this.stopped) return;
      void this.announce(name);
    }, delay);
    // A pending announcement must not keep a process alive: polling delivers the message anyway.
    timer.unref();
    this.dueTimers.add(timer);
  }

  /** Opens the LISTEN connection once; when it is lost, opens it again after a pause while consumers poll. */
  private listen(): Promise<pg.Client> {
    this.listening ??= (async () => {
      const { connection } = this.options;
      const config: pg.ClientConfig =
        typeof connection === 'string' ? { connectionString: connection } : { ...connection };
      const client = new pg.Client({
        connectionTimeoutMillis: 10_000,
        ...config,
        application_name: `${config.application_name ?? 'fieldsync-queue'}-listen`,
      });
      const lost = (error?: Error) => {
        if (this.stopped || this.listening === undefined) return;
        this.listening = undefined;
        this.log.warn({ err: error ? errorText(error) : 'closed' }, 'queue LISTEN connection lost');
        client.end().catch(() => undefined);
        this.relistenLater();
      };
      client.on('notification', (n) => {
        if (n.channel === this.channel && n.payload) this.notify(n.payload);
      });
      client.on('error', lost);
      client.on('end', () => lost());
      try {
        await client.connect();
        await client.query(`LISTEN ${this.channel}`);
      } catch (error) {
        client.removeAllListeners('end');
        await client.end().catch(() => undefined);
        throw error;
      }
      // Woken once after (re)connecting: a message announced while nobody listened is fetched now.
      for (const consumer of this.consumers) consumer.wake();
      return client;
    })().catch((error: unknown) => {
      this.listening = undefined;
      this.relistenLater();
      throw error;
    });
    return this.listening;
  }

  private relistenLater(): void {
    clearTimeout(this.relistenTimer);
    this.relistenTimer = setTimeout(() => {
      if (!this.stopped && this.consumers.size > 0 && !this.listening) {
        this.listen().catch((error: unknown) =>
          this.log.warn({ err: errorText(error) }, 'queue LISTEN failed; polling only until it is back'),
        );
      }
    }, RELISTEN_MILLIS);
    this.relistenTimer.unref();
  }

  get settings() {
    return {
      schema: this.schema,
      log: this.log,
      concurrency: this.concurrency,
      pollingMillis: this.pollingMillis,
      lockSeconds: this.options.queue.lockSeconds,
      maxDeliveryCount: this.options.queue.maxDeliveryCount,
      stopTimeoutMillis: this.stopTimeoutMillis,
    };
  }

  query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<pg.QueryResult<R>> {
    return this.pool.query<R>(text, values);
  }

  /** Runs fn in one transaction; `db` lets pg-boss calls join it. */
  async transaction<T>(fn: (client: pg.PoolClient, db: PgBoss.Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client, { executeSql: (text, values) => client.query(text, values) });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private ready(): Promise<PgBoss> {
    if (this.stopped) return Promise.reject(new Error('the local queue is stopped'));
    this.starting ??= this.open().catch((error: unknown) => {
      this.starting = undefined;
      throw toQueueError(error);
    });
    return this.starting;
  }

  private async open(): Promise<PgBoss> {
    const { lockSeconds, dedupeWindowSeconds } = this.options.queue;
    const boss = new PgBoss({
      db: { executeSql: (text, values) => this.pool.query(text, values) },
      schema: this.schema,
      migrate: true,
      schedule: false,
      supervise: this.supervise,
      maintenanceIntervalSeconds: Math.max(1, Math.min(lockSeconds, 60)),
      // The duplicate-detection window: a finished job's row (and so its id) stays this long.
      archiveCompletedAfterSeconds: dedupeWindowSeconds,
      archiveFailedAfterSeconds: dedupeWindowSeconds,
    });
    boss.on('error', (error) => this.log.warn({ err: errorText(error) }, 'pg-boss error'));
    try {
      await boss.start();
      await this.ensureQueues(boss, this.queueName);
    } catch (error) {
      // A failed start leaves this PgBoss instance unusable (it believes it is still starting).
      await boss.stop({ graceful: false, close: false }).catch(() => undefined);
      throw error;
    }
    return boss;
  }

  /** Creates (or updates to the current settings) a queue and its dead-letter queue. */
  private async ensureQueues(boss: PgBoss, queueName: string): Promise<void> {
    if (this.ensuredQueues.has(queueName)) return;
    const { maxDeliveryCount, lockSeconds } = this.options.queue;
    const deadLetter = deadLetterQueueName(queueName);
    // Options of the dead-letter queue apply to jobs sent to it; pg-boss inserts dead letters with table
    // defaults instead (see Consumer.fetch), so these matter little. (pg-boss mutates the options: build
    // them per call.)
    const deadLetterOptions = (): PgBoss.Queue => ({
      name: deadLetter,
      retryLimit: UNLIMITED_RETRIES,
      retryDelay: 0,
      expireInSeconds: lockSeconds,
    });
    const mainOptions = (): PgBoss.Queue => ({
      name: queueName,
      retryLimit: maxDeliveryCount - 1,
      retryDelay: 0,
      retryBackoff: false,
      expireInSeconds: lockSeconds,
      deadLetter,
    });
    // Two processes creating queues at once can deadlock inside pg-boss's DDL (seen when test files start
    // side by side); Postgres then aborts one of them, which may simply try again: every step is idempotent.
    await retryOnDeadlock(async () => {
      await boss.createQueue(deadLetter, deadLetterOptions());
      await boss.createQueue(queueName, mainOptions());
      // createQueue keeps an existing queue as it is: apply the current settings (to jobs sent from now on).
      await boss.updateQueue(deadLetter, deadLetterOptions());
      await boss.updateQueue(queueName, mainOptions());
    });
    this.ensuredQueues.add(queueName);
  }
}

/** SQLSTATE deadlock_detected: Postgres aborted this statement to break a deadlock; running it again is safe. */
const DEADLOCK_DETECTED = '40P01';

/**
 * Runs `work`, again after a short random pause when Postgres aborted it as a deadlock victim (up to `attempts`
 * runs in all); any other error, or the last deadlock, is thrown. `work` must be safe to repeat.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const deadlock = (error as { code?: unknown } | null)?.code === DEADLOCK_DETECTED;
      if (!deadlock || attempt >= attempts) throw error;
      // Random, so the two processes do not collide again in step.
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80 * attempt));
    }
  }
}

/** One subscription: a fetch loop feeding up to `concurrency` handlers, settling each message. */
class Consumer {
  readonly name: string;
  private readonly queue: LocalQueue;
  private readonly boss: PgBoss;
  private readonly onMessage: LocalQueueHandler;
  private readonly inFlight = new Set<Promise<void>>();
  private stopping = false;
  private notified = false;
  private wakeUp: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private signalStop: () => void = () => undefined;
  private readonly stopSignal = new Promise<void>((resolve) => {
    this.signalStop = resolve;
  });

  constructor(args: { queue: LocalQueue; boss: PgBoss; name: string; onMessage: LocalQueueHandler }) {
    this.queue = args.queue;
    this.boss = args.boss;
    this.name = args.name;
    this.onMessage = args.onMessage;
  }

  start(): void {
    this.loop = this.run();
  }

  wake(): void {
    this.notified = true;
    this.wakeUp?.();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.signalStop();
    this.wakeUp?.();
    await this.loop;
    const { stopTimeoutMillis, log } = this.queue.settings;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), stopTimeoutMillis);
    });
    const outcome = await Promise.race([Promise.all(this.inFlight), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      log.warn({ queue: this.name, running: this.inFlight.size }, 'stopped without waiting for handlers');
    }
  }

  private async run(): Promise<void> {
    const { concurrency, pollingMillis, log } = this.queue.settings;
    while (!this.stopping) {
      const free = concurrency - this.inFlight.size;
      if (free <= 0) {
        await Promise.race([...this.inFlight, this.stopSignal]);
        continue;
      }
      this.notified = false;
      let jobs: Job[] = [];
      try {
        jobs = await this.fetch(free);
      } catch (error) {
        log.warn({ queue: this.name, err: errorText(error) }, 'queue fetch failed');
      }
      for (const job of jobs) {
        const delivery: Promise<void> = this.deliver(job).finally(() => this.inFlight.delete(delivery));
        this.inFlight.add(delivery);
      }
      // A full batch: more may be waiting, fetch again as soon as a slot frees.
      if (jobs.length === free || this.notified || this.stopping) continue;
      await this.pause(pollingMillis);
    }
  }

  private pause(millis: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, millis);
      this.wakeUp = done;
    });
  }

  /** Locks up to `count` messages. pg-boss's fetch returns [] on a database error. */
  private fetch(count: number): Promise<Job[]> {
    return this.boss.fetch<JobData>(this.name, { batchSize: count, includeMetadata: true });
  }

  private toDelivery(job: Job): LocalQueueDelivery {
    const { data } = job;
    return {
      body: data.body,
      messageId: data.messageId,
      deliveryCount: job.retryCount + 1,
      enqueuedTimeUtc: job.createdOn,
      applicationProperties: { ...data.applicationProperties },
      contentType: 'application/json',
    };
  }

  /** One delivery: run the handler under the lock, then complete or abandon with the lock token. */
  private async deliver(job: Job): Promise<void> {
    const { lockSeconds, log } = this.queue.settings;
    const delivery = this.toDelivery(job);
    let timer: NodeJS.Timeout | undefined;
    const lockExpired = new Promise<'lock-expired'>((resolve) => {
      timer = setTimeout(() => resolve('lock-expired'), lockSeconds * 1000);
    });
    const handling = Promise.resolve().then(() => this.onMessage(delivery));
    let failure: string | undefined;
    try {
      const outcome = await Promise.race([handling.then(() => 'done' as const), lockExpired]);
      if (outcome === 'lock-expired') {
        failure = `the lock expired: the handler did not finish within ${lockSeconds} s`;
      }
    } catch (error) {
      failure = errorText(error) || 'handler failed';
    } finally {
      clearTimeout(timer);
    }
    try {
      const settled =
        failure === undefined ? await this.complete(job) : await this.abandon(job, delivery, failure);
      if (!settled) {
        log.warn(
          { queue: this.name, messageId: delivery.messageId, deliveryCount: delivery.deliveryCount },
          'message lock lost before settlement; it was or will be redelivered',
        );
      }
    } catch (error) {
      // Unsettled: the lock expires and the message is redelivered.
      log.error({ queue: this.name, messageId: delivery.messageId, err: errorText(error) }, 'settle failed');
    }
    // The slot stays taken until the handler really returns, even after its lock expired.
    await handling.catch(() => undefined);
  }

  private async complete(job: Job): Promise<boolean> {
    // pg-boss's completeJobs statement, plus the lock token.
    const { rowCount } = await this.queue.query(
      `UPDATE ${this.queue.settings.schema}.job SET state = 'completed', completed_on = now()
        WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3`,
      [this.name, job.id, job.retryCount],
    );
    return rowCount === 1;
  }

  private async abandon(job: Job, delivery: LocalQueueDelivery, message: string): Promise<boolean> {
    const { schema } = this.queue.settings;
    const last = job.retryCount >= job.retryLimit;
    const output: FailureOutput = {
      message,
      deliveryCount: delivery.deliveryCount,
      enqueuedTimeUtc: delivery.enqueuedTimeUtc.toISOString(),
      ...(last ? { deadLetterReason: MAX_DELIVERY_COUNT_EXCEEDED } : {}),
    };
    // pg-boss's fail() (retry, or dead-letter when the retries are used up) in a transaction that first
    // checks the lock token.
    const settled = await this.queue.transaction(async (client, db) => {
      const { rowCount } = await client.query(
        `SELECT 1 FROM ${schema}.job
          WHERE name = $1 AND id = $2 AND state = 'active' AND retry_count = $3 FOR UPDATE`,
        [this.name, job.id, job.retryCount],
      );
      if (rowCount !== 1) return false;
      await this.boss.fail(this.name, job.id, output, { db });
      return true;
    });
    if (settled) this.queue.notify(last ? deadLetterQueueName(this.name) : this.name);
    return settled;
  }
}
