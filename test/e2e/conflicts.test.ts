import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { pushSettled } from '../support/api.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { Conflict } from '../../shared/contracts/conflicts.js';
import type { BatchOutcome } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { daysAgo, equipmentUpdate, maintenance, production } from '../support/events.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// The three field scenarios of the conflicts issue, over HTTP against the local Functions host.
const base = inject('hostUrl');
let t: SeededTenant;
let laptop: string;
let phone: string;
let manager: string;
let third: string;

beforeAll(async () => {
  t = await seededTenant('conf');
  laptop = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-laptop');
  phone = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-phone');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-boss');
  third = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-third');
});
afterAll(() => closeApp());

/**
 * A time n minutes before now. Event times come from the clock, never written out: a fixed date drifts out
 * of what the server accepts (more than 5 minutes in its future is CLOCK_SKEW) and out of order with the
 * stamps the server itself writes now (a manager's resolution).
 */
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

const api = async (token: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

const batch = async (token: string, batchId: string) =>
  (await api(token, 'GET', `v1/sync/batches/${batchId}`)).body as BatchOutcome;

const record = async (productionDate: string) =>
  (
    await getApp()
      .tenantPool(t.tenant)
      .query(
        'select oil_volume, gas_volume, notes from production_records where well_id = $1 and production_date = $2',
        [t.wellId, productionDate],
      )
  ).rows[0];

describe('conflicts, end to end', () => {
  it('same production date on two devices: the newest wins and the older reports CONFLICT with both values', async () => {
    const date = daysAgo(2);
    const older = production(
      t.wellId,
      { oilVolume: 100 },
      { productionDate: date, occurredAt: minutesAgo(240) },
    );
    const newer = production(
      t.wellId,
      { oilVolume: 120 },
      { productionDate: date, occurredAt: minutesAgo(60) },
    );
    const first = await pushSettled(laptop, 'laptop-c1', [older]);
    expect(first.events[0]?.status).toBe('APPLIED');
    const second = await pushSettled(phone, 'phone-c1', [newer]);
    expect(second.events[0]?.status).toBe('APPLIED');
    // The older event, applied first, is now reported as the loser.
    const olderNow = (await batch(laptop, first.batchId)).events[0];
    expect(olderNow).toMatchObject({
      status: 'CONFLICT',
      conflict: {
        fields: ['oilVolume'],
        resolution: 'SERVER_WINS',
        serverValue: { oilVolume: 120 },
        clientValue: { oilVolume: 100 },
      },
    });
    expect(await record(date)).toMatchObject({ oil_volume: 120 });

    // Arrival order reversed on another day: the same result.
    const date2 = daysAgo(3);
    const newer2 = {
      ...newer,
      id: crypto.randomUUID(),
      payload: { ...newer.payload, productionDate: date2 },
    };
    const older2 = {
      ...older,
      id: crypto.randomUUID(),
      payload: { ...older.payload, productionDate: date2 },
    };
    expect((await pushSettled(phone, 'phone-c1', [newer2])).events[0]?.status).toBe('APPLIED');
    const late = await pushSettled(laptop, 'laptop-c1', [older2]);
    expect(late.events[0]).toMatchObject({
      status: 'CONFLICT',
      conflict: { serverValue: { oilVolume: 120 }, clientValue: { oilVolume: 100 } },
    });
    expect(await record(date2)).toMatchObject({ oil_volume: 120 });
  });

  it('maintenance on equipment deleted while the device was offline is REJECTED EQUIPMENT_DELETED', async () => {
    const put = await api(manager, 'PUT', 'v1/equipment/pump-doomed', {
      wellId: t.wellId,
      equipmentType: 'COMPRESSOR',
      serialNumber: 'C-1',
      status: 'OPERATIONAL',
    });
    expect(put.status).toBe(201);
    expect((await api(manager, 'DELETE', 'v1/equipment/pump-doomed')).status).toBe(204);
    const outcome = await pushSettled(laptop, 'laptop-c2', [maintenance('pump-doomed')]);
    expect(outcome.events[0]).toMatchObject({
      status: 'REJECTED',
      error: { code: 'EQUIPMENT_DELETED', retryable: false },
    });
  });

  it('fields only one side wrote merge: the laptop’s volumes and the phone’s notes', async () => {
    const date = daysAgo(4);
    const volumes = production(t.wellId, { oilVolume: 80, gasVolume: 210 }, { productionDate: date });
    const notes = production(t.wellId, { notes: 'separator dump valve sticking' }, { productionDate: date });
    const [a, b] = await Promise.all([
      pushSettled(laptop, 'laptop-c3', [volumes]),
      pushSettled(phone, 'phone-c3', [notes]),
    ]);
    expect([a.events[0]?.status, b.events[0]?.status]).toEqual(['APPLIED', 'APPLIED']);
    expect(await record(date)).toEqual({
      oil_volume: 80,
      gas_volume: 210,
      notes: 'separator dump valve sticking',
    });
  });

  it('MANUAL holds the conflict for a manager; CLIENT_WINS changes the record; operators cannot review', async () => {
    expect(
      (
        await api(laptop, 'PUT', 'v1/settings/conflict-strategies', {
          strategies: { PRODUCTION_LOGGED: 'MANUAL' },
        })
      ).status,
    ).toBe(403);
    const set = await api(manager, 'PUT', 'v1/settings/conflict-strategies', {
      strategies: { PRODUCTION_LOGGED: 'MANUAL' },
    });
    expect(set).toMatchObject({ status: 200, body: { strategies: { PRODUCTION_LOGGED: 'MANUAL' } } });
    try {
      const date = daysAgo(5);
      const server = production(
        t.wellId,
        { oilVolume: 50 },
        { productionDate: date, occurredAt: minutesAgo(180) },
      );
      const client = production(
        t.wellId,
        { oilVolume: 55 },
        { productionDate: date, occurredAt: minutesAgo(60) },
      );
      await pushSettled(laptop, 'laptop-c4', [server]);
      const held = await pushSettled(phone, 'phone-c4', [client]);
      expect(held.events[0]).toMatchObject({
        status: 'CONFLICT',
        conflict: { resolution: 'PENDING_REVIEW' },
      });
      expect(await record(date)).toMatchObject({ oil_volume: 50 }); // the server's value stays meanwhile

      const status = await api(phone, 'GET', 'v1/sync/status?deviceId=phone-c4');
      expect(status.body).toMatchObject({ openConflicts: 1 });
      expect((await api(laptop, 'GET', 'v1/conflicts')).status).toBe(403);
      const open = await api(manager, 'GET', 'v1/conflicts?status=OPEN');
      const conflict = (open.body.conflicts as Conflict[]).find((c) => c.eventId === client.id);
      expect(conflict).toMatchObject({
        status: 'OPEN',
        fields: ['oilVolume'],
        serverValue: { oilVolume: 50 },
        clientValue: { oilVolume: 55 },
      });
      const id = conflict?.id ?? '';

      expect(
        (await api(phone, 'POST', `v1/conflicts/${id}/resolve`, { resolution: 'CLIENT_WINS' })).status,
      ).toBe(403);
      const badMerge = await api(manager, 'POST', `v1/conflicts/${id}/resolve`, {
        resolution: 'MERGED',
        merged: { oilVolume: -1 },
      });
      expect(badMerge).toMatchObject({ status: 400, body: { errors: [{ path: 'merged.oilVolume' }] } });
      const resolved = await api(manager, 'POST', `v1/conflicts/${id}/resolve`, {
        resolution: 'CLIENT_WINS',
      });
      expect(resolved).toMatchObject({
        status: 200,
        body: { status: 'RESOLVED', resolution: 'CLIENT_WINS', resolvedBy: 'u-boss' },
      });
      expect(await record(date)).toMatchObject({ oil_volume: 55 });
      expect(
        (await api(manager, 'POST', `v1/conflicts/${id}/resolve`, { resolution: 'SERVER_WINS' })).status,
      ).toBe(409);
      expect((await batch(phone, held.batchId)).events[0]?.conflict?.resolution).toBe('CLIENT_WINS');
      expect((await api(phone, 'GET', 'v1/sync/status?deviceId=phone-c4')).body).toMatchObject({
        openConflicts: 0,
      });
    } finally {
      await api(manager, 'PUT', 'v1/settings/conflict-strategies', {
        strategies: { PRODUCTION_LOGGED: 'LWW' },
      });
    }
  });

  it('a MERGED resolution writes the manager’s values', async () => {
    await api(manager, 'PUT', 'v1/settings/conflict-strategies', {
      strategies: { PRODUCTION_LOGGED: 'MANUAL' },
    });
    try {
      const date = daysAgo(6);
      await pushSettled(laptop, 'laptop-c5', [
        production(
          t.wellId,
          { oilVolume: 10, notes: 'a' },
          { productionDate: date, occurredAt: minutesAgo(120) },
        ),
      ]);
      const held = await pushSettled(phone, 'phone-c5', [
        production(
          t.wellId,
          { oilVolume: 12, notes: 'b' },
          { productionDate: date, occurredAt: minutesAgo(60) },
        ),
      ]);
      const id = held.events[0]?.conflict?.conflictId ?? '';
      const merged = await api(manager, 'POST', `v1/conflicts/${id}/resolve`, {
        resolution: 'MERGED',
        merged: { oilVolume: 11, notes: 'a; b' },
      });
      expect(merged).toMatchObject({
        status: 200,
        body: { resolution: 'MERGED', resolvedValue: { oilVolume: 11, notes: 'a; b' } },
      });
      expect(await record(date)).toMatchObject({ oil_volume: 11, notes: 'a; b' });
    } finally {
      await api(manager, 'PUT', 'v1/settings/conflict-strategies', {
        strategies: { PRODUCTION_LOGGED: 'LWW' },
      });
    }
  });
});

/** The records as a device sees them: every page of a snapshot pull. */
const pulled = async (token: string, deviceId: string) => {
  const out = { production: [] as Record<string, unknown>[], equipment: [] as Record<string, unknown>[] };
  let cursor = '';
  for (;;) {
    const page = await api(token, 'GET', `v1/sync/pull?deviceId=${deviceId}&limit=1000${cursor}`);
    expect(page.status).toBe(200);
    out.production.push(...page.body.production);
    out.equipment.push(...page.body.equipment);
    if (!page.body.hasMore) return out;
    cursor = `&cursor=${encodeURIComponent(page.body.nextCursor)}`;
  }
};
const pulledProduction = async (productionDate: string) =>
  (await pulled(laptop, 'laptop-pull')).production.find(
    (p) => p.wellId === t.wellId && p.productionDate === productionDate,
  );
const pulledEquipment = async (id: string) =>
  (await pulled(laptop, 'laptop-pull')).equipment.find((e) => e.id === id);

const conflicts = async (status: 'OPEN' | 'RESOLVED' | 'ACKNOWLEDGED') =>
  (await api(manager, 'GET', `v1/conflicts?status=${status}&limit=200`)).body.conflicts as Conflict[];

const withStrategies = async (strategies: Record<string, string>, body: () => Promise<void>) => {
  expect((await api(manager, 'PUT', 'v1/settings/conflict-strategies', { strategies })).status).toBe(200);
  try {
    await body();
  } finally {
    await api(manager, 'PUT', 'v1/settings/conflict-strategies', {
      strategies: Object.fromEntries(Object.keys(strategies).map((k) => [k, 'LWW'])),
    });
  }
};

const newPump = async (id: string) => {
  const put = await api(manager, 'PUT', `v1/equipment/${id}`, {
    wellId: t.wellId,
    equipmentType: 'PUMP_JACK',
    serialNumber: 'SN-0',
    status: 'OPERATIONAL',
  });
  expect(put.status).toBe(201);
  expect(put.body.version).toBe(1);
};

describe('a resolution after another one on the same record (issue 10, item 13)', () => {
  it.each([
    ['SERVER_WINS', 7, undefined, 200],
    ['CLIENT_WINS', 8, undefined, 300],
    ['MERGED', 9, { oilVolume: 250 }, 250],
  ] as const)(
    'C1 CLIENT_WINS, then C2 %s: C2 records the value the record keeps',
    async (resolution, days, merged, expected) => {
      await withStrategies({ PRODUCTION_LOGGED: 'MANUAL' }, async () => {
        const date = daysAgo(days);
        const on = (oilVolume: number, minutes: number) =>
          production(t.wellId, { oilVolume }, { productionDate: date, occurredAt: minutesAgo(minutes) });
        expect((await pushSettled(laptop, `d1-${days}`, [on(100, 30)])).events[0]?.status).toBe('APPLIED');
        const c1 = (await pushSettled(phone, `d2-${days}`, [on(200, 20)])).events[0]?.conflict;
        const c2 = (await pushSettled(third, `d3-${days}`, [on(300, 10)])).events[0]?.conflict;
        expect(c1).toMatchObject({ resolution: 'PENDING_REVIEW', serverValue: { oilVolume: 100 } });
        expect(c2).toMatchObject({ resolution: 'PENDING_REVIEW', serverValue: { oilVolume: 100 } });

        const first = await api(manager, 'POST', `v1/conflicts/${c1?.conflictId}/resolve`, {
          resolution: 'CLIENT_WINS',
        });
        expect(first).toMatchObject({ status: 200, body: { resolvedValue: { oilVolume: 200 } } });
        expect(await pulledProduction(date)).toMatchObject({ oilVolume: 200 });

        const second = await api(manager, 'POST', `v1/conflicts/${c2?.conflictId}/resolve`, {
          resolution,
          ...(merged ? { merged } : {}),
        });
        expect(second).toMatchObject({
          status: 200,
          body: { status: 'RESOLVED', resolution, resolvedValue: { oilVolume: expected } },
        });
        // The record and both stored conflicts, as the API shows them, agree.
        expect(await pulledProduction(date)).toMatchObject({ oilVolume: expected });
        const stored = await conflicts('RESOLVED');
        expect(stored.find((c) => c.id === c1?.conflictId)).toMatchObject({
          resolution: 'CLIENT_WINS',
          resolvedValue: { oilVolume: 200 },
        });
        expect(stored.find((c) => c.id === c2?.conflictId)).toMatchObject({
          resolution,
          serverValue: { oilVolume: 100 }, // what was shown when the conflict was recorded
          resolvedValue: { oilVolume: expected },
        });
      });
    },
  );
});

describe('a resolution after another one on the same equipment (issue 10, item 13)', () => {
  it('C1 CLIENT_WINS, then C2 SERVER_WINS records the status the equipment keeps', async () => {
    await newPump('pump-twice');
    await withStrategies({ EQUIPMENT_UPDATED: 'MANUAL' }, async () => {
      const on = (status: string, minutes: number) =>
        equipmentUpdate('pump-twice', 1, { status }, minutesAgo(minutes));
      expect((await pushSettled(laptop, 'e-d1', [on('FAILED', 30)])).events[0]?.status).toBe('APPLIED');
      const c1 = (await pushSettled(phone, 'e-d2', [on('MAINTENANCE', 20)])).events[0]?.conflict;
      const c2 = (await pushSettled(third, 'e-d3', [on('OPERATIONAL', 10)])).events[0]?.conflict;
      expect([c1?.resolution, c2?.resolution]).toEqual(['PENDING_REVIEW', 'PENDING_REVIEW']);
      await api(manager, 'POST', `v1/conflicts/${c1?.conflictId}/resolve`, { resolution: 'CLIENT_WINS' });
      const second = await api(manager, 'POST', `v1/conflicts/${c2?.conflictId}/resolve`, {
        resolution: 'SERVER_WINS',
      });
      expect(second).toMatchObject({ status: 200, body: { resolvedValue: { status: 'MAINTENANCE' } } });
      expect(await pulledEquipment('pump-twice')).toMatchObject({ status: 'MAINTENANCE' });
    });
  });
});

describe('a device correcting its own value is not a conflict (issue 10, item 13)', () => {
  it('MANUAL, production: D1 writes 100, then 300 — applied, nothing held', async () => {
    await withStrategies({ PRODUCTION_LOGGED: 'MANUAL' }, async () => {
      const date = daysAgo(10);
      const first = production(
        t.wellId,
        { oilVolume: 100 },
        { productionDate: date, occurredAt: minutesAgo(30) },
      );
      const fix = production(
        t.wellId,
        { oilVolume: 300 },
        { productionDate: date, occurredAt: minutesAgo(20) },
      );
      expect((await pushSettled(laptop, 'self-1', [first])).events[0]?.status).toBe('APPLIED');
      expect((await pushSettled(laptop, 'self-1', [fix])).events[0]).toEqual(
        expect.objectContaining({ status: 'APPLIED' }),
      );
      expect(await pulledProduction(date)).toMatchObject({ oilVolume: 300 });
      const all = [...(await conflicts('OPEN')), ...(await conflicts('RESOLVED'))];
      expect(all.filter((c) => [first.id, fix.id].includes(c.eventId))).toEqual([]);

      // Another device after the correction is still held, against the corrected value.
      const other = production(
        t.wellId,
        { oilVolume: 250 },
        { productionDate: date, occurredAt: minutesAgo(10) },
      );
      expect((await pushSettled(phone, 'self-2', [other])).events[0]).toMatchObject({
        status: 'CONFLICT',
        conflict: {
          resolution: 'PENDING_REVIEW',
          serverValue: { oilVolume: 300 },
          clientValue: { oilVolume: 250 },
        },
      });
    });
  });

  it('MANUAL, equipment: D1 sets FAILED, then MAINTENANCE from the same base — applied', async () => {
    await newPump('pump-self');
    await withStrategies({ EQUIPMENT_UPDATED: 'MANUAL' }, async () => {
      const first = equipmentUpdate('pump-self', 1, { status: 'FAILED' }, minutesAgo(30));
      const fix = equipmentUpdate('pump-self', 1, { status: 'MAINTENANCE' }, minutesAgo(20));
      const [a, b] = [
        await pushSettled(laptop, 'self-3', [first]),
        await pushSettled(laptop, 'self-3', [fix]),
      ];
      expect([a.events[0]?.status, b.events[0]?.status]).toEqual(['APPLIED', 'APPLIED']);
      expect(await pulledEquipment('pump-self')).toMatchObject({ status: 'MAINTENANCE', version: 3 });
      expect((await conflicts('OPEN')).filter((c) => c.recordKey === 'pump-self')).toEqual([]);
    });
  });
});

describe('versioned edits from two devices, in both arrival orders (issue 10, item 3)', () => {
  it.each([
    ['status', 'FAILED', 'MAINTENANCE'],
    ['serialNumber', 'SN-C', 'SN-A'],
    ['notes', 'belt slipping', 'belt replaced'],
  ] as const)('%s: the older edit is the CONFLICT loser whichever arrives first', async (field, c, a) => {
    const seen: unknown[] = [];
    for (const order of ['C first', 'A first'] as const) {
      const id = `pump-${field.toLowerCase()}-${order === 'C first' ? 'c' : 'a'}`;
      await newPump(id);
      const C = equipmentUpdate(id, 1, { [field]: c }, minutesAgo(20));
      const A = equipmentUpdate(id, 1, { [field]: a }, minutesAgo(10));
      const pushes =
        order === 'C first'
          ? [await pushSettled(laptop, 'device-c', [C]), await pushSettled(phone, 'device-a', [A])]
          : [await pushSettled(phone, 'device-a', [A]), await pushSettled(laptop, 'device-c', [C])];
      const [cBatch, aBatch] = order === 'C first' ? pushes : [pushes[1], pushes[0]];
      const cNow = (await batch(laptop, cBatch?.batchId ?? '')).events[0];
      const aNow = (await batch(phone, aBatch?.batchId ?? '')).events[0];
      expect(aNow?.status).toBe('APPLIED');
      expect(cNow).toMatchObject({
        status: 'CONFLICT',
        conflict: {
          fields: [field],
          resolution: 'SERVER_WINS',
          serverValue: { [field]: a },
          clientValue: { [field]: c },
        },
      });
      expect(await pulledEquipment(id)).toMatchObject({ [field]: a });
      // Settled by the strategy and not reviewed yet: in the managers' inbox (OPEN).
      const stored = (await conflicts('OPEN')).filter((x) => x.recordKey === id);
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ eventId: C.id, otherEventId: A.id });
      const { recordType, fields, serverValue, clientValue, resolution, status } = stored[0] as Conflict;
      seen.push({ recordType, fields, serverValue, clientValue, resolution, status });
    }
    expect(seen[1]).toEqual(seen[0]);
  });
});
