import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalQueue } from '../../shared/adapters/local-queue/pg-boss-queue.js';
import { closeApp, getApp } from '../../shared/app.js';
import { loadConfig } from '../../shared/config.js';
import { processSyncChunk } from '../../shared/usecases/process-chunk.js';
import { chunkMessages } from '../../shared/usecases/push.js';
import { acceptEvents } from '../support/accept.js';
import { mixedEvent, production, type RawEvent } from '../support/events.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

let t: SeededTenant;

beforeAll(async () => {
  t = await seededTenant('once');
});
afterAll(() => closeApp());

const accept = (events: RawEvent[], deviceId: string) => acceptEvents(t.tenant, events, deviceId, 'u-once');

const rows = async (sql: string, params: unknown[] = []) =>
  (await getApp().tenantPool(t.tenant).query(sql, params)).rows;

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
    const applied = await rows(
      'select status, count(*)::int as n from sync_events where id = any($1::uuid[]) group by status order by status',
      [all],
    );
    const total = applied.reduce((sum, r) => sum + (r.n as number), 0);
    expect(total).toBe(1000);
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
        deliveryCount: delivery.deliveryCount,
        maxDeliveryCount: 5,
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
