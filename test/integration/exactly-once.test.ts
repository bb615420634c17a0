import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalQueue } from '../../shared/adapters/local-queue/pg-boss-queue.js';
import { postgresChunkEngine } from '../support/chunk-engine.js';
import { closeApp, getApp } from '../../shared/app.js';
import { loadConfig } from '../../shared/config.js';
import { createPhotoPrecheck } from '../../shared/usecases/photos.js';
import { processSyncChunk } from '../../shared/usecases/process-chunk.js';
import { chunkMessages } from '../../shared/usecases/push.js';
import { acceptEvents } from '../support/accept.js';
import { mixedEvent, production, type RawEvent } from '../support/events.js';
import { type SeededTenant, seededTenant, tenantRows } from '../support/tenants.js';

let t: SeededTenant;

beforeAll(async () => {
  t = await seededTenant('once');
});
afterAll(() => closeApp());

const accept = (events: RawEvent[], deviceId: string) => acceptEvents(t.tenant, events, deviceId, 'u-once');

const rows = (sql: string, params?: unknown[]) => tenantRows(t.tenant, sql, params);

/**
 * The events (mixedEvent: equal numbers of production, reading, maintenance, inspection and note) were
 * each applied once: appended types have exactly one row per event (or, for an inspection that repeats
 * another's content, a DUPLICATE outcome instead), and each outcome is one a single application gives.
 */
async function expectOutcomesOfOneApplication(ids: string[]) {
  const each = ids.length / 5;
  const [effects] = await rows(
    `select (select count(*) from well_readings where event_id = any($1::uuid[])) as readings,
            (select count(*) from maintenance_logs where event_id = any($1::uuid[])) as maintenance,
            (select count(*) from notes where event_id = any($1::uuid[])) as notes,
            (select count(*) from inspections where event_id = any($1::uuid[])) as inspections`,
    [ids],
  );
  expect(effects).toMatchObject({ readings: each, maintenance: each, notes: each });
  const outcomes = await rows(
    `select type, status, count(*)::int as n from sync_events where id = any($1::uuid[])
     group by type, status order by type, status`,
    [ids],
  );
  const count = (type: string, status: string) =>
    outcomes.find((o) => o.type === type && o.status === status)?.n ?? 0;
  expect(count('WELL_READING_RECORDED', 'APPLIED')).toBe(each);
  expect(count('MAINTENANCE_LOGGED', 'APPLIED')).toBe(each);
  expect(count('NOTES_ADDED', 'APPLIED')).toBe(each);
  expect(count('EQUIPMENT_INSPECTED', 'APPLIED')).toBe(effects?.inspections);
  expect(count('EQUIPMENT_INSPECTED', 'APPLIED') + count('EQUIPMENT_INSPECTED', 'DUPLICATE')).toBe(each);
  // Production: one record per (well, date), merged; an event is APPLIED or the loser of a conflict.
  expect(count('PRODUCTION_LOGGED', 'APPLIED') + count('PRODUCTION_LOGGED', 'CONFLICT')).toBe(each);
  expect(outcomes.reduce((sum, o) => sum + (o.n as number), 0)).toBe(ids.length);
}

describe('exactly once', () => {
  it('a chunk processed, then redelivered (crash after commit, before settle), never applies twice — 100 times', async () => {
    const app = getApp();
    const all: string[] = [];
    for (let round = 0; round < 100; round += 1) {
      const events = Array.from({ length: 10 }, (_, i) =>
        mixedEvent(round * 10 + i, t.wellId, t.equipmentId),
      );
      const { batchId, ids } = await accept(events, `device-${round % 7}`);
      all.push(...ids);
      // First delivery commits; the "crash" loses the settle; redeliveries (one of them concurrent) follow.
      const first = await app.processor.process(t.tenant, batchId, ids);
      const [second, third] = await Promise.all([
        app.processor.process(t.tenant, batchId, ids),
        app.processor.process(t.tenant, batchId, ids),
      ]);
      expect(first.processed).toBe(ids.length);
      expect(second.processed + third.processed).toBe(0);
    }
    const attempts = await rows('select attempts, status from sync_events where id = any($1::uuid[])', [all]);
    expect(attempts).toHaveLength(1000);
    expect(attempts.every((r) => r.attempts === 1)).toBe(true);
    expect(attempts.every((r) => r.status !== 'PENDING')).toBe(true);
    const appended = await rows(
      `select (select count(*) from well_readings where event_id = any($1::uuid[])) as readings,
              (select count(*) from maintenance_logs where event_id = any($1::uuid[])) as maintenance,
              (select count(*) from inspections where event_id = any($1::uuid[])) as inspections,
              (select count(*) from notes where event_id = any($1::uuid[])) as notes`,
      [all],
    );
    // 200 of each appended type; inspections of the same content from the same device are duplicates.
    expect(appended[0]).toMatchObject({ readings: 200, maintenance: 200, notes: 200 });
    // Each event's outcome is one its type can have (a second application would make a reading, a
    // maintenance log or a note DUPLICATE: its row is already there).
    await expectOutcomesOfOneApplication(all);
  });

  it('two first deliveries of one chunk racing (two handlers, two processors) apply it once — 60 times', async () => {
    const app = getApp();
    // Two processors, as two instances of the function app would have: they share nothing but the database.
    const processors = [
      app.processor,
      postgresChunkEngine(app.tenantPool, createPhotoPrecheck(app.photoStore)),
    ];
    const all: string[] = [];
    for (let round = 0; round < 60; round += 1) {
      const events = Array.from({ length: 10 }, (_, i) =>
        mixedEvent(round * 10 + i, t.wellId, t.equipmentId),
      );
      const deviceId = `race-${round % 5}`;
      const { batchId, ids } = await accept(events, deviceId);
      expect(ids).toHaveLength(10);
      all.push(...ids);
      // Neither has seen the chunk before: both are first deliveries (deliveryCount 1), started together.
      // Every other round the message names its batch only, as a push's does; the others name the events,
      // as a retry's does.
      const message = {
        tenantId: t.tenant.id,
        batchId,
        deviceId,
        reason: 'push',
        ...(round % 2 ? {} : { eventIds: ids }),
      };
      const summaries = await Promise.all(
        processors.map((processor) =>
          processSyncChunk({ ...app, processor }, message, {
            messageId: undefined,
            deliveryCount: 1,
            maxDeliveryCount: 5,
            retry: app.config.queue.retry,
          }),
        ),
      );
      expect(
        summaries.reduce((sum, s) => sum + s.processed, 0),
        `round ${round}`,
      ).toBe(10);
      const outcomes = summaries.flatMap((s) => Object.values(s.byStatus));
      expect(
        outcomes.reduce((sum, n) => sum + n, 0),
        `round ${round}`,
      ).toBe(10);
    }
    const attempts = await rows('select attempts, status from sync_events where id = any($1::uuid[])', [all]);
    expect(attempts).toHaveLength(600);
    expect(attempts.filter((r) => r.attempts !== 1)).toEqual([]);
    expect(attempts.filter((r) => r.status === 'PENDING')).toEqual([]);
    await expectOutcomesOfOneApplication(all);
  });

  it('through the queue: a handler that commits then dies is redelivered and applies nothing more', async () => {
    const app = getApp();
    const config = loadConfig(process.env);
    const queue = new LocalQueue({
      connection: { connectionString: process.env.POSTGRES_URL ?? '' },
      queue: { ...config.queue, queueName: 'once-test', maxDeliveryCount: 5 },
      schema: 'pgboss_once',
    });
    const deliveries = new Map<string, number[]>();
    const batches: { batchId: string; ids: string[] }[] = [];
    for (let i = 0; i < 20; i += 1) {
      batches.push(
        await accept(
          [
            production(
              t.wellId,
              { waterVolume: i },
              { productionDate: `2024-01-${String(i + 1).padStart(2, '0')}` },
            ),
          ],
          'q-device',
        ),
      );
    }
    const subscription = await queue.subscribe('once-test', async (delivery) => {
      const summary = await processSyncChunk(app, delivery.body, {
        messageId: delivery.messageId,
        deliveryCount: delivery.deliveryCount,
        maxDeliveryCount: 5,
        retry: app.config.queue.retry,
      });
      deliveries.set(delivery.messageId, [...(deliveries.get(delivery.messageId) ?? []), summary.processed]);
      if (delivery.deliveryCount === 1) throw new Error('crashed before settling');
    });
    try {
      await queue.send(
        batches.flatMap((b) =>
          chunkMessages(
            { tenantId: t.tenant.id, batchId: b.batchId, deviceId: 'q-device', reason: 'push' },
            b.ids,
          ),
        ),
      );
      const deadline = Date.now() + 30_000;
      while ([...deliveries.values()].filter((d) => d.length >= 2).length < 20 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await subscription.stop();
      await queue.stop();
    }
    expect(deliveries.size).toBe(20);
    // Each message: first delivery applied its event, the redelivery found nothing PENDING.
    for (const processed of deliveries.values()) expect(processed.slice(0, 2)).toEqual([1, 0]);
    const records = await rows(
      "select count(*)::int as n from production_records where well_id = $1 and production_date between '2024-01-01' and '2024-01-20'",
      [t.wellId],
    );
    expect(records[0]?.n).toBe(20);
  });
});
