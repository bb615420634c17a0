import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { QueueSubscriber } from '../../local/host.js';
import {
  jobIdFor,
  LocalQueue,
  type LocalQueueDelivery,
  type LocalQueueLog,
  type LocalQueueOptions,
} from '../../shared/adapters/local-queue/pg-boss-queue.js';
import type { QueueConfig } from '../../shared/config.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import type { OutgoingMessage } from '../../shared/usecases/ports/queue.js';
import { freePort } from '../support/ports.js';
import { waitFor } from '../support/wait.js';

// A pg-boss schema of this file only, so nothing here meets the app's own local queue (schema pgboss).
const SCHEMA = 'pgboss_test_local_queue';
const controlUrl = (): string => {
  const url = process.env.POSTGRES_URL;
  if (!url) throw new Error('POSTGRES_URL is not set (test/setup/env.ts sets it)');
  return url;
};
const quietLog: LocalQueueLog = { info: () => {}, warn: () => {}, error: () => {} };

const queues: LocalQueue[] = [];
let db: pg.Pool;

beforeAll(() => {
  db = new pg.Pool({ connectionString: controlUrl(), max: 2 });
});
afterEach(async () => {
  await Promise.all(queues.splice(0).map((q) => q.stop()));
});
afterAll(() => db.end());

function newQueue(
  settings: Partial<QueueConfig> = {},
  options: Partial<LocalQueueOptions> = {},
): { queue: LocalQueue; name: string } {
  const name = `lq-${randomBytes(4).toString('hex')}`;
  const queue = new LocalQueue({
    connection: controlUrl(),
    queue: { queueName: name, maxDeliveryCount: 3, lockSeconds: 30, dedupeWindowSeconds: 3600, ...settings },
    schema: SCHEMA,
    log: quietLog,
    ...options,
  });
  queues.push(queue);
  return { queue, name };
}

function message(tenantId = 'tenant-a', messageId: string = randomUUID()): OutgoingMessage {
  const batchId = randomUUID();
  const deviceId = `dev-${tenantId}`;
  return {
    messageId,
    body: { tenantId, batchId, deviceId, eventIds: [randomUUID(), randomUUID()], reason: 'push' },
    applicationProperties: { tenantId, deviceId, batchId, reason: 'push' },
  };
}

/** Waits on a condition (test/support/wait.ts), 30 s at most: a busy machine is slow, never wrong. */
const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 30_000) =>
  waitFor(check, { what, timeoutMs, intervalMs: 25 });

/** The queue's jobs for a MessageId (its job id is derived from it): what was enqueued, and its state. */
const jobsOf = async (name: string, messageId: string) =>
  (
    await db.query<{ state: string; retry_count: number }>(
      `select state, retry_count from ${SCHEMA}.job where name = $1 and id = $2`,
      [name, jobIdFor(messageId)],
    )
  ).rows;

describe('local queue (pg-boss)', () => {
  it("serves the local Functions host's QueueSubscriber: subscribe delivers, the subscription's stop() ends it", async () => {
    // Prepare: used only through the interface the host (local/host.ts) uses.
    const { queue, name } = newQueue();
    const subscriber: QueueSubscriber = queue;
    const first: string[] = [];
    const second: string[] = [];
    const subscription = await subscriber.subscribe(name, async (m) => {
      first.push(m.messageId);
    });
    const before = message();
    await queue.send([before]);
    await until('the delivery to the first subscription', () => first.includes(before.messageId));
    // Act
    await subscription.stop();
    await subscriber.subscribe(name, async (m) => {
      second.push(m.messageId);
    });
    const after = Array.from({ length: 5 }, () => message());
    await queue.send(after);
    await until('the deliveries to the second subscription', () => second.length === after.length);
    // Assess: a stopped subscription took none of them (with both running, it would take about half).
    expect(first).toEqual([before.messageId]);
    expect(second.sort()).toEqual(after.map((m) => m.messageId).sort());
  });

  it('delivers body, messageId, deliveryCount 1, enqueued time and applicationProperties', async () => {
    // Prepare
    const { queue, name } = newQueue();
    const received: LocalQueueDelivery[] = [];
    await queue.subscribe(name, async (m) => {
      received.push(m);
    });
    const sent = message();
    const before = Date.now();
    // Act
    await queue.send([sent]);
    await until('the delivery', () => received.length === 1);
    // Assess
    const [delivery] = received;
    expect(delivery).toMatchObject({
      body: sent.body,
      messageId: sent.messageId,
      deliveryCount: 1,
      applicationProperties: sent.applicationProperties,
      contentType: 'application/json',
    });
    expect(Math.abs((delivery?.enqueuedTimeUtc.getTime() ?? 0) - before)).toBeLessThan(5_000);
  });

  it('drops a re-send of the same messageId within the dedupe window, also after completion', async () => {
    // Prepare
    const { queue, name } = newQueue();
    const received: string[] = [];
    await queue.subscribe(name, async (m) => {
      received.push(m.messageId);
    });
    const first = message();
    const marker = message();
    // Act
    await queue.send([first, { ...first }]);
    await queue.send([first]);
    await until('the first delivery', () => received.includes(first.messageId));
    await queue.send([first]);
    await queue.send([marker]);
    await until('the marker', () => received.includes(marker.messageId));
    // Assess: one delivery, and one job, completed: the re-sends were never enqueued, so nothing is left to
    // deliver later (no sleep needed to see that nothing more comes).
    expect(received.filter((id) => id === first.messageId)).toHaveLength(1);
    await until(
      'the first message settled',
      async () => (await jobsOf(name, first.messageId))[0]?.state === 'completed',
    );
    expect(await jobsOf(name, first.messageId)).toEqual([{ state: 'completed', retry_count: 0 }]);
    const { rows } = await db.query<{ n: number }>(
      `select count(*)::int as n from ${SCHEMA}.job where name = $1`,
      [name],
    );
    expect(rows[0]?.n).toBe(2); // first and marker
  });

  it('redelivers a rejected message, dead-letters it after maxDeliveryCount, lists and replays it', async () => {
    // Prepare
    const { queue, name } = newQueue({ maxDeliveryCount: 3 });
    const failing = [message('tenant-a'), message('tenant-b')];
    const failingIds = new Set(failing.map((m) => m.messageId));
    const counts: Record<string, number[]> = {};
    const replayed: LocalQueueDelivery[] = [];
    await queue.subscribe(name, async (m) => {
      if (failingIds.has(m.messageId)) {
        (counts[m.messageId] ??= []).push(m.deliveryCount);
        throw new Error(`tenant database down (delivery ${m.deliveryCount})`);
      }
      replayed.push(m);
    });
    // Act
    await queue.send(failing);
    await until('two dead letters', async () => (await queue.list({})).length === 2);
    const listedA = await queue.list({ tenantId: 'tenant-a' });
    const moved = await queue.replay({ tenantId: 'tenant-a' });
    await until('the replayed message', () => replayed.length === 1);
    // Assess
    for (const m of failing) expect(counts[m.messageId]).toEqual([1, 2, 3]);
    expect(listedA).toHaveLength(1);
    expect(listedA[0]).toMatchObject({
      messageId: failing[0]?.messageId,
      body: failing[0]?.body,
      applicationProperties: failing[0]?.applicationProperties,
      deadLetterReason: 'MaxDeliveryCountExceeded',
      deadLetterErrorDescription: 'tenant database down (delivery 3)',
      deliveryCount: 3,
    });
    expect(listedA[0]?.enqueuedTimeUtc).toBeInstanceOf(Date);
    expect(moved).toBe(1);
    const [again] = replayed;
    expect(again?.messageId).not.toBe(failing[0]?.messageId);
    expect(again).toMatchObject({
      deliveryCount: 1,
      body: { ...failing[0]?.body, reason: 'replay' },
      applicationProperties: { tenantId: 'tenant-a', reason: 'replay', replayOf: failing[0]?.messageId },
    });
    expect(await queue.list({ tenantId: 'tenant-a' })).toEqual([]);
    expect((await queue.list({})).map((m) => m.messageId)).toEqual([failing[1]?.messageId]);
  });

  it('keeps dead letters: subscribing to the dead-letter subqueue is refused (nothing consumes it, as in Azure)', async () => {
    // Prepare
    const { queue, name } = newQueue({ maxDeliveryCount: 1 });
    const sent = message('tenant-c');
    await queue.subscribe(name, async () => {
      throw new Error('bad chunk');
    });
    // Act
    const refused = await queue
      .subscribe(`${name}/$deadletterqueue`, async () => undefined)
      .catch((e: unknown) => e);
    await queue.send([sent]);
    await until('a dead letter', async () => (await queue.list({})).length === 1);
    // Assess: refused, and the letter is still there a polling interval later.
    expect(refused).toBeInstanceOf(Error);
    expect(String(refused)).toMatch(/npm run dlq/);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await queue.list({})).map((m) => m.messageId)).toEqual([sent.messageId]);
  });

  it('schedule: a message is not delivered before its enqueue time; the same MessageId again is dropped', async () => {
    // Prepare
    const { queue, name } = newQueue();
    const delivered: { messageId: string; at: number }[] = [];
    await queue.subscribe(name, async (m) => void delivered.push({ messageId: m.messageId, at: Date.now() }));
    const later = message('tenant-d');
    // Act
    const at = new Date(Date.now() + 1_500);
    await queue.schedule(later, at);
    await queue.schedule(later, new Date(Date.now() + 100)); // a re-send of the same copy: dropped
    await until('the scheduled message', () => delivered.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 700));
    // Assess
    expect(delivered).toHaveLength(1);
    expect(delivered[0]?.messageId).toBe(later.messageId);
    expect(delivered[0]?.at ?? 0).toBeGreaterThanOrEqual(at.getTime());
    expect(await jobsOf(name, later.messageId)).toHaveLength(1);
  });

  it('redelivers a message whose handler holds it past lockSeconds', async () => {
    // Prepare: the first delivery's handler hangs until the test lets it go.
    const { queue, name } = newQueue({ lockSeconds: 2, maxDeliveryCount: 5 });
    const deliveries: { count: number; at: number }[] = [];
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let hungReturned = false;
    await queue.subscribe(name, async (m) => {
      deliveries.push({ count: m.deliveryCount, at: Date.now() });
      if (m.deliveryCount === 1) {
        await released;
        hungReturned = true;
      }
    });
    const sent = message();
    // Act
    await queue.send([sent]);
    await until('the redelivery', () => deliveries.length === 2);
    // Assess: redelivered while the first handler still held it, no sooner than its lock allowed.
    expect(hungReturned).toBe(false);
    const waited = (deliveries[1]?.at ?? 0) - (deliveries[0]?.at ?? 0);
    expect(waited).toBeGreaterThanOrEqual(1_900);
    // The late return of the first handler settles nothing (its lock token is stale): stop() waits for it.
    await until(
      'the second delivery settled',
      async () => (await jobsOf(name, sent.messageId))[0]?.state === 'completed',
    );
    release();
    await queue.stop();
    expect(hungReturned).toBe(true);
    expect(deliveries.map((d) => d.count)).toEqual([1, 2]);
    expect(await jobsOf(name, sent.messageId)).toEqual([{ state: 'completed', retry_count: 1 }]);
  });

  it('sends 200 messages in one insert and delivers them all', async () => {
    // Prepare
    const { queue, name } = newQueue();
    const received = new Set<string>();
    await queue.subscribe(name, async (m) => {
      received.add(m.messageId);
    });
    const messages = Array.from({ length: 200 }, (_, i) => message(`tenant-${i % 5}`));
    // Act
    const started = performance.now();
    await queue.send(messages);
    const sentMs = performance.now() - started;
    await until('200 deliveries', () => received.size === 200, 60_000);
    const allMs = performance.now() - started;
    // Assess
    console.log(
      `local queue: 200 messages sent in ${sentMs.toFixed(0)} ms, all handled after ${allMs.toFixed(0)} ms ` +
        `(${((200 / allMs) * 1000).toFixed(0)} messages/s, concurrency 4)`,
    );
    // One INSERT statement: every job has the same transaction timestamp.
    const { rows } = await db.query<{ jobs: string; stamps: string }>(
      `select count(*) as jobs, count(distinct created_on) as stamps from ${SCHEMA}.job where name = $1`,
      [name],
    );
    expect(rows[0]).toEqual({ jobs: '200', stamps: '1' });
  });

  describe('delivery across processes (LISTEN/NOTIFY)', () => {
    // Polling every 5 minutes: a message these tests wait for (30 s at most) can only arrive by a NOTIFY.
    const slowPolling = { pollingIntervalSeconds: 300 };
    /** Two LocalQueues on one queue, as two processes would hold: one sends, the other consumes. */
    const twoProcesses = () => {
      const { queue: receiver, name } = newQueue({}, slowPolling);
      const { queue: sender } = newQueue({ queueName: name }, slowPolling);
      return { sender, receiver, name };
    };

    it("a send in one process is fetched by another process's consumer at once, not at its next poll", async () => {
      // Prepare: the receiver has made its first (empty) fetch and waits out its 300 s poll.
      const { sender, receiver, name } = twoProcesses();
      const delivered: string[] = [];
      await receiver.subscribe(name, async (m) => void delivered.push(m.messageId));
      await sender.start();
      const first = message('tenant-n1');
      await sender.send([first]);
      await until('the first message in the other process', () => delivered.length === 1);
      // Act: a second send while the receiver is idle between polls.
      const second = message('tenant-n1');
      await sender.send([second]);
      // Assess
      await until('the second message in the other process, long before its next poll', () =>
        delivered.includes(second.messageId),
      );
      expect(delivered).toEqual([first.messageId, second.messageId]);
    });

    it('a scheduled message is announced to another process when it falls due, not before', async () => {
      // Prepare
      const { sender, receiver, name } = twoProcesses();
      const delivered: { messageId: string; at: number }[] = [];
      await receiver.subscribe(
        name,
        async (m) => void delivered.push({ messageId: m.messageId, at: Date.now() }),
      );
      await sender.start();
      const later = message('tenant-n2');
      // Act
      const at = new Date(Date.now() + 1_000);
      await sender.schedule(later, at);
      // Assess
      await until('the scheduled message in the other process', () => delivered.length === 1);
      expect(delivered[0]?.messageId).toBe(later.messageId);
      expect(delivered[0]?.at ?? 0).toBeGreaterThanOrEqual(at.getTime());
    });

    it('keeps listening after its LISTEN connection is killed (then a poll-free delivery again)', async () => {
      // Prepare: the receiver's LISTEN connection is terminated by the server.
      const { sender, receiver, name } = twoProcesses();
      const delivered: string[] = [];
      await receiver.subscribe(name, async (m) => void delivered.push(m.messageId));
      await sender.start();
      const killed = await db.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
          where application_name = 'fieldsync-queue-listen' and query ilike 'LISTEN ${SCHEMA}%'`,
      );
      expect(killed.rowCount).toBeGreaterThanOrEqual(1);
      // Act: once a listener is back (one row again), a send reaches the receiver.
      await until('a LISTEN connection again', async () => {
        const { rowCount } = await db.query(
          `select 1 from pg_stat_activity
            where application_name = 'fieldsync-queue-listen' and query ilike 'LISTEN ${SCHEMA}%'`,
        );
        return (rowCount ?? 0) >= 1;
      });
      const after = message('tenant-n3');
      await sender.send([after]);
      // Assess
      await until('the message sent after the reconnect', () => delivered.includes(after.messageId));
    });
  });

  it('rejects send with DependencyUnavailableError when Postgres is unreachable', async () => {
    // Prepare
    const port = await freePort();
    const queue = new LocalQueue({
      connection: { host: '127.0.0.1', port, user: 'nobody', database: 'fieldsync' },
      queue: { queueName: 'unreachable', maxDeliveryCount: 3, lockSeconds: 30, dedupeWindowSeconds: 60 },
      schema: SCHEMA,
      log: quietLog,
    });
    queues.push(queue);
    // Act
    const sending = queue.send([message()]);
    // Assess
    await expect(sending).rejects.toBeInstanceOf(DependencyUnavailableError);
    await expect(sending).rejects.toMatchObject({ dependency: 'queue' });
  });
});
