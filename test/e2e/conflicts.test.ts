import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { Conflict } from '../../shared/contracts/conflicts.js';
import type { BatchOutcome } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { daysAgo, maintenance, production } from '../support/events.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// The three field scenarios of the conflicts issue, over HTTP against the local Functions host.
const base = inject('hostUrl');
let t: SeededTenant;
let laptop: string;
let phone: string;
let manager: string;

beforeAll(async () => {
  t = await seededTenant('conf');
  laptop = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-laptop');
  phone = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-phone');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-boss');
});
afterAll(() => closeApp());

const api = async (token: string, method: string, path: string, body?: unknown) => {
  const response = await fetch(`${base}/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
};

/** Pushes and waits for the outcome (Prefer: wait) — the host's processor settles it. */
const pushSettled = async (token: string, deviceId: string, events: unknown[]): Promise<BatchOutcome> => {
  const response = await fetch(`${base}/v1/sync/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', prefer: 'wait=20' },
    body: JSON.stringify({ deviceId, events }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as BatchOutcome;
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
      { productionDate: date, occurredAt: '2026-01-01T06:00:00.000Z' },
    );
    const newer = production(
      t.wellId,
      { oilVolume: 120 },
      { productionDate: date, occurredAt: '2026-01-01T09:00:00.000Z' },
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
        { productionDate: date, occurredAt: '2026-02-01T06:00:00.000Z' },
      );
      const client = production(
        t.wellId,
        { oilVolume: 55 },
        { productionDate: date, occurredAt: '2026-02-01T08:00:00.000Z' },
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
          { productionDate: date, occurredAt: '2026-03-01T06:00:00.000Z' },
        ),
      ]);
      const held = await pushSettled(phone, 'phone-c5', [
        production(
          t.wellId,
          { oilVolume: 12, notes: 'b' },
          { productionDate: date, occurredAt: '2026-03-01T07:00:00.000Z' },
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
