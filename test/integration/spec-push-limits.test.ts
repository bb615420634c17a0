import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { PushAccepted } from '../../shared/contracts/sync.js';
import { MAX_CLOCK_SKEW_MS } from '../../shared/sync/validate-event.js';
import { tokenFor } from '../support/auth.js';
import {
  daysAgo,
  inspection,
  maintenance,
  note,
  production,
  type RawEvent,
  reading,
} from '../support/events.js';
import { pushAccepted, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant, tenantRows } from '../support/tenants.js';

// SPEC "Events": the per-type payload rules (ranges, a production date not in the future), the 5-minute
// clock-skew edge, and a PLUGGED well — through the push route and the host's processor.
let t: SeededTenant;
let token: string;

beforeAll(async () => {
  t = await seededTenant('limits');
  token = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-limits');
  await getApp().referenceData.upsertWell(t.tenant, 'well-plugged', {
    name: 'Plugged and abandoned',
    apiNumber: `42-plug-${randomUUID().slice(0, 6)}`,
    latitude: 31.9,
    longitude: -102.1,
    status: 'PLUGGED',
  });
});
afterAll(() => closeApp());

const sql = (text: string, params?: unknown[]) => tenantRows(t.tenant, text, params);
const withPayload = (event: RawEvent, fields: Record<string, unknown>): RawEvent => ({
  ...event,
  payload: { ...event.payload, ...fields },
});
/** The rejections of a push, as [index, code, paths]. */
const refusals = (accepted: PushAccepted) =>
  accepted.rejected.map((r) => [r.index, r.code, r.errors?.map((e) => e.path) ?? []]);

describe('payload ranges', () => {
  it('accepts every bound and applies it; refuses one step beyond each, with its path', async () => {
    // Prepare: valid events at the bounds, then valid events with exactly one field out of range.
    const atBounds = [
      production(
        t.wellId,
        {
          oilVolume: 0,
          gasVolume: 0,
          waterVolume: 0,
          tubingPressure: 0,
          casingPressure: 0,
          chokeSize: 512,
          runtime: 24,
        },
        { productionDate: daysAgo(5) },
      ),
      production(
        t.wellId,
        { chokeSize: 0, runtime: 0, notes: 'n'.repeat(4000) },
        { productionDate: daysAgo(6) },
      ),
      withPayload(maintenance(t.equipmentId, `bounds ${randomUUID()}`), { downtimeHours: 0, cost: 0 }),
      { ...reading(t.wellId, -40), location: { latitude: 90, longitude: -180, accuracy: 0 } },
    ];
    const beyond: [RawEvent, string][] = [
      [production(t.wellId, { oilVolume: -0.001 }), 'oilVolume'],
      [production(t.wellId, { gasVolume: -1 }), 'gasVolume'],
      [production(t.wellId, { waterVolume: -1 }), 'waterVolume'],
      [production(t.wellId, { tubingPressure: -1 }), 'tubingPressure'],
      [production(t.wellId, { casingPressure: -1 }), 'casingPressure'],
      [production(t.wellId, { chokeSize: 513 }), 'chokeSize'],
      [production(t.wellId, { chokeSize: -1 }), 'chokeSize'],
      [production(t.wellId, { chokeSize: 12.5 }), 'chokeSize'],
      [production(t.wellId, { runtime: 24.01 }), 'runtime'],
      [production(t.wellId, { runtime: -0.5 }), 'runtime'],
      [production(t.wellId, { notes: 'n'.repeat(4001) }), 'notes'],
      [withPayload(maintenance(t.equipmentId), { downtimeHours: -0.1 }), 'downtimeHours'],
      [withPayload(maintenance(t.equipmentId), { cost: -0.01 }), 'cost'],
      [withPayload(reading(t.wellId), { readingType: 'HUMIDITY' }), 'readingType'],
      [withPayload(inspection(t.wellId), { status: 'OK' }), 'status'],
      [withPayload(inspection(t.wellId), { inspectionType: 'WEEKLY' }), 'inspectionType'],
    ];
    const outOfPlace: [RawEvent, string][] = [
      [{ ...reading(t.wellId), location: { latitude: 90.0001, longitude: 0 } }, 'location.latitude'],
      [{ ...reading(t.wellId), location: { latitude: 0, longitude: -180.5 } }, 'location.longitude'],
      [{ ...reading(t.wellId), location: { latitude: 0, longitude: 0, accuracy: -1 } }, 'location.accuracy'],
    ];
    const events = [...atBounds, ...beyond.map(([e]) => e), ...outOfPlace.map(([e]) => e)];
    // Act
    const accepted = await pushAccepted(token, { deviceId: 'tab-limits', events });
    const outcome = await settled(token, accepted.batchId);
    // Assess
    expect(refusals(accepted)).toEqual([
      ...beyond.map(([, field], i) => [
        atBounds.length + i,
        'INVALID_PAYLOAD',
        [`events[${atBounds.length + i}].payload.${field}`],
      ]),
      ...outOfPlace.map(([, path], i) => [
        atBounds.length + beyond.length + i,
        'INVALID_PAYLOAD',
        [`events[${atBounds.length + beyond.length + i}].${path}`],
      ]),
    ]);
    expect(accepted.accepted).toBe(atBounds.length);
    const applied = outcome.events.filter((e) => e.status === 'APPLIED').map((e) => e.eventId);
    expect(applied.sort()).toEqual(atBounds.map((e) => e.id).sort());
    expect(
      await sql(
        `select production_date::text as date, oil_volume, choke_size, runtime from production_records
         where well_id = $1 order by production_date`,
        [t.wellId],
      ),
    ).toEqual([
      { date: daysAgo(6), oil_volume: null, choke_size: 0, runtime: 0 },
      { date: daysAgo(5), oil_volume: 0, choke_size: 512, runtime: 24 },
    ]);
  });
});

describe('production date', () => {
  it("accepts the server's tomorrow (a device east of UTC), refuses any later date with its path", async () => {
    // Prepare: dates around the server's clock; the decision is checked against the push's own receivedAt.
    const dates = [daysAgo(0), daysAgo(-1), daysAgo(-2), daysAgo(-30)];
    const events = dates.map((d) => production(t.wellId, { waterVolume: 1 }, { productionDate: d }));
    // Act
    const accepted = await pushAccepted(token, { deviceId: 'tab-dates', events });
    // Assess
    const latest = new Date(Date.parse(accepted.receivedAt) + 86_400_000).toISOString().slice(0, 10);
    const expected = dates.flatMap((d, i) =>
      d > latest ? [[i, 'INVALID_PAYLOAD', [`events[${i}].payload.productionDate`]]] : [],
    );
    expect(refusals(accepted)).toEqual(expected);
    expect(expected.map(([i]) => i)).toEqual(expect.arrayContaining([3])); // a month ahead: always refused
    expect(accepted.accepted).toBe(dates.length - expected.length);
    expect(accepted.accepted).toBeGreaterThanOrEqual(2); // today and tomorrow: always accepted
  });
});

describe('clock skew', () => {
  it('accepts occurredAt up to 5 minutes ahead of the server clock, CLOCK_SKEW beyond, decided at receipt', async () => {
    // Prepare: offsets around the edge, from this process's clock (the server's: the route runs in-process).
    const offsets = [-60_000, -1_000, 1_000, 3_000, 60_000];
    const started = Date.now();
    const events = offsets.map((ms) => ({
      ...note(t.wellId, `skew ${ms} ${randomUUID()}`),
      occurredAt: new Date(started + MAX_CLOCK_SKEW_MS + ms).toISOString(),
    }));
    // Act
    const accepted = await pushAccepted(token, { deviceId: 'tab-skew', events });
    // Assess: refused exactly those more than 5 minutes after the push's receivedAt.
    const receivedAt = Date.parse(accepted.receivedAt);
    const ahead = events.map((e) => Date.parse(e.occurredAt) - receivedAt > MAX_CLOCK_SKEW_MS);
    expect(accepted.rejected.map((r) => [r.index, r.code, r.eventId])).toEqual(
      events.flatMap((e, i) => (ahead[i] ? [[i, 'CLOCK_SKEW', e.id]] : [])),
    );
    // Both sides of the edge are exercised: just under is accepted, a minute over is refused.
    expect(ahead.slice(0, 2)).toEqual([false, false]);
    expect(ahead[4]).toBe(true);
    expect(MAX_CLOCK_SKEW_MS).toBe(5 * 60_000);
    const outcome = await settled(token, accepted.batchId);
    expect(outcome.counts).toMatchObject({ total: 5, applied: ahead.filter((a) => !a).length });
  });
});

describe('a PLUGGED well', () => {
  it('refuses every event that names it WELL_INACTIVE and stores nothing', async () => {
    const events = [
      production('well-plugged', { oilVolume: 3 }),
      reading('well-plugged', 99),
      inspection('well-plugged'),
      note('well-plugged', 'plugged'),
    ];
    const outcome = await settled(
      token,
      (await pushAccepted(token, { deviceId: 'tab-plug', events })).batchId,
    );
    expect(outcome.events.map((e) => [e.status, e.error?.code, e.error?.retryable])).toEqual(
      events.map(() => ['REJECTED', 'WELL_INACTIVE', false]),
    );
    const stored = await sql(
      `select (select count(*) from production_records where well_id = 'well-plugged')::int as production,
              (select count(*) from well_readings where well_id = 'well-plugged')::int as readings,
              (select count(*) from inspections where well_id = 'well-plugged')::int as inspections,
              (select count(*) from notes where device_id = 'tab-plug')::int as notes`,
    );
    expect(stored).toEqual([{ production: 0, readings: 0, inspections: 0, notes: 0 }]);
  });
});
