import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { WellosSyncResponse } from '../../shared/compat/wellos/mapping.js';
import type { ProductionEntity } from '../../shared/contracts/pull.js';
import type { DeviceList } from '../../shared/contracts/manager.js';
import type { BatchOutcome, DeviceStatus } from '../../shared/contracts/sync.js';
import { api, pushSettled, until } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { daysAgo, production } from '../support/events.js';
import { holdProcessing } from '../support/hold.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// Document 000 (WellOS, "Offline-First Batch Sync Pattern") served at /api/compat/wellos, over HTTP against the
// local Functions host: a field client as the document's sync service behaves — events kept locally with a
// `synced` flag, all unsynced ones sent to POST {apiUrl}/field-data/sync with the tenant, the device info and
// X-Device-Id, `syncedEventIds` marked synced, `conflicts` and `errors` shown — and v1 devices beside it.
const SYNC = 'compat/wellos/field-data/sync';
let t: SeededTenant;
let operator: string;
let v1Operator: string;
let manager: string;

beforeAll(async () => {
  t = await seededTenant('wellos');
  operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-wellos');
  v1Operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-wellos-v1');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-wellos-mgr');
});
afterAll(() => closeApp());

/** One event as the document's client keeps it locally (`FieldDataEvent`). */
interface LocalEvent {
  id: string;
  type: string;
  payload: Record<string, unknown>;
  timestamp: string;
  deviceId: string;
  userId: string;
  synced: boolean;
  syncAttempts: number;
  createdAt: string;
}

/** The document's field device: a local event log and its sync (sections 1 and 4), in this test's own code. */
class FieldDevice {
  readonly events: LocalEvent[] = [];
  constructor(
    readonly deviceId: string,
    readonly token: string,
  ) {}

  /** Records an event offline; `id` defaults to a UUID v4 as the document's client makes. */
  record(
    type: string,
    payload: Record<string, unknown>,
    at = new Date(),
    id: string = randomUUID(),
  ): LocalEvent {
    const event: LocalEvent = {
      id,
      type,
      payload,
      timestamp: at.toISOString(),
      deviceId: this.deviceId,
      userId: 'operator-789',
      synced: false,
      syncAttempts: 0,
      createdAt: new Date().toISOString(),
    };
    this.events.push(event);
    return event;
  }

  unsynced = () => this.events.filter((e) => !e.synced);

  /** Sends `events` (default: every unsynced one) as the document's client does; marks syncedEventIds synced. */
  async sync(events = this.unsynced(), headers: Record<string, string> = {}) {
    const response = await api(
      this.token,
      'POST',
      SYNC,
      {
        tenantId: t.tenant.id,
        events,
        deviceInfo: { deviceId: this.deviceId, platform: 'electron', appVersion: '1.0.0' },
      },
      { 'x-device-id': this.deviceId, ...headers },
    );
    expect(response.status, response.text).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const result = response.body as WellosSyncResponse;
    // Every field the client reads is there, of its type; an event is in at most one list.
    expect(result).toEqual({
      syncedEventIds: expect.any(Array),
      conflicts: expect.any(Array),
      errors: expect.any(Array),
    });
    for (const error of result.errors) expect(error).toEqual(expect.any(String));
    for (const conflict of result.conflicts) {
      expect(conflict).toMatchObject({
        eventId: expect.any(String),
        reason: expect.any(String),
        localData: expect.any(Object),
        serverData: expect.any(Object),
      });
    }
    const listed = [...result.syncedEventIds, ...result.conflicts.map((c) => c.eventId)];
    expect(new Set(listed).size).toBe(listed.length);
    for (const id of result.syncedEventIds) {
      const local = this.events.find((e) => e.id === id);
      expect(local, `synced id ${id} is one of the device's`).toBeDefined();
      if (local) local.synced = true;
    }
    for (const e of events) if (!result.syncedEventIds.includes(e.id)) e.syncAttempts += 1;
    return result;
  }
}

/** Every production record a v1 device pulls (a first sync, followed to its end). */
async function pulledProduction(token: string, deviceId: string): Promise<ProductionEntity[]> {
  const out: ProductionEntity[] = [];
  let cursor = '';
  for (;;) {
    const page = await api(
      token,
      'GET',
      `v1/sync/pull?deviceId=${deviceId}&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    expect(page.status, page.text).toBe(200);
    const body = page.body as { production: ProductionEntity[]; nextCursor: string; hasMore: boolean };
    out.push(...body.production);
    cursor = body.nextCursor;
    if (!body.hasMore) return out;
  }
}

const count = async (sql: string, params: unknown[]) =>
  Number(
    (await getApp().tenantPool(t.tenant).query<{ n: string }>(`select count(*) as n from ${sql}`, params))
      .rows[0]?.n,
  );

describe('WellOS POST /field-data/sync', () => {
  it('syncs a shift recorded offline: applied events synced, refusals as "Event <id>: …" errors; visible through v1 pull', async () => {
    // Prepare: a shift of the document's event types, and three events the server must refuse.
    const device = new FieldDevice('laptop-001', operator);
    const day = daysAgo(3);
    const shiftStart = new Date(`${day}T14:00:00.000Z`);
    const logged = device.record(
      'PRODUCTION_LOGGED',
      { wellId: t.wellId, volume: 120, unit: 'barrels', recordedAt: `${day}T13:45:00.000Z` },
      shiftStart,
    );
    const gas = device.record(
      'PRODUCTION_LOGGED',
      { wellId: t.wellId, volume: 35.5, unit: 'mcf', recordedAt: `${daysAgo(4)}T13:45:00.000Z` },
      shiftStart,
    );
    const reading = device.record('WELL_READING_RECORDED', {
      wellId: t.wellId,
      readingType: 'PRESSURE',
      value: 850,
      unit: 'psi',
      recordedAt: new Date(Date.now() - 60_000).toISOString(),
    });
    const inspected = device.record('EQUIPMENT_INSPECTED', {
      wellId: t.wellId,
      equipmentId: t.equipmentId,
      inspectionType: 'ROUTINE',
      status: 'NEEDS_ATTENTION',
      notes: 'belt worn',
      inspectedAt: new Date(Date.now() - 50_000).toISOString(),
    });
    const repaired = device.record('EQUIPMENT_REPAIRED', {
      equipmentId: t.equipmentId,
      notes: 'replaced belt',
      repairedAt: new Date(Date.now() - 40_000).toISOString(),
    });
    const noted = device.record('NOTES_ADDED', { wellId: t.wellId, text: `gate left open ${randomUUID()}` });
    // Not UUIDs, as the document's audit-trail example writes ids: a stable id is derived per device.
    const plainId = device.record(
      'PRODUCTION_LOGGED',
      { wellId: t.wellId, volume: 80 },
      new Date(`${daysAgo(5)}T09:00:00.000Z`),
      `event-${randomUUID().slice(0, 8)}`,
    );
    const unknownWell = device.record('PRODUCTION_LOGGED', {
      wellId: 'no-such-well',
      volume: 10,
      unit: 'barrels',
      recordedAt: `${day}T10:00:00.000Z`,
    });
    const negative = device.record('PRODUCTION_LOGGED', {
      wellId: t.wellId,
      volume: -5,
      unit: 'barrels',
      recordedAt: `${day}T11:00:00.000Z`,
    });
    const unknownType = device.record('WELL_SPUDDED', { wellId: t.wellId });
    const good = [logged, gas, reading, inspected, repaired, noted, plainId].map((e) => e.id);

    // Act: the end-of-shift sync.
    const result = await device.sync();

    // Assess: what the client marks synced, and the refusals it shows, each naming its event.
    expect(result.syncedEventIds.sort()).toEqual([...good].sort());
    expect(result.conflicts).toEqual([]);
    expect(result.errors).toHaveLength(3);
    expect(result.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^Event ${unknownWell.id}: WELL_NOT_FOUND: `)),
        // The path is the document's (`volume`, the request's index), not the v1 field it became.
        expect.stringMatching(
          new RegExp(`^Event ${negative.id}: INVALID_PAYLOAD: .*events\\[8\\]\\.payload\\.volume: `),
        ),
        expect.stringMatching(new RegExp(`^Event ${unknownType.id}: UNKNOWN_EVENT_TYPE: `)),
      ]),
    );
    expect(
      device
        .unsynced()
        .map((e) => e.id)
        .sort(),
    ).toEqual([unknownWell.id, negative.id, unknownType.id].sort());

    // A v1 device pulls what the WellOS device logged: oil in barrels, gas in mcf, the day of recordedAt.
    const pulled = await pulledProduction(v1Operator, 'v1-puller');
    expect(pulled.find((p) => p.productionDate === day)).toMatchObject({ wellId: t.wellId, oilVolume: 120 });
    expect(pulled.find((p) => p.productionDate === daysAgo(4))).toMatchObject({ gasVolume: 35.5 });
    expect(pulled.find((p) => p.productionDate === daysAgo(5))).toMatchObject({ oilVolume: 80 });
    // The repair is a REPAIR maintenance log of the equipment, the note one on the well.
    expect(
      await count("maintenance_logs where event_id = $1 and maintenance_type = 'REPAIR'", [repaired.id]),
    ).toBe(1);
    expect(await count('notes where event_id = $1', [noted.id])).toBe(1);

    // The next sync sends the unsynced ones again: the refusals decided at push stay errors; the event the
    // processor refused is a duplicate of a settled event, answered with its original outcome: refused again,
    // never "synced" (v1: a final outcome is never re-decided).
    const again = await device.sync();
    expect(again.syncedEventIds).toEqual([]);
    expect(again.conflicts).toEqual([]);
    expect(again.errors).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^Event ${unknownWell.id}: WELL_NOT_FOUND: `)),
        expect.stringMatching(new RegExp(`^Event ${negative.id}: INVALID_PAYLOAD`)),
        expect.stringMatching(new RegExp(`^Event ${unknownType.id}: UNKNOWN_EVENT_TYPE`)),
      ]),
    );
    expect(again.errors).toHaveLength(3);

    // Re-sending everything (a crash before the events were marked synced): all synced, no record twice.
    const resent = await device.sync(device.events.filter((e) => good.includes(e.id)));
    expect(resent.syncedEventIds.sort()).toEqual([...good].sort());
    expect(resent).toMatchObject({ conflicts: [], errors: [] });
    expect(
      await count('production_records where well_id = $1 and production_date = $2', [t.wellId, day]),
    ).toBe(1);
    expect(await count('well_readings where event_id = $1', [reading.id])).toBe(1);
    expect(await count('inspections where event_id = $1', [inspected.id])).toBe(1);
    expect(await count('maintenance_logs where event_id = $1', [repaired.id])).toBe(1);
    expect(await count('notes where event_id = $1', [noted.id])).toBe(1);
    expect(await count('sync_events where device_id = $1', ['laptop-001'])).toBe(good.length + 1);
    const production = await pulledProduction(v1Operator, 'v1-puller-2');
    expect(production.filter((p) => p.productionDate === day && p.wellId === t.wellId)).toHaveLength(1);
  });

  it('an event not processed in time is in none of the lists; sent again, it comes back synced once processed', async () => {
    // Prepare: the tenant's processing is held, so nothing is done within the (shortened) wait.
    const device = new FieldDevice('tablet-late', operator);
    const day = daysAgo(6);
    const late = device.record('PRODUCTION_LOGGED', {
      wellId: t.wellId,
      volume: 64,
      unit: 'bbl',
      recordedAt: `${day}T07:00:00.000Z`,
    });
    const invalid = device.record('WELL_READING_RECORDED', { wellId: t.wellId, value: 'high' });
    const hold = await holdProcessing(t.tenant);
    let first: WellosSyncResponse;
    let next: Promise<WellosSyncResponse>;
    try {
      // Act
      first = await device.sync(device.unsynced(), { prefer: 'wait=1' });
      await hold.waiting();
      // The client's next sync sends it again while it is still unprocessed: a duplicate of an event the
      // server holds, PENDING. The sync waits for that original's outcome as it waits for its own events.
      next = device.sync();
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await hold.release();
    }
    // Assess: the late event was nowhere at first; the event refused at push was an error at once.
    expect(first.syncedEventIds).toEqual([]);
    expect(first.conflicts).toEqual([]);
    expect(first.errors).toEqual([
      expect.stringMatching(new RegExp(`^Event ${invalid.id}: INVALID_PAYLOAD`)),
    ]);
    // Sent again, it comes back synced once the processor has applied it.
    expect((await next).syncedEventIds).toEqual([late.id]);
    await until('the late production to be pulled', async () =>
      (await pulledProduction(v1Operator, 'v1-late')).some(
        (p) => p.productionDate === day && p.oilVolume === 64,
      ),
    );
  });

  it('a conflict between a v1 device and a WellOS device is reported to both (the loser in its own API, each in its device status) and listed for managers naming both', async () => {
    const device = new FieldDevice('laptop-conflict', operator);
    // Each device's status (v1, with its own token; the WellOS device has no status route of its own): how many
    // OPEN conflicts involve it, and whether its value lost, won or is held.
    const sides = async (token: string, deviceId: string) => {
      const response = await api(token, 'GET', `v1/sync/status?deviceId=${deviceId}`);
      expect(response.status, response.text).toBe(200);
      const { openConflicts, openConflictsBySide } = response.body as DeviceStatus;
      return { openConflicts, ...openConflictsBySide };
    };
    const listed = async () => {
      const response = await api(manager, 'GET', 'v1/devices');
      expect(response.status, response.text).toBe(200);
      const all = (response.body as DeviceList).devices;
      const of = (id: string) => {
        const d = all.find((x) => x.deviceId === id);
        return d && { openConflicts: d.openConflicts, ...d.openConflictsBySide };
      };
      return { wellos: of('laptop-conflict'), v1: of('v1-tablet') };
    };
    // (1) The v1 device's value is newer: the WellOS event loses and its answer carries the conflict.
    const day1 = daysAgo(7);
    const v1Newer = production(
      t.wellId,
      { oilVolume: 100 },
      { productionDate: day1, occurredAt: `${day1}T18:00:00.000Z` },
    );
    expect((await pushSettled(v1Operator, 'v1-tablet', [v1Newer])).events).toEqual([
      { eventId: v1Newer.id, status: 'APPLIED' },
    ]);
    const older = device.record(
      'PRODUCTION_LOGGED',
      { wellId: t.wellId, volume: 120, unit: 'barrels', recordedAt: `${day1}T08:00:00.000Z` },
      new Date(`${day1}T08:05:00.000Z`),
    );
    const lost = await device.sync();
    expect(lost.syncedEventIds).toEqual([]);
    expect(lost.errors).toEqual([]);
    expect(lost.conflicts).toEqual([
      {
        eventId: older.id,
        reason: expect.stringContaining(`Production data for well ${t.wellId} on ${day1}`),
        localData: { wellId: t.wellId, volume: 120, unit: 'barrels', recordedAt: `${day1}T08:00:00.000Z` },
        serverData: { wellId: t.wellId, productionDate: day1, volume: 100, unit: 'barrels' },
        conflictId: expect.any(String),
        resolution: 'SERVER_WINS',
      },
    ]);
    // The v1 winner is told too: its status counts the conflict as won, the WellOS loser's as lost.
    expect(await sides(v1Operator, 'v1-tablet')).toEqual({ openConflicts: 1, lost: 0, won: 1, held: 0 });
    expect(await sides(operator, 'laptop-conflict')).toEqual({ openConflicts: 1, lost: 1, won: 0, held: 0 });
    // (2) The WellOS value is newer: it is applied (synced), and the v1 device's batch outcome turns CONFLICT.
    const day2 = daysAgo(8);
    const v1Older = production(
      t.wellId,
      { oilVolume: 200 },
      { productionDate: day2, occurredAt: `${day2}T08:00:00.000Z` },
    );
    const v1Push = await api(
      v1Operator,
      'POST',
      'v1/sync/batches',
      { deviceId: 'v1-tablet', events: [v1Older] },
      {
        prefer: 'wait=20',
      },
    );
    expect([200, 202]).toContain(v1Push.status);
    const v1BatchId = (v1Push.body as { batchId: string }).batchId;
    const v1Batch = async () =>
      (await api(v1Operator, 'GET', `v1/sync/batches/${v1BatchId}`)).body as BatchOutcome;
    await until('the v1 event to be applied', async () => (await v1Batch()).events[0]?.status === 'APPLIED');
    const newer = device.record(
      'PRODUCTION_LOGGED',
      { wellId: t.wellId, volume: 250, unit: 'barrels', recordedAt: `${day2}T17:00:00.000Z` },
      new Date(`${day2}T17:05:00.000Z`),
    );
    const won = await device.sync([newer]);
    expect(won).toEqual({ syncedEventIds: [newer.id], conflicts: [], errors: [] });
    expect((await v1Batch()).events).toEqual([
      {
        eventId: v1Older.id,
        status: 'CONFLICT',
        conflict: expect.objectContaining({
          fields: ['oilVolume'],
          resolution: 'SERVER_WINS',
          serverValue: { oilVolume: 250 },
          clientValue: { oilVolume: 200 },
        }),
      },
    ]);
    // The WellOS winner is told in its status (its answer listed the event as synced, as its client expects):
    // each device now has one conflict lost and one won, in its own status and in the managers' device list.
    const both = { openConflicts: 2, lost: 1, won: 1, held: 0 };
    expect(await sides(operator, 'laptop-conflict')).toEqual(both);
    expect(await sides(v1Operator, 'v1-tablet')).toEqual(both);
    expect(await listed()).toEqual({ wellos: both, v1: both });
    // Managers see both conflicts, each naming the WellOS event and the v1 one.
    // (Settled by LWW and not reviewed: OPEN in the inbox, as a MANUAL hold would be.)
    const inbox = [];
    for (const status of ['OPEN', 'RESOLVED']) {
      const page = await api(manager, 'GET', `v1/conflicts?status=${status}&limit=200`);
      expect(page.status, page.text).toBe(200);
      inbox.push(
        ...(page.body as { conflicts: { id: string; eventId: string; otherEventId: string | null }[] })
          .conflicts,
      );
    }
    expect(inbox).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ eventId: older.id, otherEventId: v1Newer.id }),
        expect.objectContaining({ eventId: v1Older.id, otherEventId: newer.id }),
      ]),
    );
    // The record holds the winners; the lost WellOS event, sent again, is a duplicate answered with its
    // original outcome: the same conflict, with its data, never "synced".
    const pulled = await pulledProduction(v1Operator, 'v1-tablet');
    expect(pulled.find((p) => p.productionDate === day1)).toMatchObject({ oilVolume: 100 });
    expect(pulled.find((p) => p.productionDate === day2)).toMatchObject({ oilVolume: 250 });
    const resent = await device.sync([older]);
    expect(resent).toEqual({ syncedEventIds: [], conflicts: lost.conflicts, errors: [] });
    // A manager handles the first conflict (keeps LWW's result): it leaves both devices' counts.
    const firstId = lost.conflicts[0]?.conflictId;
    const ack = await api(manager, 'POST', `v1/conflicts/${firstId}/resolve`, { resolution: 'ACKNOWLEDGED' });
    expect(ack.status, ack.text).toBe(200);
    expect(await listed()).toEqual({
      wellos: { openConflicts: 1, lost: 0, won: 1, held: 0 },
      v1: { openConflicts: 1, lost: 1, won: 0, held: 0 },
    });
  });

  it("answers errors in the document's shape: 401, 403 for another tenant, 400 for a request it cannot read", async () => {
    const body = { tenantId: t.tenant.id, events: [], deviceInfo: { deviceId: 'laptop-err' } };
    const errorShape = {
      syncedEventIds: [],
      conflicts: [],
      errors: expect.arrayContaining([expect.any(String)]),
    };
    const noToken = await api(undefined, 'POST', SYNC, body);
    expect(noToken.status).toBe(401);
    expect(noToken.body).toEqual(errorShape);
    const otherTenant = await api(operator, 'POST', SYNC, { ...body, tenantId: 'someone-else' });
    expect(otherTenant.status).toBe(403);
    expect(otherTenant.body).toEqual(errorShape);
    expect((otherTenant.body as WellosSyncResponse).errors[0]).toMatch(/tenantId/);
    const notAList = await api(operator, 'POST', SYNC, { ...body, events: 'all of them' });
    expect(notAList.status).toBe(400);
    expect(notAList.body).toEqual(errorShape);
    expect((notAList.body as WellosSyncResponse).errors).toEqual(
      expect.arrayContaining([expect.stringMatching(/^events: /)]),
    );
    const noDevice = await api(operator, 'POST', SYNC, { tenantId: t.tenant.id, events: [] });
    expect(noDevice.status).toBe(400);
    expect(noDevice.body).toEqual(errorShape);
    // An empty sync (the client skips it, but may send it) answers empty lists.
    const empty = await api(operator, 'POST', SYNC, body);
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ syncedEventIds: [], conflicts: [], errors: [] });
    // Another user's device (v1-tablet is u-wellos-v1's) is 403 with events or without (trial 14, item 10).
    const foreign = { ...body, deviceInfo: { deviceId: 'v1-tablet' } };
    const foreignEmpty = await api(operator, 'POST', SYNC, foreign);
    expect(foreignEmpty.status).toBe(403);
    expect(foreignEmpty.body).toEqual(errorShape);
    const foreignBad = await api(operator, 'POST', SYNC, { ...foreign, events: [{ id: 'x', type: 'NOPE' }] });
    expect(foreignBad.status).toBe(403);
  });
});
