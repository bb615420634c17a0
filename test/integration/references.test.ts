import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retrySync } from '../../functions/sync-retry.js';
import { closeApp } from '../../shared/app.js';
import type { BatchOutcome, EventOutcome } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { inspection, maintenance, production, type RawEvent, reading } from '../support/events.js';
import { call } from '../support/http.js';
import { ownSyncProcessor } from '../support/processor.js';
import { pushAccepted, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant, tenantRows } from '../support/tenants.js';

// This file's own sync queue and processor: its batches settle whatever else the run is processing.
ownSyncProcessor('references');

let t: SeededTenant;
let operator: string;

beforeAll(async () => {
  t = await seededTenant('refs');
  operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-refs');
});
afterAll(() => closeApp());

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

const noteOn = (
  target: { type: string; id: string },
  text = 'gate left open',
  occurredAt = minutesAgo(5),
): RawEvent => ({ id: randomUUID(), type: 'NOTES_ADDED', occurredAt, payload: { target, text } });

const rows = (sql: string, params?: unknown[]) => tenantRows(t.tenant, sql, params);

/** Pushes from one device and waits until the batch is settled. */
async function pushSettled(events: RawEvent[], deviceId = 'tablet-refs'): Promise<BatchOutcome> {
  const accepted = await pushAccepted(operator, { deviceId, events });
  return settled(operator, accepted.batchId);
}

const outcomeOf = (outcome: BatchOutcome, event: RawEvent): EventOutcome | undefined =>
  outcome.events.find((e) => e.eventId === event.id);
const codeOf = (outcome: BatchOutcome, event: RawEvent) => {
  const e = outcomeOf(outcome, event);
  return e?.error?.code ?? e?.status;
};

describe('NOTES_ADDED targets follow the reference rules of every other event', () => {
  it('unknown or inactive wells, unknown or deleted equipment, unknown records: each refused with its code; neighbours apply', async () => {
    const created = inspection(t.wellId);
    const cases: [RawEvent, string][] = [
      [noteOn({ type: 'WELL', id: t.wellId }), 'APPLIED'],
      [noteOn({ type: 'WELL', id: 'no-such-well' }), 'WELL_NOT_FOUND'],
      [noteOn({ type: 'WELL', id: t.inactiveWellId }), 'WELL_INACTIVE'],
      [noteOn({ type: 'EQUIPMENT', id: t.equipmentId }), 'APPLIED'],
      [noteOn({ type: 'EQUIPMENT', id: 'no-such-pump' }), 'EQUIPMENT_NOT_FOUND'],
      [noteOn({ type: 'EQUIPMENT', id: t.deletedEquipmentId }), 'EQUIPMENT_DELETED'],
      [noteOn({ type: 'INSPECTION', id: randomUUID() }), 'TARGET_NOT_FOUND'],
      [noteOn({ type: 'MAINTENANCE', id: 'not-a-uuid' }), 'TARGET_NOT_FOUND'],
      [noteOn({ type: 'PRODUCTION', id: randomUUID() }), 'TARGET_NOT_FOUND'],
      // An inspection of the same batch counts, though the note occurred before it.
      [noteOn({ type: 'INSPECTION', id: created.id }, 'seen', minutesAgo(30)), 'APPLIED'],
    ];
    const neighbours = [reading(t.wellId, 501), created];
    const outcome = await pushSettled([...cases.map(([e]) => e), ...neighbours]);
    expect(cases.map(([e]) => codeOf(outcome, e))).toEqual(cases.map(([, code]) => code));
    for (const n of neighbours) expect(codeOf(outcome, n)).toBe('APPLIED');
    for (const [e, code] of cases) {
      if (code === 'TARGET_NOT_FOUND') expect(outcomeOf(outcome, e)?.error?.retryable).toBe(true);
      else if (code !== 'APPLIED') expect(outcomeOf(outcome, e)?.error?.retryable).toBe(false);
    }
    const stored = await rows('select event_id from notes where event_id = any($1::uuid[])', [
      cases.map(([e]) => e.id),
    ]);
    expect(stored).toHaveLength(cases.filter(([, code]) => code === 'APPLIED').length);
  });

  it('inspections and maintenance logs are named by the id of their event; production records by their id or the id of an event that wrote them', async () => {
    const i = inspection(t.wellId, t.equipmentId);
    const m = maintenance(t.equipmentId, `belt ${randomUUID()}`);
    const p = production(t.wellId, { oilVolume: 12 }, { productionDate: '2025-01-15' });
    const first = await pushSettled([i, m, p]);
    expect(first.counts).toMatchObject({ applied: 3 });
    const [record] = await rows(
      "select id::text as id from production_records where well_id = $1 and production_date = '2025-01-15'",
      [t.wellId],
    );
    const notes = [
      noteOn({ type: 'INSPECTION', id: i.id.toUpperCase() }),
      noteOn({ type: 'MAINTENANCE', id: m.id }),
      noteOn({ type: 'PRODUCTION', id: p.id }),
      noteOn({ type: 'PRODUCTION', id: String(record?.id) }),
      // The id of an event of another type names nothing of this type.
      noteOn({ type: 'INSPECTION', id: m.id }),
    ];
    const outcome = await pushSettled(notes);
    expect(notes.map((n) => codeOf(outcome, n))).toEqual([
      'APPLIED',
      'APPLIED',
      'APPLIED',
      'APPLIED',
      'TARGET_NOT_FOUND',
    ]);
  });
});

describe('a retryable refusal can be retried with the same event', () => {
  it('TARGET_NOT_FOUND: once the inspection is applied, the same note pushed again is applied and reported in the new batch', async () => {
    const later = inspection(t.wellId);
    const n = noteOn({ type: 'INSPECTION', id: later.id }, 'photo of the gauge');
    const neighbour = noteOn({ type: 'WELL', id: t.wellId }, 'unrelated');
    const first = await pushSettled([n, neighbour]);
    expect(outcomeOf(first, n)).toMatchObject({
      status: 'REJECTED',
      error: { code: 'TARGET_NOT_FOUND', retryable: true },
    });
    expect(codeOf(first, neighbour)).toBe('APPLIED');

    await pushSettled([later]);
    const again = await pushAccepted(operator, { deviceId: 'tablet-refs', events: [n, neighbour] });
    // The refused note is taken again; the applied one is what it always was: a duplicate.
    expect(again).toMatchObject({ accepted: 1, duplicates: [neighbour.id], rejected: [] });
    const second = await settled(operator, again.batchId);
    expect(outcomeOf(second, n)).toEqual({ eventId: n.id, status: 'APPLIED' });
    expect(codeOf(second, neighbour)).toBe('DUPLICATE');
    expect(await rows('select 1 from notes where event_id = $1', [n.id])).toHaveLength(1);
    // The event moved to the batch that applied it.
    const before = await settled(operator, first.batchId);
    expect(outcomeOf(before, n)).toBeUndefined();
    expect(codeOf(before, neighbour)).toBe('APPLIED');

    // Pushed a third time: now a duplicate, applied once.
    const third = await pushAccepted(operator, { deviceId: 'tablet-refs', events: [n] });
    expect(third).toMatchObject({ accepted: 0, duplicates: [n.id] });
  });

  it('TARGET_NOT_FOUND: POST /v1/sync/retry with its id applies it once the target exists', async () => {
    const later = maintenance(t.equipmentId, `pump ${randomUUID()}`);
    const n = noteOn({ type: 'MAINTENANCE', id: later.id }, 'see maintenance');
    const first = await pushSettled([n]);
    expect(codeOf(first, n)).toBe('TARGET_NOT_FOUND');
    await pushSettled([later]);
    const retry = await call(retrySync, {
      method: 'POST',
      url: 'http://localhost/api/v1/sync/retry',
      token: operator,
      json: { eventIds: [n.id] },
    });
    expect(retry.status, retry.text).toBe(202);
    expect(retry.body).toEqual({ retried: 1, eventIds: [n.id] });
    expect(outcomeOf(await settled(operator, first.batchId), n)).toEqual({
      eventId: n.id,
      status: 'APPLIED',
    });
  });

  it('FAILED (the queue gave up on it): the same event pushed again is taken again and applied', async () => {
    const n = noteOn({ type: 'WELL', id: t.wellId }, `failed once ${randomUUID()}`);
    const first = await pushSettled([n]);
    // As the dead-letter handler leaves it after an outage outlasted every redelivery.
    await rows(`update sync_events set status = 'FAILED' where id = $1`, [n.id]);
    await rows('delete from notes where event_id = $1', [n.id]);
    await rows(
      `update sync_events set error = '{"code":"PROCESSING_FAILED","message":"dead-lettered","retryable":true}'
       where id = $1`,
      [n.id],
    );
    expect(codeOf(await settled(operator, first.batchId), n)).toBe('PROCESSING_FAILED');
    const again = await pushAccepted(operator, { deviceId: 'tablet-refs', events: [n] });
    expect(again).toMatchObject({ accepted: 1, duplicates: [] });
    expect(codeOf(await settled(operator, again.batchId), n)).toBe('APPLIED');
    expect(await rows('select 1 from notes where event_id = $1', [n.id])).toHaveLength(1);
  });

  it('a refusal that is not retryable stays: pushing it again is a duplicate, and retry takes nothing', async () => {
    const n = noteOn({ type: 'WELL', id: 'no-such-well' });
    const first = await pushSettled([n]);
    expect(outcomeOf(first, n)?.error).toMatchObject({ code: 'WELL_NOT_FOUND', retryable: false });
    const again = await pushAccepted(operator, { deviceId: 'tablet-refs', events: [n] });
    expect(again).toMatchObject({ accepted: 0, duplicates: [n.id] });
    const retry = await call(retrySync, {
      method: 'POST',
      url: 'http://localhost/api/v1/sync/retry',
      token: operator,
      json: { eventIds: [n.id] },
    });
    expect(retry.body).toEqual({ retried: 0, eventIds: [] });
    // Another device pushing the same body takes nothing either.
    const later = inspection(t.wellId);
    const m = noteOn({ type: 'INSPECTION', id: later.id });
    await pushSettled([m]);
    await pushSettled([later]);
    const foreign = await pushAccepted(operator, { deviceId: 'another-tablet', events: [m] });
    expect(foreign).toMatchObject({ accepted: 0, duplicates: [m.id] });
  });

  it('an id twice in one push: the first is the event, the second its duplicate (or EVENT_ID_REUSED)', async () => {
    const n = noteOn({ type: 'WELL', id: t.wellId }, `twice ${randomUUID()}`);
    // An invalid event first: the reuse is reported at its place in the push, not among the valid ones.
    const invalid = { ...noteOn({ type: 'WELL', id: t.wellId }), payload: {} };
    const accepted = await pushAccepted(operator, {
      deviceId: 'tablet-refs',
      events: [invalid, n, n, { ...n, payload: { ...n.payload, text: 'other' } }],
    });
    expect(accepted).toMatchObject({ accepted: 1, duplicates: [n.id] });
    expect(accepted.rejected).toEqual([
      expect.objectContaining({ index: 0, code: 'INVALID_PAYLOAD' }),
      expect.objectContaining({ index: 3, code: 'EVENT_ID_REUSED' }),
    ]);
    expect(codeOf(await settled(operator, accepted.batchId), n)).toBe('APPLIED');
  });
});

describe('appended events are identified with the time they happened', () => {
  it('the same words later are a new note; the same note under a new id is a duplicate; other types likewise', async () => {
    const device = `phone-${randomUUID().slice(0, 8)}`;
    const well = { type: 'WELL', id: t.wellId };
    const yesterday = noteOn(well, 'Leak fixed', minutesAgo(24 * 60));
    const today = noteOn(well, 'Leak fixed', minutesAgo(30));
    const ok = noteOn(well, 'ok', minutesAgo(20));
    const okLater = noteOn(well, 'ok', minutesAgo(10));
    const r1 = reading(t.wellId, 333, minutesAgo(40));
    const r2 = reading(t.wellId, 333, minutesAgo(35));
    const first = await pushSettled([yesterday, today, ok, okLater, r1, r2], device);
    expect(first.counts).toMatchObject({ total: 6, applied: 6 });

    // The very same note (same time) sent again under a new event id: a duplicate, stored once.
    const resent = { ...today, id: randomUUID() };
    const resentReading = { ...r1, id: randomUUID() };
    const neighbour = noteOn(well, 'Leak fixed', minutesAgo(1));
    const second = await pushSettled([resent, resentReading, neighbour], device);
    expect([resent, resentReading, neighbour].map((e) => codeOf(second, e))).toEqual([
      'DUPLICATE',
      'DUPLICATE',
      'APPLIED',
    ]);
    const stored = await rows(
      "select count(*)::int as n from notes where device_id = $1 and text = 'Leak fixed'",
      [device],
    );
    expect(stored[0]?.n).toBe(3);
  });
});
