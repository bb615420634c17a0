import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSyncBatch } from '../../functions/sync-batch.js';
import { retrySync } from '../../functions/sync-retry.js';
import { LocalQueue } from '../../shared/adapters/local-queue/pg-boss-queue.js';
import { closeApp, getApp } from '../../shared/app.js';
import { loadConfig } from '../../shared/config.js';
import type { BatchOutcome } from '../../shared/contracts/sync.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import type { RetryPolicy } from '../../shared/sync/backoff.js';
import { processSyncChunk } from '../../shared/usecases/process-chunk.js';
import { pushBatch } from '../../shared/usecases/push.js';
import { tokenFor } from '../support/auth.js';
import { note, reading } from '../support/events.js';
import { call } from '../support/http.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// The tenant's database goes away while its events are being processed (here: renamed, so connecting
// fails as for a database that is down), while the queue stays up — as with Service Bus in Azure.
let t: SeededTenant;
let queue: LocalQueue;
const subscriptions: { stop(): Promise<void> }[] = [];
const principal = { userId: 'u-down', tenantId: '', roles: ['OPERATOR' as const] };
/** Every delivery the processor got: which batch, which attempt, which delivery of that message. */
const deliveries: { batchId: string; attempt: number; deliveryCount: number }[] = [];
/** The back-off schedule per batch (time scaled down: tenths of a second instead of minutes). */
const policies = new Map<string, RetryPolicy>();
const seen = (batchId: string) => deliveries.filter((d) => d.batchId === batchId);
let operator = '';

/** GET /v1/sync/batches/{batchId}, as the device's user: the batch outcome route itself. */
const batchOutcome = async (batchId: string) => {
  const response = await call(getSyncBatch, {
    url: `http://localhost/api/v1/sync/batches/${batchId}`,
    params: { batchId },
    token: operator,
  });
  return { ...response, outcome: response.status === 200 ? (response.body as BatchOutcome) : undefined };
};

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.POSTGRES_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const takeDown = (database: string) =>
  admin(async (c) => {
    await c.query(`alter database ${pg.escapeIdentifier(database)} with allow_connections false`);
    await c.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [database]);
    await c.query(
      `alter database ${pg.escapeIdentifier(database)} rename to ${pg.escapeIdentifier(`${database}_down`)}`,
    );
  });
const bringBack = (database: string) =>
  admin(async (c) => {
    await c.query(
      `alter database ${pg.escapeIdentifier(`${database}_down`)} rename to ${pg.escapeIdentifier(database)}`,
    );
    await c.query(`alter database ${pg.escapeIdentifier(database)} with allow_connections true`);
  });

const until = async (what: string, check: () => Promise<boolean>, millis = 30_000) => {
  const deadline = Date.now() + millis;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

beforeAll(async () => {
  t = await seededTenant('dbdown');
  principal.tenantId = t.tenant.id;
  operator = await tokenFor(t.tenant.id, ['OPERATOR'], principal.userId);
  const config = loadConfig(process.env);
  queue = new LocalQueue({
    connection: { connectionString: process.env.POSTGRES_URL ?? '' },
    queue: { ...config.queue, queueName: `dbdown-${Date.now()}`, maxDeliveryCount: 3 },
    schema: 'pgboss_dbdown',
  });
  const app = getApp();
  subscriptions.push(
    await queue.subscribe(queue.queueName, async (d) => {
      const retry = policies.get(d.body.batchId);
      deliveries.push({
        batchId: d.body.batchId,
        attempt: d.body.attempt ?? 1,
        deliveryCount: d.deliveryCount,
      });
      // A batch of the give-up case fails in the processor whatever the database does.
      const processor = failing.has(d.body.batchId)
        ? { process: () => Promise.reject(new DependencyUnavailableError('postgres', 5)) }
        : app.processor;
      await processSyncChunk({ ...app, processor, queue }, d.body, {
        messageId: d.messageId,
        deliveryCount: d.deliveryCount,
        maxDeliveryCount: 3,
        retry: retry ?? app.config.queue.retry,
      });
    }),
  );
});
const failing = new Set<string>();

afterAll(async () => {
  await Promise.all(subscriptions.map((s) => s.stop()));
  await queue.stop();
  await closeApp();
});

/** Accepts three events (two readings, a note) for `deviceId` while the database is up; no processing yet. */
async function accepted(deviceId: string, retry: RetryPolicy) {
  const app = getApp();
  // Hold the queue's processing until the policy is known: push to a queue nobody subscribes to, then
  // re-send the chunk's message to ours (the push's own MessageId and body).
  const sent: Parameters<LocalQueue['send']>[0] = [];
  const events = [reading(t.wellId, 1), reading(t.wellId, 2), note(t.wellId, deviceId)];
  const pushed = await pushBatch(
    {
      ...app,
      queue: { send: async (m) => void sent.push(...m), schedule: () => Promise.reject(new Error('unused')) },
    },
    { tenant: t.tenant, principal, body: { deviceId, events } },
  );
  if (pushed.kind !== 'accepted') throw new Error('expected a new batch');
  policies.set(pushed.response.batchId, retry);
  return { batchId: pushed.response.batchId, events, send: () => queue.send(sent) };
}

describe('tenant database down while processing (issue 12: back-off, dead letters kept)', () => {
  it('an outage shorter than the back-off span costs no FAILED event: later attempts apply everything', async () => {
    // Scaled time: 0.2 s base (10 s in Azure), the span far longer than the outage.
    const { batchId, events, send } = await accepted('dbdown-1', {
      baseSeconds: 0.2,
      maxDelaySeconds: 0.8,
      spanSeconds: 30,
    });
    await takeDown(t.tenant.databaseName);
    await send();
    // Three attempts fail while the database is gone: an outage of at least 0.2 + 0.4 = 3 × base seconds.
    await until('three failed attempts', async () => seen(batchId).length >= 3);
    // The batch route answers 503 with Retry-After while the tenant's database is down (never a 500).
    const down = await batchOutcome(batchId);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toMatch(/^\d+$/);
    await bringBack(t.tenant.databaseName);

    let outcome: BatchOutcome | undefined;
    await until('APPLIED after the outage', async () => {
      outcome = (await batchOutcome(batchId)).outcome;
      return outcome?.counts.applied === 3;
    });
    expect(outcome?.counts).toMatchObject({ total: 3, applied: 3, failed: 0, pending: 0 });
    // Every failure was answered by a later attempt (a new message), never by an immediate redelivery.
    const attempts = seen(batchId);
    expect(attempts.every((d) => d.deliveryCount === 1)).toBe(true);
    expect(attempts.map((d) => d.attempt)).toEqual(attempts.map((_, i) => i + 1));
    const byDevice = await getApp()
      .tenantPool(t.tenant)
      .query("select count(*)::int as n from well_readings where device_id = 'dbdown-1'");
    expect(byDevice.rows[0]?.n).toBe(events.length - 1);
    expect(await queue.list({ tenantId: t.tenant.id })).toEqual([]);
  }, 90_000);

  it('still down when the back-off is used up: the letter stays in the dead-letter queue; replay applies it', async () => {
    const { batchId, send } = await accepted('dbdown-2', {
      baseSeconds: 0.2,
      maxDelaySeconds: 0.2,
      spanSeconds: 0.4,
    });
    await takeDown(t.tenant.databaseName);
    try {
      await send();
      // Attempts 1 and 2 schedule copies; attempt 3 cannot mark FAILED (database down) and throws, so its
      // message is redelivered up to maxDeliveryCount (3) and then dead-lettered — and kept there.
      await until('dead-lettered', async () => (await queue.list({ tenantId: t.tenant.id })).length === 1);
      const letters = await queue.list({ tenantId: t.tenant.id });
      expect(letters[0]).toMatchObject({ deadLetterReason: 'MaxDeliveryCountExceeded', deliveryCount: 3 });
      expect(seen(batchId).map((d) => [d.attempt, d.deliveryCount])).toEqual([
        [1, 1],
        [2, 1],
        [3, 1],
        [3, 2],
        [3, 3],
      ]);
    } finally {
      await bringBack(t.tenant.databaseName);
    }
    // Nothing consumes the dead-letter queue: the letter and the PENDING events wait for the operator.
    expect((await batchOutcome(batchId)).outcome?.counts).toMatchObject({ pending: 3, failed: 0 });
    expect(await queue.list({ tenantId: t.tenant.id })).toHaveLength(1);
    // `npm run dlq -- replay`: a new chain (attempt 1 again) that applies the events.
    expect(await queue.replay({ tenantId: t.tenant.id })).toBe(1);
    await until(
      'APPLIED after replay',
      async () => (await batchOutcome(batchId)).outcome?.counts.applied === 3,
    );
    expect(await queue.list({ tenantId: t.tenant.id })).toEqual([]);
    expect(seen(batchId).at(-1)).toMatchObject({ attempt: 1, deliveryCount: 1 });
  }, 90_000);

  it('a chunk that keeps failing with the database up: FAILED once the back-off is used up, no dead letter; POST /v1/sync/retry applies it', async () => {
    const { batchId, events, send } = await accepted('dbdown-3', {
      baseSeconds: 0.2,
      maxDelaySeconds: 0.2,
      spanSeconds: 0.4,
    });
    failing.add(batchId);
    await send();
    let outcome: BatchOutcome | undefined;
    await until('FAILED outcome', async () => {
      outcome = (await batchOutcome(batchId)).outcome;
      return outcome?.counts.failed === 3;
    });
    expect(outcome?.events.every((e) => e.status === 'FAILED' && e.error?.retryable === true)).toBe(true);
    expect(seen(batchId).map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect(await queue.list({ tenantId: t.tenant.id })).toEqual([]);

    // POST /v1/sync/retry itself: the route re-enqueues them on the app's queue, which the test run's
    // local Functions host processes.
    const retried = await call(retrySync, {
      method: 'POST',
      url: 'http://localhost/api/v1/sync/retry',
      token: operator,
      json: { deviceId: 'dbdown-3' },
    });
    expect(retried.status).toBe(202);
    expect(new Set((retried.body as { eventIds: string[] }).eventIds)).toEqual(
      new Set(events.map((e) => e.id)),
    );
    await until(
      'APPLIED after retry',
      async () => (await batchOutcome(batchId)).outcome?.counts.applied === 3,
    );
  }, 90_000);
});
