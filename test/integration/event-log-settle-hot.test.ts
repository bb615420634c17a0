import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { acceptEvents } from '../support/accept.js';
import { until } from '../support/api.js';
import { mixedEvent } from '../support/events.js';
import { seededTenant } from '../support/tenants.js';

// Settling an event (PENDING → APPLIED, CONFLICT, DUPLICATE, REJECTED) is a heap-only update: it writes no
// entry in the event log's five indexes (tenant migrations 0002 and 0017: no index names a settled column,
// and fillfactor 50 leaves room on each page for every row's new version). At fillfactor 70 fewer than half
// of these settles were heap-only. Judged from the server's own counters (pg_stat_user_tables).
// Besides the 2000 settles, the second device's chunk relabels a few of the first device's settled rows as
// CONFLICT (the superseded ones). Those rows' pages already hold two versions each: the relabel is heap-only
// only when Postgres can prune the first chunk's dead versions, which any snapshot open in the database at
// the time (an autoanalyze, another test's query) prevents. So the claim is on the settles: at least 2000 of
// the updates are heap-only (at fillfactor 70 fewer than half were).
afterAll(() => closeApp());

it('settles two devices × 1000 mixed events (conflicts and duplicates among them) as heap-only updates', async () => {
  // Prepare: two devices log the same well and pump, so their production rows conflict.
  const seeded = await seededTenant('hot');
  const app = getApp();
  const options = (app.tenantPool(seeded.tenant) as pg.Pool & { options: pg.PoolConfig }).options;
  const batches = [];
  for (const device of ['dev-a', 'dev-b']) {
    const events = Array.from({ length: 1000 }, (_, i) => mixedEvent(i, seeded.wellId, seeded.equipmentId));
    batches.push(await acceptEvents(seeded.tenant, events, device));
  }

  // Act: the processor settles both batches (one chunk each).
  for (const { batchId, ids } of batches) await app.processor.process(seeded.tenant, batchId, ids);
  // Each backend's counters reach the shared statistics when it exits: close the app's pools first.
  await closeApp();

  // Assess
  const client = new pg.Client({ ...options });
  await client.connect();
  try {
    const read = async () =>
      (
        await client.query<{ status: string; n: number }>(
          'select status, count(*)::int as n from sync_events group by status',
        )
      ).rows;
    const settled = await read();
    expect(settled.find((r) => r.status === 'PENDING')).toBeUndefined();
    expect(settled.find((r) => r.status === 'CONFLICT')?.n ?? 0).toBeGreaterThan(0);
    let stats = { updates: 0, hot: 0 };
    await until('the settles are counted', async () => {
      const { rows } = await client.query<{ updates: number; hot: number }>(
        `select n_tup_upd::int as updates, n_tup_hot_upd::int as hot from pg_stat_user_tables
         where relname = 'sync_events'`,
      );
      stats = rows[0] ?? stats;
      return stats.updates >= 2000;
    });
    const relabels = stats.updates - 2000;
    expect(relabels).toBeGreaterThan(0);
    expect(relabels).toBeLessThan(100);
    expect(stats.hot).toBeGreaterThanOrEqual(2000);
  } finally {
    await client.end();
  }
});
