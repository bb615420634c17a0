import { describe, expect, it } from 'vitest';
import {
  documentPath,
  renderWellosError,
  toSyncResponse,
  translateEvents,
  wellosEventId,
  wellosWaitSeconds,
} from '../../shared/compat/wellos/mapping.js';
import { wellosFieldDataSyncRoute } from '../../shared/compat/wellos/routes.js';
import { routeClassOf } from '../../shared/http/rate-limit.js';

// The pure WellOS translation (document 000): ids, payload mapping, paths, outcomes → answer, error body.
const at = '2025-10-23T14:30:00.000Z';
const event = (
  type: string,
  payload: Record<string, unknown>,
  id = '6f1c2a4e-8b0d-4c3e-9a7f-2d5b8e1c0f3a',
) => ({
  id,
  type,
  payload,
  timestamp: at,
  deviceId: 'laptop-001',
  userId: 'operator-789',
  synced: false,
  syncAttempts: 0,
  createdAt: at,
});

describe('wellosEventId', () => {
  it('keeps a UUID (lower-cased) and derives a stable UUIDv5 per tenant and device for any other id', () => {
    expect(wellosEventId('t1', 'd1', '6F1C2A4E-8B0D-4C3E-9A7F-2D5B8E1C0F3A')).toBe(
      '6f1c2a4e-8b0d-4c3e-9a7f-2d5b8e1c0f3a',
    );
    const derived = wellosEventId('t1', 'd1', 'event-123');
    expect(derived).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(wellosEventId('t1', 'd1', 'event-123')).toBe(derived);
    expect(wellosEventId('t1', 'd2', 'event-123')).not.toBe(derived);
    expect(wellosEventId('t2', 'd1', 'event-123')).not.toBe(derived);
  });
});

describe('translateEvents', () => {
  it('maps volume/unit/recordedAt onto the v1 production fields and the day as written', () => {
    const [oil, gas, noUnit, offset] = translateEvents('t', 'laptop-001', [
      event('PRODUCTION_LOGGED', { wellId: 'w', volume: 120, unit: 'barrels', recordedAt: at }),
      event('PRODUCTION_LOGGED', { wellId: 'w', volume: 30, unit: 'MCF', recordedAt: at }),
      event('PRODUCTION_LOGGED', { wellId: 'w', volume: 7 }),
      event('PRODUCTION_LOGGED', { wellId: 'w', volume: 1, recordedAt: '2025-10-23T20:00:00-06:00' }),
    ]);
    expect(oil).toMatchObject({
      ok: true,
      event: {
        type: 'PRODUCTION_LOGGED',
        occurredAt: at,
        payload: { wellId: 'w', oilVolume: 120, productionDate: '2025-10-23' },
      },
    });
    expect(gas).toMatchObject({ ok: true, event: { payload: { gasVolume: 30 } } });
    expect(noUnit).toMatchObject({
      ok: true,
      event: { payload: { oilVolume: 7, productionDate: '2025-10-23' } },
    });
    expect(offset).toMatchObject({ ok: true, event: { payload: { productionDate: '2025-10-23' } } });
  });

  it('maps EQUIPMENT_REPAIRED to a REPAIR maintenance log and a note on a well to its target', () => {
    const [repair, note] = translateEvents('t', 'laptop-001', [
      event('EQUIPMENT_REPAIRED', { equipmentId: 'pump-1', wellId: 'w', notes: 'new belt' }),
      event('NOTES_ADDED', { wellId: 'w', notes: 'gate open' }),
    ]);
    expect(repair).toMatchObject({
      ok: true,
      event: {
        type: 'MAINTENANCE_LOGGED',
        payload: {
          equipmentId: 'pump-1',
          maintenanceType: 'REPAIR',
          description: 'new belt',
          performedAt: at,
        },
      },
    });
    expect((repair as { event: { payload: object } }).event.payload).not.toHaveProperty('wellId');
    expect(note).toMatchObject({
      ok: true,
      event: { payload: { target: { type: 'WELL', id: 'w' }, text: 'gate open' } },
    });
  });

  it('refuses an unknown type, an unknown unit, another device and a malformed event, naming the event', () => {
    const out = translateEvents('t', 'laptop-001', [
      event('WELL_SPUDDED', {}, 'a'),
      event('PRODUCTION_LOGGED', { wellId: 'w', volume: 1, unit: 'm3' }, 'b'),
      { ...event('NOTES_ADDED', { wellId: 'w', text: 'x' }, 'c'), deviceId: 'phone-2' },
      { id: 'd', type: 'NOTES_ADDED', payload: {} },
    ]);
    expect(out.map((t) => (t.ok ? 'ok' : t.error))).toEqual([
      expect.stringMatching(/^Event a: UNKNOWN_EVENT_TYPE: /),
      expect.stringMatching(/^Event b: INVALID_PAYLOAD: events\[1\]\.payload\.unit: /),
      expect.stringMatching(/^Event c: DEVICE_MISMATCH: /),
      expect.stringMatching(/^Event d: INVALID_PAYLOAD: events\[3\]\.timestamp: /),
    ]);
  });
});

describe('documentPath', () => {
  it("reads a v1 refusal path in the document's terms", () => {
    const [t] = translateEvents('t', 'laptop-001', [
      event('WELL_READING_RECORDED', {}),
      event('PRODUCTION_LOGGED', { wellId: 'w', volume: -1 }),
    ]).slice(1);
    if (!t?.ok) throw new Error('expected a translation');
    expect(documentPath('events[0].payload.oilVolume', t)).toBe('events[1].payload.volume');
    expect(documentPath('events[0].payload.productionDate', t)).toBe('events[1].payload.recordedAt');
    expect(documentPath('events[0].occurredAt', t)).toBe('events[1].timestamp');
  });
});

describe('toSyncResponse', () => {
  it('lists APPLIED and DUPLICATE as synced, CONFLICT as a conflict, refusals as errors, PENDING nowhere', () => {
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
    const translations = translateEvents('t', 'laptop-001', [
      event('PRODUCTION_LOGGED', { wellId: 'w', volume: 5, recordedAt: at }, ids[0]),
      event('PRODUCTION_LOGGED', { wellId: 'w', volume: 6, recordedAt: at }, ids[1]),
      event('NOTES_ADDED', { wellId: 'w', text: 'a' }, 'plain-1'),
      event('NOTES_ADDED', { wellId: 'w', text: 'b' }, 'plain-2'),
      event('NOTES_ADDED', { wellId: 'w', text: 'c' }, 'plain-3'),
      event('BAD', {}, 'plain-4'),
    ]);
    const v1 = (i: number) => (translations[i] as { event: { id: string } }).event.id;
    const response = toSyncResponse(translations, [
      { eventId: v1(0), status: 'APPLIED' },
      {
        eventId: v1(1),
        status: 'CONFLICT',
        conflict: {
          conflictId: 'c-1',
          fields: ['oilVolume'],
          resolution: 'SERVER_WINS',
          serverValue: { oilVolume: 9 },
          clientValue: { oilVolume: 6 },
        },
      },
      { eventId: v1(2), status: 'DUPLICATE' },
      { eventId: v1(3), status: 'PENDING' },
      {
        eventId: v1(4),
        status: 'REJECTED',
        error: { code: 'WELL_NOT_FOUND', message: 'no well w', retryable: false },
      },
    ]);
    expect(response.syncedEventIds).toEqual([ids[0], 'plain-1']);
    expect(response.conflicts).toEqual([
      {
        eventId: ids[1],
        reason: expect.stringMatching(/^Production data for well w on 2025-10-23 .*oilVolume.*kept/),
        localData: { wellId: 'w', volume: 6, recordedAt: at },
        serverData: { wellId: 'w', productionDate: '2025-10-23', volume: 9, unit: 'barrels' },
        conflictId: 'c-1',
        resolution: 'SERVER_WINS',
      },
    ]);
    expect(response.errors).toEqual([
      expect.stringMatching(/^Event plain-3: WELL_NOT_FOUND: no well w$/),
      expect.stringMatching(/^Event plain-4: UNKNOWN_EVENT_TYPE/),
    ]);
  });
});

describe('the error body and the wait', () => {
  it("renders a problem in the answer's shape, and caps Prefer: wait at 30 s", () => {
    expect(
      renderWellosError({
        type: 'x',
        title: 'Bad Request',
        status: 400,
        detail: 'the body is invalid',
        errors: [{ path: 'events', message: 'expected array' }],
      }).body,
    ).toEqual({
      syncedEventIds: [],
      conflicts: [],
      errors: ['Bad Request: the body is invalid', 'events: expected array'],
    });
    expect(wellosWaitSeconds(null)).toBe(30);
    expect(wellosWaitSeconds('wait=3')).toBe(3);
    expect(wellosWaitSeconds('respond-async, wait=300')).toBe(30);
  });

  it("spends the user's push budget, as POST /v1/sync/batches does", () => {
    expect(routeClassOf(wellosFieldDataSyncRoute)).toBe('push');
  });
});
