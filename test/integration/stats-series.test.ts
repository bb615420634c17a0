import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getStats } from '../../functions/sync-stats.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { SyncStats } from '../../shared/contracts/manager.js';
import { bucketCount } from '../../shared/usecases/stats.js';
import { tokenFor } from '../support/auth.js';
import { note, production, reading } from '../support/events.js';
import { call } from '../support/http.js';
import { ownSyncProcessor } from '../support/processor.js';
import { pushAccepted, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// GET /v1/sync/stats?bucket=hour|day (issue 16, SPEC v1.1 "Managers' console"): real events pushed and processed,
// then moved to known receive and apply times in the tenant database, so each must land in a known bucket.
ownSyncProcessor('stats-series');
process.env.RATE_LIMIT_OTHER_PER_SECOND = '1000';
process.env.RATE_LIMIT_PUSH_PER_MINUTE = '1000';

const HOUR = 3_600_000;
let t: SeededTenant;
let manager: string;
/** The start of a UTC hour ten days ago: the test's time origin. */
const H0 = Math.floor((Date.now() - 240 * HOUR) / HOUR) * HOUR;
const at = (ms: number) => new Date(H0 + ms);
const iso = (ms: number) => at(ms).toISOString();
const ids = { readings: [] as string[], production: '', note: '', batchWithRefusal: '' };

const stats = async (query: string) => {
  const response = await call(getStats, {
    url: `http://localhost/api/v1/sync/stats?${query}`,
    token: manager,
  });
  return response as { status: number; body: SyncStats & { errors?: { path: string }[] } };
};
const sql = (text: string, params: unknown[] = []) => getApp().tenantPool(t.tenant).query(text, params);
/** Moves an event to a receive time, applied `latencyMs` later. */
const place = (id: string, receivedMs: number, latencyMs: number) =>
  sql(`update sync_events set received_at = $2, applied_at = $3 where id = $1`, [
    id,
    at(receivedMs),
    at(receivedMs + latencyMs),
  ]);

beforeAll(async () => {
  t = await seededTenant('stb');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-mgr');
  const operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-op');
  const r1 = reading(t.wellId, 1);
  const r2 = reading(t.wellId, 2);
  const p = production(t.wellId, { oilVolume: 7 });
  const n = note(t.wellId, 'gate');
  const a = await pushAccepted(operator, { deviceId: 'tab-a', events: [r1, r2] });
  // One event refused at push (no such type): counted as rejected in its batch's bucket.
  const b = await pushAccepted(operator, {
    deviceId: 'tab-b',
    events: [p, n, { id: randomUUID(), type: 'NOPE', occurredAt: 'soon', payload: {} }],
  });
  await settled(operator, a.batchId);
  await settled(operator, b.batchId);
  Object.assign(ids, { readings: [r1.id, r2.id], production: p.id, note: n.id, batchWithRefusal: b.batchId });
  // Bucket 0 (H0 … H0+1h): the two readings, applied after 1 s and 3 s. Bucket 2: the production record and
  // the note (at its very end), and the batch's refusal. Buckets 1 and 3: nothing.
  await place(r1.id, 5 * 60_000, 1000);
  await place(r2.id, 6 * 60_000, 3000);
  await place(p.id, 2 * HOUR + 10 * 60_000, 500);
  await place(n.id, 3 * HOUR - 1, 500);
  await sql('update sync_batches set received_at = $2 where id = $1', [
    b.batchId,
    at(2 * HOUR + 10 * 60_000),
  ]);
  await sql('update sync_batches set received_at = $2 where id = $1', [a.batchId, at(5 * 60_000)]);
});
afterAll(() => closeApp());

const totals = (s: SyncStats['series']) => (s ?? []).map((b) => b.total);

describe('GET /v1/sync/stats?bucket=', () => {
  it('puts known events in their UTC hour, with zero-count empty buckets and per-bucket latency', async () => {
    const response = await stats(`from=${iso(0)}&to=${iso(4 * HOUR)}&bucket=hour`);

    expect(response.status).toBe(200);
    const body = response.body;
    expect(body.bucket).toBe('hour');
    expect(body.series?.map((b) => b.start)).toEqual([0, 1, 2, 3].map((h) => iso(h * HOUR)));
    expect(totals(body.series)).toEqual([2, 0, 3, 0]);
    expect(body.series?.[0]).toEqual({
      start: iso(0),
      total: 2,
      counts: { pending: 0, applied: 2, duplicate: 0, conflict: 0, rejected: 0, failed: 0 },
      syncRate: 1,
      latencyMs: { p50: 2000, p95: 2900 },
    });
    expect(body.series?.[1]).toEqual({
      start: iso(HOUR),
      total: 0,
      counts: { pending: 0, applied: 0, duplicate: 0, conflict: 0, rejected: 0, failed: 0 },
      syncRate: null,
      latencyMs: { p50: null, p95: null },
    });
    expect(body.series?.[2]?.counts).toMatchObject({ applied: 2, rejected: 1 });
    expect(body.series?.[2]?.syncRate).toBeCloseTo(2 / 3, 4);
    expect(body.total).toBe(5);
  });

  it('starts at the bucket holding `from`, counting only [from, to); day buckets are UTC days', async () => {
    const part = await stats(`from=${iso(2 * HOUR + 30 * 60_000)}&to=${iso(3 * HOUR)}&bucket=hour`);
    expect(part.body.series?.map((b) => [b.start, b.total])).toEqual([[iso(2 * HOUR), 1]]);

    const day0 = Math.floor(H0 / (24 * HOUR)) * 24 * HOUR;
    const days = await stats(
      `from=${new Date(day0 - 24 * HOUR).toISOString()}&to=${new Date(day0 + 2 * 24 * HOUR).toISOString()}&bucket=day`,
    );
    expect(days.status).toBe(200);
    expect(days.body.series?.map((b) => b.start)).toEqual(
      [-1, 0, 1].map((d) => new Date(day0 + d * 24 * HOUR).toISOString()),
    );
    // Every placed event lies within 3 hours of H0: in H0's day, or the next when H0 is after 21:00 UTC.
    expect(totals(days.body.series).reduce((a, b) => a + b, 0)).toBe(5);
    expect(totals(days.body.series)[0]).toBe(0);
  });

  it('filters the series by event type, collection, device and user', async () => {
    const range = `from=${iso(0)}&to=${iso(4 * HOUR)}&bucket=hour`;
    const readings = await stats(`${range}&eventType=WELL_READING_RECORDED`);
    expect(totals(readings.body.series)).toEqual([2, 0, 0, 0]);
    expect(readings.body).toMatchObject({ eventType: 'WELL_READING_RECORDED', total: 2 });
    // With a type or collection filter, refusals at push (which have no type) are left out.
    expect(totals((await stats(`${range}&collection=production`)).body.series)).toEqual([0, 0, 1, 0]);
    expect(totals((await stats(`${range}&collection=wells`)).body.series)).toEqual([2, 0, 1, 0]);
    expect(totals((await stats(`${range}&collection=patients`)).body.series)).toEqual([0, 0, 0, 0]);
    expect(totals((await stats(`${range}&deviceId=tab-b`)).body.series)).toEqual([0, 0, 3, 0]);
    expect(totals((await stats(`${range}&userId=u-nobody`)).body.series)).toEqual([0, 0, 0, 0]);
  });

  it.each([
    ['an unknown bucket', `bucket=week`, 'bucket'],
    ['an unknown event type', `eventType=NOPE`, 'eventType'],
    ['a bad collection name', `collection=Bad-Name`, 'collection'],
  ])('refuses %s with 400 naming the parameter', async (_name, query, path) => {
    const response = await stats(query);
    expect(response.status).toBe(400);
    expect(response.body.errors).toEqual([expect.objectContaining({ path })]);
  });

  it('caps the series at 24×92 hourly buckets: an unaligned 92-day range (2209 buckets) is 400 on `bucket`', async () => {
    const to = Math.floor(Date.now() / HOUR) * HOUR - HOUR / 2;
    const from = to - 92 * 24 * HOUR;
    const refused = await stats(
      `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&bucket=hour`,
    );
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([expect.objectContaining({ path: 'bucket' })]);
    const aligned = await stats(
      `from=${new Date(from + HOUR / 2).toISOString()}&to=${new Date(to + HOUR / 2).toISOString()}&bucket=hour`,
    );
    expect(aligned.status).toBe(200);
    expect(aligned.body.series).toHaveLength(24 * 92);
    expect(totals(aligned.body.series).reduce((a, b) => a + b, 0)).toBe(aligned.body.total);
  });

  it('property: the series counts sum to the unbucketed totals, over any placement, range and filter', async () => {
    const events = [...ids.readings, ids.production, ids.note];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 48 * 60 - 1 }), { minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 47 * 60 }),
        fc.integer({ min: 1, max: 48 * 60 }),
        fc.constantFrom('hour', 'day'),
        fc.constantFrom('', '&eventType=WELL_READING_RECORDED', '&collection=production', '&deviceId=tab-a'),
        async (minutes, fromMinute, span, bucket, filter) => {
          for (const [i, id] of events.entries()) await place(id, (minutes[i] ?? 0) * 60_000 + 17, 250 * i);
          const from = fromMinute * 60_000 + 1234;
          const to = from + span * 60_000;
          const bucketed = await stats(`from=${iso(from)}&to=${iso(to)}&bucket=${bucket}${filter}`);
          const plain = await stats(`from=${iso(from)}&to=${iso(to)}${filter}`);
          expect(bucketed.status).toBe(200);
          const series = bucketed.body.series ?? [];
          expect(series).toHaveLength(bucketCount(at(from), at(to), bucket));
          const sum = (key: keyof SyncStats['counts']) => series.reduce((a, b) => a + b.counts[key], 0);
          for (const key of Object.keys(plain.body.counts) as (keyof SyncStats['counts'])[]) {
            expect(sum(key)).toBe(plain.body.counts[key]);
          }
          expect(series.reduce((a, b) => a + b.total, 0)).toBe(plain.body.total);
          expect(bucketed.body.counts).toEqual(plain.body.counts);
          expect(plain.body.series).toBeUndefined();
        },
      ),
      { numRuns: 30 },
    );
  });
});
