import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullSync } from '../../functions/sync-pull.js';
import { getSyncStatus } from '../../functions/sync-status.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { PullResponse } from '../../shared/contracts/pull.js';
import type { DeviceStatus } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { daysAgo, production } from '../support/events.js';
import { call } from '../support/http.js';
import { ownSyncProcessor } from '../support/processor.js';
import { pushAccepted, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';
import { pullHorizonPassed } from '../support/wait.js';

// This file's own sync queue and processor: its batches settle whatever else the run is processing.
ownSyncProcessor('pull');

let t: SeededTenant;
let token: string;

beforeAll(async () => {
  t = await seededTenant('pull');
  token = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-puller');
  const store = getApp().referenceData;
  // 23 more active wells, each with a pump; 2 inactive wells; 3 users.
  for (let i = 0; i < 23; i += 1) {
    await store.upsertWell(t.tenant, `w-${String(i).padStart(2, '0')}`, {
      name: `Well ${i}`,
      apiNumber: `42-555-${String(i).padStart(5, '0')}`,
      latitude: 31,
      longitude: -102,
      status: 'ACTIVE',
    });
    await store.upsertEquipment(t.tenant, `eq-${String(i).padStart(2, '0')}`, {
      wellId: `w-${String(i).padStart(2, '0')}`,
      equipmentType: 'TANK',
      serialNumber: `T-${i}`,
      status: 'OPERATIONAL',
    });
  }
  await store.upsertWell(t.tenant, 'w-plugged', {
    name: 'Plugged',
    apiNumber: '42-555-99999',
    latitude: 31,
    longitude: -102,
    status: 'PLUGGED',
  });
  await store.upsertUsers(t.tenant, [
    { id: 'u-1', displayName: 'One', email: null, role: 'OPERATOR' },
    { id: 'u-2', displayName: 'Two', email: 'two@example.com', role: 'MANAGER' },
    { id: 'u-3', displayName: 'Three', email: null, role: 'ADMIN' },
  ]);
  const pushed = await pushAccepted(token, {
    deviceId: 'puller',
    events: [production(t.wellId, { oilVolume: 42 }, { productionDate: daysAgo(1) })],
  });
  await settled(token, pushed.batchId);
  // Every seeded change below the pull horizon, so a first pull's snapshot boundary lies after all of them.
  await horizon();
});
afterAll(() => closeApp());

/** Waits until a pull can see every change committed so far (support/wait.ts says why it may wait). */
const horizon = () => pullHorizonPassed(getApp().tenantPool(t.tenant));

const pull = async (query: string, as = token) => {
  const response = await call(pullSync, {
    url: `http://localhost/api/v1/sync/pull?deviceId=puller${query}`,
    token: as,
  });
  return { status: response.status, body: response.body as PullResponse & { code?: string } };
};

async function pullAll(start?: string, limit = 7): Promise<{ pages: PullResponse[]; cursor: string }> {
  const pages: PullResponse[] = [];
  let cursor = start;
  for (;;) {
    const { status, body } = await pull(
      `&limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(status).toBe(200);
    pages.push(body);
    cursor = body.nextCursor;
    if (!body.hasMore) return { pages, cursor };
  }
}

describe('GET /v1/sync/pull', () => {
  it('pages a snapshot in which each entity appears exactly once: ACTIVE wells, their equipment, users, recent production', async () => {
    const { pages } = await pullAll(undefined, 7);
    expect(pages.length).toBeGreaterThan(5);
    const wells = pages.flatMap((p) => p.wells.map((w) => w.id));
    const equipment = pages.flatMap((p) => p.equipment.map((e) => e.id));
    expect(new Set(wells).size).toBe(wells.length);
    expect(new Set(equipment).size).toBe(equipment.length);
    expect(wells).toHaveLength(24); // 23 + the seeded active well
    expect(wells).not.toContain(t.inactiveWellId);
    expect(wells).not.toContain('w-plugged');
    expect(equipment).toContain(t.equipmentId);
    expect(equipment).not.toContain(t.deletedEquipmentId);
    expect(pages.flatMap((p) => p.users.map((u) => u.id)).sort()).toEqual(['u-1', 'u-2', 'u-3']);
    const records = pages.flatMap((p) => p.production);
    expect(records).toEqual([
      expect.objectContaining({ wellId: t.wellId, oilVolume: 42, productionDate: daysAgo(1) }),
    ]);
    expect(pages[0]).toMatchObject({ tenantId: t.tenant.id, pendingEvents: 0, deleted: [] });
    for (const page of pages)
      expect(
        page.wells.length + page.equipment.length + page.users.length + page.production.length,
      ).toBeLessThanOrEqual(7);
  });

  it('then sends what changed since: upserts, tombstones for deletions, merged production', async () => {
    const { cursor } = await pullAll();
    const app = getApp();
    await app.referenceData.upsertWell(t.tenant, 'w-00', {
      name: 'Renamed',
      apiNumber: '42-555-00000',
      latitude: 31,
      longitude: -102,
      status: 'ACTIVE',
    });
    await app.referenceData.deleteEquipment(t.tenant, 'eq-01');
    const pushed = await pushAccepted(token, {
      deviceId: 'puller',
      events: [production(t.wellId, { notes: 'phone note' }, { productionDate: daysAgo(1) })],
    });
    await settled(token, pushed.batchId);
    await horizon();

    const { pages } = await pullAll(cursor, 100);
    const changed = pages[0];
    expect(changed?.wells.map((w) => [w.id, w.name])).toEqual([['w-00', 'Renamed']]);
    expect(changed?.deleted).toEqual([{ type: 'equipment', id: 'eq-01' }]);
    expect(changed?.production).toEqual([expect.objectContaining({ oilVolume: 42, notes: 'phone note' })]);
    // Caught up: the cursor stays, and nothing more comes.
    const again = await pull(`&cursor=${encodeURIComponent(pages.at(-1)?.nextCursor ?? '')}`);
    expect(again.body).toMatchObject({ hasMore: false, wells: [], equipment: [], deleted: [] });
  });

  it('refuses a tampered cursor and another tenant’s cursor with 400', async () => {
    const { cursor } = await pullAll();
    const [body, signature] = cursor.split('.');
    const decoded = JSON.parse(Buffer.from(body ?? '', 'base64url').toString()) as Record<string, unknown>;
    const forged = `${Buffer.from(JSON.stringify({ ...decoded, s: '0' })).toString('base64url')}.${signature}`;
    expect((await pull(`&cursor=${encodeURIComponent(forged)}`)).status).toBe(400);
    const other = await seededTenant('pull-other');
    const otherToken = await tokenFor(other.tenant.id, ['OPERATOR']);
    const response = await call(pullSync, {
      url: `http://localhost/api/v1/sync/pull?deviceId=x&cursor=${encodeURIComponent(cursor)}`,
      token: otherToken,
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ errors: [{ path: 'cursor' }] });
  });

  it('answers 410 RESYNC_REQUIRED for a cursor older than the change history kept', async () => {
    const { cursor } = await pullAll();
    await getApp().referenceData.upsertWell(t.tenant, 'w-02', {
      name: 'Changed again',
      apiNumber: '42-555-00002',
      latitude: 31,
      longitude: -102,
      status: 'ACTIVE',
    });
    // Retention of 0 days: everything in the log is older than that and is pruned.
    expect(await getApp().pull.prune(t.tenant, 0)).toBeGreaterThan(0);
    const gone = await pull(`&cursor=${encodeURIComponent(cursor)}`);
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ code: 'RESYNC_REQUIRED' });
    // Starting again without a cursor works.
    expect((await pull('')).status).toBe(200);
  });

  it('records lastPullAt and counts changes the device has not pulled (pendingPull)', async () => {
    await pullAll();
    const status = async () =>
      (await call(getSyncStatus, { url: 'http://localhost/api/v1/sync/status?deviceId=puller', token }))
        .body as DeviceStatus;
    const before = await status();
    expect(before.lastPullAt).not.toBeNull();
    expect(before.pendingPull).toBe(0);
    await getApp().referenceData.upsertWell(t.tenant, 'w-03', {
      name: 'New name',
      apiNumber: '42-555-00003',
      latitude: 31,
      longitude: -102,
      status: 'ACTIVE',
    });
    await horizon();
    expect((await status()).pendingPull).toBe(1);
  });
});
