import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { Conflict } from '../../shared/contracts/conflicts.js';
import type { BatchOutcome } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { equipmentUpdate, type RawEvent } from '../support/events.js';
import { pushAccepted, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant, tenantRows } from '../support/tenants.js';

// SPEC "Events": EQUIPMENT_UPDATED {equipmentId, baseVersion, changes} is a versioned update, merged field
// by field, through the push route and the host's processor (the default strategy, LWW). Two-device
// conflicts in both arrival orders are in test/e2e/conflicts.test.ts; SERVER_WINS / CLIENT_WINS in
// test/e2e/spec-strategies.test.ts; the planner's cases in test/unit/plan-chunk-conflicts.test.ts.
let t: SeededTenant;
let laptop: string;
let phone: string;
let pumps = 0;

beforeAll(async () => {
  t = await seededTenant('equpd');
  laptop = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-laptop');
  phone = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-phone');
});
afterAll(() => closeApp());

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const sql = (text: string, params?: unknown[]) => tenantRows(t.tenant, text, params);

/** A pump of this test's own, at version 1, as a manager's PUT leaves it. */
async function newPump(): Promise<string> {
  pumps += 1;
  const id = `pump-u${pumps}`;
  await getApp().referenceData.upsertEquipment(t.tenant, id, {
    wellId: t.wellId,
    equipmentType: 'PUMP_JACK',
    serialNumber: 'SN-1',
    manufacturer: 'Lufkin',
    model: 'C-228',
    status: 'OPERATIONAL',
  });
  return id;
}
const row = async (id: string) =>
  (
    await sql(
      'select status, serial_number, manufacturer, model, notes, version from equipment where id = $1',
      [id],
    )
  )[0];
const pushSettled = async (token: string, deviceId: string, events: RawEvent[]): Promise<BatchOutcome> =>
  settled(token, (await pushAccepted(token, { deviceId, events })).batchId);
const conflictsOn = async (id: string) =>
  (await sql('select id from conflicts where record_key = $1', [id])) as Pick<Conflict, 'id'>[];

describe('EQUIPMENT_UPDATED through the processor', () => {
  it('applies the changes, clears a field sent as null, and bumps the version once per update', async () => {
    // Prepare
    const id = await newPump();
    // Act
    const first = await pushSettled(laptop, 'laptop-u', [
      equipmentUpdate(
        id,
        1,
        { status: 'MAINTENANCE', serialNumber: 'SN-2', notes: 'belt worn' },
        minutesAgo(20),
      ),
    ]);
    // The same device, having seen version 2, edits again: no conflict with its own or anyone's write.
    const second = await pushSettled(laptop, 'laptop-u', [
      equipmentUpdate(id, 2, { manufacturer: null, model: 'C-320' }, minutesAgo(10)),
    ]);
    // Assess
    expect(first.events).toEqual([expect.objectContaining({ status: 'APPLIED' })]);
    expect(second.events).toEqual([expect.objectContaining({ status: 'APPLIED' })]);
    expect(await row(id)).toEqual({
      status: 'MAINTENANCE',
      serial_number: 'SN-2',
      manufacturer: null,
      model: 'C-320',
      notes: 'belt worn',
      version: 3,
    });
    expect(await conflictsOn(id)).toEqual([]);
  });

  it('merges fields only one device changed from the same base: both applied, no conflict', async () => {
    const id = await newPump();
    const a = await pushSettled(laptop, 'laptop-u', [
      equipmentUpdate(id, 1, { status: 'FAILED' }, minutesAgo(20)),
    ]);
    const b = await pushSettled(phone, 'phone-u', [
      equipmentUpdate(id, 1, { notes: 'seized' }, minutesAgo(30)),
    ]);
    expect([a.events[0]?.status, b.events[0]?.status]).toEqual(['APPLIED', 'APPLIED']);
    expect(await row(id)).toMatchObject({
      status: 'FAILED',
      notes: 'seized',
      serial_number: 'SN-1',
      version: 3,
    });
    expect(await conflictsOn(id)).toEqual([]);
  });

  it('an edit made before a manager changed the same field loses to it (SERVER_WINS, no loser event named)', async () => {
    const id = await newPump();
    const offline = equipmentUpdate(id, 1, { status: 'FAILED' }, minutesAgo(20));
    // The manager's PUT, now: a newer write than the device's, at version 2.
    await getApp().referenceData.upsertEquipment(t.tenant, id, {
      wellId: t.wellId,
      equipmentType: 'PUMP_JACK',
      serialNumber: 'SN-1',
      manufacturer: 'Lufkin',
      model: 'C-228',
      status: 'MAINTENANCE',
    });
    const outcome = await pushSettled(laptop, 'laptop-u', [offline]);
    expect(outcome.events[0]).toMatchObject({
      status: 'CONFLICT',
      conflict: {
        fields: ['status'],
        resolution: 'SERVER_WINS',
        serverValue: { status: 'MAINTENANCE' },
        clientValue: { status: 'FAILED' },
      },
    });
    expect(await row(id)).toMatchObject({ status: 'MAINTENANCE', version: 2 });
    expect(await sql('select other_event_id from conflicts where record_key = $1', [id])).toEqual([
      { other_event_id: null },
    ]);
  });

  it('refuses an update of deleted or unknown equipment, changing nothing', async () => {
    const deleted = equipmentUpdate(t.deletedEquipmentId, 1, { status: 'FAILED' });
    const unknown = equipmentUpdate('no-such-pump', 1, { status: 'FAILED' });
    const before = await row(t.deletedEquipmentId);
    const outcome = await pushSettled(laptop, 'laptop-u', [deleted, unknown]);
    const byId = new Map(outcome.events.map((e) => [e.eventId, e]));
    expect(byId.get(deleted.id)).toMatchObject({
      status: 'REJECTED',
      error: { code: 'EQUIPMENT_DELETED', retryable: false },
    });
    expect(byId.get(unknown.id)).toMatchObject({
      status: 'REJECTED',
      error: { code: 'EQUIPMENT_NOT_FOUND', retryable: false },
    });
    expect(await row(t.deletedEquipmentId)).toEqual(before);
    expect(await sql("select 1 from equipment where id = 'no-such-pump'")).toEqual([]);
  });

  it('refuses invalid payloads at push with their paths', async () => {
    const id = await newPump();
    const invalid = [
      {
        ...equipmentUpdate(id, 1, { status: 'FAILED' }),
        payload: { equipmentId: id, baseVersion: 0, changes: { status: 'FAILED' } },
      },
      equipmentUpdate(id, 1, {}),
      equipmentUpdate(id, 1, { status: 'BROKEN' }),
      equipmentUpdate(id, 1, { serialNumber: '' }),
      equipmentUpdate(id, 1, { serialNumber: null }),
    ];
    const accepted = await pushAccepted(laptop, { deviceId: 'laptop-u', events: invalid });
    expect(accepted.accepted).toBe(0);
    expect(accepted.rejected.map((r) => [r.code, r.errors?.map((e) => e.path)])).toEqual([
      ['INVALID_PAYLOAD', ['events[0].payload.baseVersion']],
      ['INVALID_PAYLOAD', ['events[1].payload.changes']],
      ['INVALID_PAYLOAD', ['events[2].payload.changes.status']],
      ['INVALID_PAYLOAD', ['events[3].payload.changes.serialNumber']],
      ['INVALID_PAYLOAD', ['events[4].payload.changes.serialNumber']],
    ]);
    expect(await row(id)).toMatchObject({ status: 'OPERATIONAL', version: 1 });
  });

  it('applies an update once however often its chunk is processed', async () => {
    const id = await newPump();
    const event = equipmentUpdate(id, 1, { serialNumber: 'SN-9' });
    const pushed = await pushAccepted(laptop, { deviceId: 'laptop-u', events: [event] });
    await settled(laptop, pushed.batchId);
    // The chunk delivered again (a redelivery after the processor's commit).
    const again = await getApp().processor.process(t.tenant, pushed.batchId, [event.id]);
    expect(again.processed).toBe(0);
    expect(await row(id)).toMatchObject({ serial_number: 'SN-9', version: 2 });
  });
});
