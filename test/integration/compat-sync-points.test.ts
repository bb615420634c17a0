import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { SYNC_POINTS_KEPT } from '../../shared/usecases/ports/pull.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { comparePositions } from '../../shared/sync/cursor.js';
import { freshTenant } from '../support/tenants.js';

// The sync points a compat pull hands out as a plain time (compat_sync_points, migration 0013; used by
// compat/wellpulse `lastSyncTimestamp`, docs/compat/wellpulse.md): unique per holder, found only by the same
// holder and instant, pruned with the change log; and the position a time no point stands for starts from.
let tenant: Tenant;
const holder = { dialect: 'wellpulse', userId: 'u-sp', deviceId: 'TAB-1' };
const AT = Date.parse('2026-11-30T10:00:00.000Z');

beforeAll(async () => {
  tenant = await freshTenant('sp');
});
afterAll(() => closeApp());

describe('compat sync points', () => {
  it('are unique per holder: pulls in the same millisecond get the next free ones, each found again', async () => {
    const pull = getApp().pull;
    const positions = Array.from({ length: 8 }, (_, i) => ({ xid: String(100 + i), seq: String(i) }));
    // Eight pulls of the same device at once, all asking for the same instant.
    const issued = await Promise.all(positions.map((p) => pull.issueSyncPoint(tenant, holder, AT, p)));
    expect([...issued].sort((a, b) => a - b)).toEqual(positions.map((_, i) => AT + i));
    for (const [i, at] of issued.entries()) {
      expect(await pull.findSyncPoint(tenant, holder, at)).toEqual(positions[i]);
    }
    // Another device, user or dialect at the same instant is another point.
    const other = { ...holder, deviceId: 'TAB-2' };
    expect(await pull.findSyncPoint(tenant, other, AT)).toBeUndefined();
    expect(await pull.issueSyncPoint(tenant, other, AT, { xid: '7', seq: '7' })).toBe(AT);
    expect(await pull.findSyncPoint(tenant, { ...holder, userId: 'u-other' }, AT)).toBeUndefined();
    expect(await pull.findSyncPoint(tenant, { ...holder, dialect: 'arxos' }, AT)).toBeUndefined();
    expect(await pull.findSyncPoint(tenant, holder, AT + 8)).toBeUndefined();
  });

  it('are pruned beyond the newest of each holder and past the retention', async () => {
    const pull = getApp().pull;
    const busy = { ...holder, deviceId: 'BUSY' };
    for (let i = 0; i < SYNC_POINTS_KEPT + 5; i += 1) {
      await pull.issueSyncPoint(tenant, busy, AT + i * 60_000, { xid: '1', seq: String(i) });
    }
    const old = { ...holder, deviceId: 'OLD' };
    await pull.issueSyncPoint(tenant, old, AT, { xid: '1', seq: '1' });
    await getApp()
      .tenantPool(tenant)
      .query("update compat_sync_points set created_at = now() - interval '31 days' where device_id = 'OLD'");

    await pull.prune(tenant, 30);

    // The busy device keeps its newest points; the oldest five are gone; the old one is past retention.
    expect(await pull.findSyncPoint(tenant, busy, AT + (SYNC_POINTS_KEPT + 4) * 60_000)).toBeDefined();
    expect(await pull.findSyncPoint(tenant, busy, AT + 5 * 60_000)).toBeDefined();
    expect(await pull.findSyncPoint(tenant, busy, AT + 4 * 60_000)).toBeUndefined();
    expect(await pull.findSyncPoint(tenant, old, AT)).toBeUndefined();
    // The first test's points (eight, fewer than kept, recent) stay.
    expect(await pull.findSyncPoint(tenant, holder, AT)).toBeDefined();
  });

  it('a time no point stands for starts before every change begun since, and before running transactions', async () => {
    const app = getApp();
    const pool = app.tenantPool(tenant);
    const since = new Date(Date.now() - 1000);
    // A transaction still running when the position is taken (it began, and wrote, after `since`).
    const held = await pool.connect();
    try {
      await held.query('begin');
      await held.query(
        "insert into wells (id, name, api_number, latitude, longitude, status) values ('sp-held', 'Held', '42-sp-held', 31, -102, 'ACTIVE')",
      );
      const { rows } = await held.query<{ xid: string }>('select pg_current_xact_id()::text as xid');
      await app.referenceData.upsertWell(tenant, 'sp-done', {
        name: 'Done',
        apiNumber: '42-sp-done',
        latitude: 31,
        longitude: -102,
        status: 'ACTIVE',
      });
      const position = await app.pull.positionBefore(tenant, since);
      // Before the running transaction's rows…
      expect(comparePositions(position, { xid: rows[0]?.xid ?? '', seq: '0' })).toBeLessThan(0);
      await held.query('commit');
    } finally {
      held.release();
    }
    // …and a delta from it sends both wells.
    const changes = await app.pull.positionBefore(tenant, since);
    const page = await app.pull.changesPage(tenant, changes, 100, {
      target: { collections: [], scopes: null },
      watch: { collections: [], scopes: null },
    });
    expect(page.wells.map((w) => w.id).sort()).toEqual(['sp-done', 'sp-held']);
    // A time after every change: nothing.
    const later = await app.pull.positionBefore(tenant, new Date(Date.now() + 60_000));
    const none = await app.pull.changesPage(tenant, later, 100, {
      target: { collections: [], scopes: null },
      watch: { collections: [], scopes: null },
    });
    expect(none.wells).toEqual([]);
  });

  it('a time no point stands for starts at the numerically earliest position, however the xids read as text', async () => {
    // Found by a flaky e2e run: once the cluster's transaction ids passed a power of ten (828 → 1006), the
    // running-transactions boundary ('1006') sorted before the first change since ('828') as text, and a delta
    // from such a time skipped every change. Prepare: a change whose xid has fewer digits than the boundary but
    // reads as larger text (the boundary moves only up, so it stays so).
    const own = await freshTenant('spx');
    const pool = getApp().tenantPool(own);
    const boundary = async () =>
      (
        await pool.query<{ x: string }>(
          'select (pg_snapshot_xmin(pg_current_snapshot())::text::numeric - 1)::text as x',
        )
      ).rows[0]?.x ?? '';
    // A boundary of d digits starting with d-1 nines has no shorter xid sorting after it: move past it.
    while (/^9+\d$/.test(await boundary())) await pool.query('select pg_current_xact_id()');
    const b = await boundary();
    const early = '9'.repeat(b.length - 1);
    expect(BigInt(early)).toBeLessThan(BigInt(b));
    expect(early > b).toBe(true);
    const { rows } = await pool.query<{ seq: string }>(
      "insert into change_log (xid, entity_type, entity_id, op) values ($1::xid8, 'well', 'spx-early', 'UPSERT') returning seq::text",
      [early],
    );

    // Act.
    const position = await getApp().pull.positionBefore(own, new Date(Date.now() - 60_000));

    // Assess: just before that change, not after the boundary.
    expect(position).toEqual({ xid: early, seq: String(BigInt(rows[0]?.seq ?? '0') - 1n) });
  });
});
