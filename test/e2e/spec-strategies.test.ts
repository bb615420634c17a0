import { afterAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { Conflict } from '../../shared/contracts/conflicts.js';
import type { PullResponse } from '../../shared/contracts/pull.js';
import type { BatchOutcome } from '../../shared/contracts/sync.js';
import { api, pushSettled, until } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { daysAgo, equipmentUpdate, production } from '../support/events.js';
import { seededTenant } from '../support/tenants.js';

// SPEC "Conflicts": SERVER_WINS and CLIENT_WINS set as a tenant's strategy through
// PUT /v1/settings/conflict-strategies, applied by the host's processor; and a manager's resolution reaching
// the devices through pull. Over HTTP against the local Functions host. Strategies are tenant-wide state, so
// every test has a tenant of its own.
afterAll(() => closeApp());

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

async function setup(prefix: string) {
  const t = await seededTenant(prefix);
  return {
    t,
    laptop: await tokenFor(t.tenant.id, ['OPERATOR'], 'u-laptop'),
    phone: await tokenFor(t.tenant.id, ['OPERATOR'], 'u-phone'),
    manager: await tokenFor(t.tenant.id, ['MANAGER'], 'u-boss'),
  };
}
type Setup = Awaited<ReturnType<typeof setup>>;

const batch = async (token: string, batchId: string) =>
  (await api(token, 'GET', `v1/sync/batches/${batchId}`)).body as BatchOutcome;
const setStrategies = async (s: Setup, strategies: Record<string, string>) => {
  const response = await api(s.manager, 'PUT', 'v1/settings/conflict-strategies', { strategies });
  expect(response.status, response.text).toBe(200);
  expect(response.body.strategies).toMatchObject(strategies);
};
/** OPEN: the managers' inbox — a strategy's result stays there until reviewed (issue 16 review states). */
const storedConflicts = async (s: Setup, status: 'OPEN' | 'RESOLVED') =>
  (await api(s.manager, 'GET', `v1/conflicts?status=${status}&limit=200`)).body.conflicts as Conflict[];
const productionRow = async (s: Setup, date: string) =>
  (
    await getApp()
      .tenantPool(s.t.tenant)
      .query('select oil_volume, notes from production_records where well_id = $1 and production_date = $2', [
        s.t.wellId,
        date,
      ])
  ).rows[0];
const equipmentRow = async (s: Setup, id: string) =>
  (
    await getApp()
      .tenantPool(s.t.tenant)
      .query('select status, serial_number, model, version from equipment where id = $1', [id])
  ).rows[0];
const newPump = async (s: Setup, id: string) => {
  const put = await api(s.manager, 'PUT', `v1/equipment/${id}`, {
    wellId: s.t.wellId,
    equipmentType: 'PUMP_JACK',
    serialNumber: 'SN-0',
    status: 'OPERATIONAL',
  });
  expect(put.status, put.text).toBe(201);
};

describe('SERVER_WINS as the tenant strategy', () => {
  it('production: the later arrival loses its differing field even though it occurred later; its other fields merge', async () => {
    // Prepare
    const s = await setup('srv');
    await setStrategies(s, { PRODUCTION_LOGGED: 'SERVER_WINS' });
    const date = daysAgo(2);
    const first = production(
      s.t.wellId,
      { oilVolume: 100 },
      { productionDate: date, occurredAt: minutesAgo(30) },
    );
    const second = production(
      s.t.wellId,
      { oilVolume: 120, notes: 'choke changed' },
      { productionDate: date, occurredAt: minutesAgo(10) },
    );
    // Act
    const a = await pushSettled(s.laptop, 'laptop-s', [first]);
    const b = await pushSettled(s.phone, 'phone-s', [second]);
    // Assess: under LWW the newer 120 would win; here the server's 100 stays.
    expect(a.events[0]).toEqual({ eventId: first.id, status: 'APPLIED' });
    expect(b.events[0]).toMatchObject({
      eventId: second.id,
      status: 'CONFLICT',
      conflict: {
        fields: ['oilVolume'],
        resolution: 'SERVER_WINS',
        serverValue: { oilVolume: 100 },
        clientValue: { oilVolume: 120 },
      },
    });
    expect(await productionRow(s, date)).toEqual({ oil_volume: 100, notes: 'choke changed' });
    expect((await batch(s.laptop, a.batchId)).events[0]?.status).toBe('APPLIED'); // the first is not flipped
    const stored = (await storedConflicts(s, 'OPEN')).filter((c) => c.eventId === second.id);
    expect(stored).toEqual([
      expect.objectContaining({
        id: b.events[0]?.conflict?.conflictId,
        recordType: 'PRODUCTION',
        otherEventId: first.id,
        fields: ['oilVolume'],
        serverValue: { oilVolume: 100 },
        clientValue: { oilVolume: 120 },
        resolution: 'SERVER_WINS',
        automaticResolution: 'SERVER_WINS',
        status: 'OPEN',
      }),
    ]);
  });

  it('equipment: a later edit from the same base loses to the applied one; EQUIPMENT_UPDATED only', async () => {
    const s = await setup('srv-eq');
    await setStrategies(s, { EQUIPMENT_UPDATED: 'SERVER_WINS' });
    await newPump(s, 'pump-s');
    const first = equipmentUpdate('pump-s', 1, { status: 'FAILED' }, minutesAgo(30));
    const second = equipmentUpdate('pump-s', 1, { status: 'MAINTENANCE', model: 'M-320' }, minutesAgo(10));
    expect((await pushSettled(s.laptop, 'laptop-e', [first])).events[0]?.status).toBe('APPLIED');
    const b = await pushSettled(s.phone, 'phone-e', [second]);
    expect(b.events[0]).toMatchObject({
      status: 'CONFLICT',
      conflict: {
        fields: ['status'],
        resolution: 'SERVER_WINS',
        serverValue: { status: 'FAILED' },
        clientValue: { status: 'MAINTENANCE' },
      },
    });
    expect(await equipmentRow(s, 'pump-s')).toMatchObject({ status: 'FAILED', model: 'M-320', version: 3 });
    // Production in the same tenant is still LWW: the newer write wins there.
    const date = daysAgo(3);
    await pushSettled(s.laptop, 'laptop-e', [
      production(s.t.wellId, { oilVolume: 5 }, { productionDate: date, occurredAt: minutesAgo(10) }),
    ]);
    await pushSettled(s.phone, 'phone-e', [
      production(s.t.wellId, { oilVolume: 6 }, { productionDate: date, occurredAt: minutesAgo(5) }),
    ]);
    expect(await productionRow(s, date)).toMatchObject({ oil_volume: 6 });
  });
});

describe('CLIENT_WINS as the tenant strategy', () => {
  it('production: the later arrival overwrites even though it occurred earlier; the conflict names what it replaced', async () => {
    const s = await setup('cli');
    await setStrategies(s, { PRODUCTION_LOGGED: 'CLIENT_WINS' });
    const date = daysAgo(2);
    const first = production(
      s.t.wellId,
      { oilVolume: 100 },
      { productionDate: date, occurredAt: minutesAgo(10) },
    );
    const second = production(
      s.t.wellId,
      { oilVolume: 80 },
      { productionDate: date, occurredAt: minutesAgo(30) },
    );
    const a = await pushSettled(s.laptop, 'laptop-c', [first]);
    const b = await pushSettled(s.phone, 'phone-c', [second]);
    // Under LWW the newer 100 would stay; here the arriving client's 80 wins.
    expect(b.events[0]).toMatchObject({
      eventId: second.id,
      status: 'CONFLICT',
      conflict: {
        fields: ['oilVolume'],
        resolution: 'CLIENT_WINS',
        serverValue: { oilVolume: 100 },
        clientValue: { oilVolume: 80 },
      },
    });
    expect(await productionRow(s, date)).toMatchObject({ oil_volume: 80 });
    expect((await batch(s.laptop, a.batchId)).events[0]).toEqual({ eventId: first.id, status: 'APPLIED' });
    const stored = (await storedConflicts(s, 'OPEN')).filter((c) => c.eventId === second.id);
    expect(stored).toEqual([
      expect.objectContaining({
        otherEventId: first.id,
        resolution: 'CLIENT_WINS',
        serverValue: { oilVolume: 100 },
        clientValue: { oilVolume: 80 },
      }),
    ]);
  });

  it('equipment: a later edit from the same base overwrites the applied one', async () => {
    const s = await setup('cli-eq');
    await setStrategies(s, { EQUIPMENT_UPDATED: 'CLIENT_WINS' });
    await newPump(s, 'pump-c');
    const first = equipmentUpdate('pump-c', 1, { serialNumber: 'SN-NEW' }, minutesAgo(10));
    const second = equipmentUpdate('pump-c', 1, { serialNumber: 'SN-OLD' }, minutesAgo(30));
    expect((await pushSettled(s.laptop, 'laptop-ce', [first])).events[0]?.status).toBe('APPLIED');
    const b = await pushSettled(s.phone, 'phone-ce', [second]);
    expect(b.events[0]).toMatchObject({
      status: 'CONFLICT',
      conflict: {
        resolution: 'CLIENT_WINS',
        serverValue: { serialNumber: 'SN-NEW' },
        clientValue: { serialNumber: 'SN-OLD' },
      },
    });
    expect(await equipmentRow(s, 'pump-c')).toMatchObject({ serial_number: 'SN-OLD', version: 3 });
  });
});

/** A device's view: follows nextCursor until hasMore is false, collecting every page. */
async function follow(token: string, deviceId: string, cursor?: string) {
  const pages: PullResponse[] = [];
  for (;;) {
    const query = `v1/sync/pull?deviceId=${deviceId}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const response = await api(token, 'GET', query);
    expect(response.status, response.text).toBe(200);
    const page = response.body as PullResponse;
    pages.push(page);
    cursor = page.nextCursor;
    if (!page.hasMore) return { pages, cursor };
  }
}

describe("a manager's resolution reaches the devices through pull", () => {
  it('MANUAL production and equipment conflicts, resolved CLIENT_WINS and MERGED, arrive in a device’s delta pull', async () => {
    // Prepare: two held conflicts, and a third device that has pulled everything since.
    const s = await setup('res');
    await setStrategies(s, { PRODUCTION_LOGGED: 'MANUAL', EQUIPMENT_UPDATED: 'MANUAL' });
    await newPump(s, 'pump-r');
    const date = daysAgo(2);
    await pushSettled(s.laptop, 'laptop-r', [
      production(s.t.wellId, { oilVolume: 50 }, { productionDate: date, occurredAt: minutesAgo(30) }),
      equipmentUpdate('pump-r', 1, { status: 'FAILED' }, minutesAgo(30)),
    ]);
    const clientProduction = production(
      s.t.wellId,
      { oilVolume: 55 },
      { productionDate: date, occurredAt: minutesAgo(20) },
    );
    const clientEquipment = equipmentUpdate('pump-r', 1, { status: 'MAINTENANCE' }, minutesAgo(20));
    const held = await pushSettled(s.phone, 'phone-r', [clientProduction, clientEquipment]);
    const conflictOf = (id: string) => held.events.find((e) => e.eventId === id)?.conflict;
    const productionConflict = conflictOf(clientProduction.id)?.conflictId;
    const equipmentConflict = conflictOf(clientEquipment.id)?.conflictId;
    expect(held.events.map((e) => e.conflict?.resolution)).toEqual(['PENDING_REVIEW', 'PENDING_REVIEW']);
    const reader = await tokenFor(s.t.tenant.id, ['OPERATOR'], 'u-reader');
    const before = await follow(reader, 'tablet-r');
    const seen = before.pages.flatMap((p) => p.production).find((p) => p.productionDate === date);
    expect(seen).toMatchObject({ oilVolume: 50 }); // the server's value while the conflict is held
    // Act
    const resolvedProduction = await api(s.manager, 'POST', `v1/conflicts/${productionConflict}/resolve`, {
      resolution: 'CLIENT_WINS',
    });
    const resolvedEquipment = await api(s.manager, 'POST', `v1/conflicts/${equipmentConflict}/resolve`, {
      resolution: 'MERGED',
      merged: { status: 'OPERATIONAL' },
    });
    expect([resolvedProduction.status, resolvedEquipment.status]).toEqual([200, 200]);
    // Assess: the reader's next pull from its cursor brings both resolved records (waiting for the change
    // log's horizon, not for a fixed time), and only them.
    let cursor = before.cursor;
    const delta = {
      production: [] as PullResponse['production'],
      equipment: [] as PullResponse['equipment'],
    };
    await until('the resolutions in the delta pull', async () => {
      const next = await follow(reader, 'tablet-r', cursor);
      cursor = next.cursor;
      delta.production.push(...next.pages.flatMap((p) => p.production));
      delta.equipment.push(...next.pages.flatMap((p) => p.equipment));
      return (
        delta.production.some((p) => p.oilVolume === 55) &&
        delta.equipment.some((e) => e.status === 'OPERATIONAL')
      );
    });
    expect(delta.production.at(-1)).toMatchObject({
      wellId: s.t.wellId,
      productionDate: date,
      oilVolume: 55,
    });
    expect(delta.equipment.at(-1)).toMatchObject({ id: 'pump-r', status: 'OPERATIONAL', version: 3 });
    expect(new Set(delta.production.map((p) => p.productionDate))).toEqual(new Set([date]));
    expect(new Set(delta.equipment.map((e) => e.id))).toEqual(new Set(['pump-r']));
  });
});
