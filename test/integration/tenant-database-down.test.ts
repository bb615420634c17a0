import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSyncBatch } from '../../functions/sync-batch.js';
import { retrySync } from '../../functions/sync-retry.js';
import { LocalQueue } from '../../shared/adapters/local-queue/pg-boss-queue.js';
import { closeApp, getApp } from '../../shared/app.js';
import { loadConfig } from '../../shared/config.js';
import type { BatchOutcome } from '../../shared/contracts/sync.js';
import { processSyncChunk, settleDeadLetter } from '../../shared/usecases/process-chunk.js';
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
let deliveries = 0;
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
    queue: { ...config.queue, queueName: 'dbdown-test', maxDeliveryCount: 3 },
    schema: 'pgboss_dbdown',
    deadLetterRetrySeconds: 1,
  });
});

afterAll(async () => {
  await Promise.all(subscriptions.map((s) => s.stop()));
  await queue.stop();
  await closeApp();
});

describe('tenant database down while processing', () => {
  it('is retried, dead-lettered, FAILED in the outcome; once back, POST /v1/sync/retry applies everything', async () => {
    const app = getApp();
    const deps = { ...app, queue };
    // Accepted while the database is up.
    const events = [reading(t.wellId, 1), reading(t.wellId, 2), note(t.wellId, 'down')];
    const pushed = await pushBatch(deps, {
      tenant: t.tenant,
      principal,
      body: { deviceId: 'dbdown-1', events },
    });
    if (pushed.kind !== 'accepted') throw new Error('expected a new batch');
    const { batchId } = pushed.response;

    await takeDown(t.tenant.databaseName);
    subscriptions.push(
      await queue.subscribe('dbdown-test', async (d) => {
        deliveries += 1;
        await processSyncChunk(app, d.body, { deliveryCount: d.deliveryCount, maxDeliveryCount: 3 });
      }),
      await queue.subscribe('dbdown-test/$deadletterqueue', async (d) => {
        await settleDeadLetter(app, d.body, {
          deadLetterReason: String(d.applicationProperties.deadLetterReason ?? ''),
          description: String(d.applicationProperties.deadLetterErrorDescription ?? ''),
        });
      }),
    );
    // Every delivery fails while the database is gone, until the message is dead-lettered.
    await until(
      'dead-lettering',
      async () => (await queue.list({ tenantId: t.tenant.id })).length > 0 || deliveries >= 3,
    );
    await until('three deliveries', async () => deliveries >= 3);
    // The batch route answers 503 with Retry-After while the tenant's database is down (never a 500).
    const down = await batchOutcome(batchId);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toMatch(/^\d+$/);
    expect(down.body).toMatchObject({ status: 503 });

    await bringBack(t.tenant.databaseName);
    // The dead-letter handler, retrying meanwhile, now marks the events FAILED.
    let outcome: BatchOutcome | undefined;
    await until('FAILED outcome', async () => {
      outcome = (await batchOutcome(batchId)).outcome;
      return outcome?.counts.failed === 3;
    });
    expect(outcome?.status).toBe('COMPLETED');
    expect(outcome?.events.every((e) => e.status === 'FAILED' && e.error?.retryable === true)).toBe(true);
    expect((await app.eventLog.deviceCounts(t.tenant, 'dbdown-1')).failed).toBe(3);

    // POST /v1/sync/retry itself: the route re-enqueues them on the app's queue, which the test run's
    // local Functions host processes now that the database is back.
    const retried = await call(retrySync, {
      method: 'POST',
      url: 'http://localhost/api/v1/sync/retry',
      token: operator,
      json: { deviceId: 'dbdown-1' },
    });
    expect(retried.status).toBe(202);
    expect(retried.body).toMatchObject({ retried: 3 });
    expect(new Set((retried.body as { eventIds: string[] }).eventIds)).toEqual(
      new Set(events.map((e) => e.id)),
    );
    await until('APPLIED after retry', async () => {
      outcome = (await batchOutcome(batchId)).outcome;
      return outcome?.counts.applied === 3;
    });
    expect(outcome?.counts).toMatchObject({ total: 3, applied: 3, failed: 0, pending: 0 });
    const readings = await app
      .tenantPool(t.tenant)
      .query('select count(*)::int as n from well_readings where device_id = $1', ['u-down']);
    expect(readings.rows[0]?.n).toBe(0); // device_id is the device's, not the user's: a sanity check of the column
    const byDevice = await app
      .tenantPool(t.tenant)
      .query("select count(*)::int as n from well_readings where device_id = 'dbdown-1'");
    expect(byDevice.rows[0]?.n).toBe(2);
    expect(await queue.list({ tenantId: t.tenant.id })).toEqual([]);
  }, 90_000);
});
