import { FieldsyncClient, MemoryStore } from '@fieldsync/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import { tokenFor } from '../support/auth.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// Issue 15, proof 3, for a v1 production day (the clinic-record case is in test/client/client-host.test.ts):
// a laptop and a phone log the same well's same day offline, each writing oil and one field of its own. The
// phone's (newer) log syncs first; the laptop's older one syncs after and loses on oilVolume. The laptop's
// client surfaces the conflict with both values; after a pull both hold the server's merged day.
let t: SeededTenant;
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const day = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  t = await seededTenant('cconf');
});
afterAll(() => closeApp());

async function device(deviceId: string, userId: string) {
  const token = await tokenFor(t.tenant.id, ['OPERATOR'], userId);
  return new FieldsyncClient({
    baseUrl: inject('hostUrl'),
    deviceId,
    store: new MemoryStore(),
    getToken: () => token,
  });
}

const dayOf = async (client: FieldsyncClient) =>
  (await client.entities('production')).find((p) => p.wellId === t.wellId && p.productionDate === day);

describe('two clients log the same production day offline', { timeout: 60_000 }, () => {
  it('the loser sees its conflict with both values; both end with the merged day', async () => {
    // Prepare: both devices pulled the well, then went offline and logged the same day.
    const laptop = await device('conf-laptop', 'u-laptop');
    const phone = await device('conf-phone', 'u-phone');
    await laptop.syncNow();
    await phone.syncNow();
    const older = await laptop.record(
      'PRODUCTION_LOGGED',
      { wellId: t.wellId, productionDate: day, oilVolume: 100, gasVolume: 500 },
      { occurredAt: minutesAgo(240) },
    );
    await phone.record(
      'PRODUCTION_LOGGED',
      { wellId: t.wellId, productionDate: day, oilVolume: 120, notes: 'choke changed' },
      { occurredAt: minutesAgo(60) },
    );
    const surfaced: unknown[] = [];
    laptop.on('conflict', (c) => surfaced.push(c));

    // Act: the phone syncs first, then the laptop, then the phone again (its pull catches up).
    const phoneFirst = await phone.syncNow();
    const laptopReport = await laptop.syncNow();
    await phone.syncNow();

    // Assess: the laptop's event is settled CONFLICT with both sides' values, kept in its outbox.
    expect(phoneFirst).toMatchObject({ applied: 1, conflicts: 0 });
    expect(laptopReport).toMatchObject({ conflicts: 1, applied: 0 });
    const conflicts = await laptop.conflicts();
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0]).toMatchObject({
      state: 'CONFLICT',
      event: { id: older.eventId },
      conflict: {
        fields: ['oilVolume'],
        resolution: 'SERVER_WINS',
        serverValue: { oilVolume: 120 },
        clientValue: { oilVolume: 100 },
      },
    });
    expect(surfaced).toEqual([expect.objectContaining({ eventId: older.eventId })]);
    expect(await laptop.status()).toMatchObject({ pending: 0, conflicts: 1 });
    expect(await phone.status()).toMatchObject({ pending: 0, conflicts: 0 });
    // Both hold the server's merged day: the newer oil, the laptop's gas, the phone's notes.
    const merged = { oilVolume: 120, gasVolume: 500, notes: 'choke changed' };
    expect(await dayOf(laptop)).toMatchObject(merged);
    expect(await dayOf(phone)).toMatchObject(merged);
    // The user has seen it: acknowledging removes it from the outbox.
    expect(await laptop.acknowledge([older.eventId])).toBe(1);
    expect(await laptop.outbox()).toEqual([]);
  });
});
