import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  entryEventId,
  entryToEvent,
  lastSyncOf,
  pushResponse,
  renderError,
  VALIDATION_MESSAGE,
} from '../../shared/compat/wellpulse/map.js';
import { entrySchema, lastSyncInstant } from '../../shared/compat/wellpulse/wire.js';
import { checkEvent } from '../../shared/sync/validate-event.js';

// The pure translation of seed document 001 (shared/compat/wellpulse/map.ts).
const entry = entrySchema.parse({
  wellId: 'well-1',
  entryType: 'PRODUCTION',
  data: { oilVolume: 82.3, gasVolume: 375.8 },
  recordedAt: '2025-10-25T08:30:00.000Z',
  notes: 'ok',
});

describe('wellpulse entry ids', () => {
  it('are the same for the same entry of the same device, and v1 event ids (UUIDs)', () => {
    const id = entryEventId('acme', 'TAB', entry);
    expect(entryEventId('acme', 'TAB', structuredClone(entry))).toBe(id);
    const event = entryToEvent(id, entry);
    expect(checkEvent(event, 0, new Date('2025-10-25T12:00:00Z'))).toMatchObject({ ok: true });
  });

  it('differ with the tenant, the device, the time or any content', () => {
    const id = entryEventId('acme', 'TAB', entry);
    expect(entryEventId('globex', 'TAB', entry)).not.toBe(id);
    expect(entryEventId('acme', 'TAB-2', entry)).not.toBe(id);
    expect(entryEventId('acme', 'TAB', { ...entry, recordedAt: '2025-10-25T08:31:00.000Z' })).not.toBe(id);
    expect(entryEventId('acme', 'TAB', { ...entry, data: { ...entry.data, oilVolume: 82.4 } })).not.toBe(id);
    expect(entryEventId('acme', 'TAB', { ...entry, notes: 'changed' })).not.toBe(id);
  });
});

describe('wellpulse lastSync', () => {
  /** Forms a client's date library may re-serialise an instant in (Java Instant, .NET "o", moment, Python). */
  const forms = (ms: number, offsetMinutes: number): string[] => {
    const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:mm:ss.sssZ
    const trimmed = iso.replace(/\.?0+Z$/, 'Z'); // Java Instant.toString drops trailing zeros
    const local = new Date(ms + offsetMinutes * 60_000).toISOString().slice(0, -1);
    const sign = offsetMinutes < 0 ? '-' : '+';
    const abs = Math.abs(offsetMinutes);
    const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    return [
      iso,
      trimmed,
      iso.replace('Z', '+00:00'),
      iso.replace('Z', '0000Z'), // .NET "o": seven fraction digits
      iso.replace('Z', '000000Z'), // nine (Go, Java with nanos)
      iso.toLowerCase(),
      `${local}${offset}`,
      `${local}${offset}`.replace('+', ' '), // a '+' sent unencoded in a query string arrives as a space
    ];
  };

  it('reads every re-serialisation of an issued instant as that very millisecond (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2090-01-01T00:00:00Z') }),
        fc.integer({ min: -12 * 60, max: 14 * 60 }),
        (ms, offset) => {
          for (const text of forms(ms, offset))
            expect(lastSyncInstant(text), text).toEqual({ ms, exact: true });
        },
      ),
    );
  });

  it('tells an instant below the millisecond (never issued) and refuses what is not a date-time', () => {
    expect(lastSyncInstant('2025-10-25T14:30:00.1234Z')).toEqual({
      ms: Date.parse('2025-10-25T14:30:00.123Z'),
      exact: false,
    });
    expect(lastSyncInstant('2025-10-25T14:30:00Z')).toEqual({
      ms: Date.parse('2025-10-25T14:30:00Z'),
      exact: true,
    });
    for (const bad of [
      'yesterday',
      '2025-10-25',
      '2025-10-25T14:30:00',
      '1761402600123',
      '2025-13-01T00:00:00Z',
    ]) {
      expect(lastSyncInstant(bad), bad).toBeUndefined();
    }
  });
});

describe('wellpulse status lastSyncAt', () => {
  it('is the later of the last pull and the last processed push, or null', () => {
    const pull = '2025-10-25T14:30:00.000Z';
    const push = '2025-10-25T14:35:00.000Z';
    expect(lastSyncOf({ lastPullAt: pull, lastSyncAt: null })).toBe(pull);
    expect(lastSyncOf({ lastPullAt: null, lastSyncAt: push })).toBe(push);
    expect(lastSyncOf({ lastPullAt: pull, lastSyncAt: push })).toBe(push);
    expect(lastSyncOf({ lastPullAt: '2025-10-25T15:00:00+00:00', lastSyncAt: push })).toBe(
      '2025-10-25T15:00:00.000Z',
    );
    expect(lastSyncOf({ lastPullAt: null, lastSyncAt: null })).toBeNull();
  });
});

describe('wellpulse push answer', () => {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const entries = ids.map((_, i) => ({ ...entry, wellId: `w${i}` }));
  const conflict = {
    conflictId: 'x',
    fields: ['oilVolume'],
    serverValue: { oilVolume: 1 },
    clientValue: { oilVolume: 2 },
  };

  it('counts applied, duplicate and conflicting entries as succeeded, rejected and failed as failed, pending in neither', () => {
    const answer = pushResponse(
      entries,
      ids,
      {
        events: [
          { eventId: 'a', status: 'APPLIED' },
          { eventId: 'b', status: 'DUPLICATE' },
          { eventId: 'c', status: 'CONFLICT', conflict: { ...conflict, resolution: 'PENDING_REVIEW' } },
          {
            eventId: 'd',
            status: 'REJECTED',
            error: {
              code: 'INVALID_PAYLOAD',
              message: 'the event is invalid',
              retryable: false,
              errors: [{ path: 'events[3].payload.runtime', message: 'too big' }],
            },
          },
          { eventId: 'e', status: 'PENDING' },
        ],
      },
      '2025-10-25T14:35:00.000Z',
    );
    expect(answer).toEqual({
      succeeded: 3,
      failed: 1,
      conflicts: [
        {
          entryId: 'c',
          wellId: 'w2',
          recordedAt: entry.recordedAt,
          reason: expect.stringContaining('held for a manager'),
          resolution: 'SERVER_WINS',
        },
      ],
      errors: [
        { wellId: 'w3', error: 'INVALID_PAYLOAD: the event is invalid; entries[3].data.runtime: too big' },
      ],
      syncedAt: '2025-10-25T14:35:00.000Z',
    });
  });
});

describe('wellpulse error body', () => {
  const problem = { type: 'urn:fieldsync:problem:validation', title: 'Bad Request', status: 400 };

  it('is the document’s for a 400: {statusCode, message: "Validation failed", errors[{field, message}]}', () => {
    expect(VALIDATION_MESSAGE).toBe('Validation failed');
    expect(
      renderError({
        ...problem,
        detail: 'the body is invalid',
        errors: [{ path: 'entries[0].data.oilVolume', message: 'must be ≥ 0' }],
      }),
    ).toEqual({
      body: {
        statusCode: 400,
        message: 'Validation failed',
        errors: [{ field: 'entries[0].data.oilVolume', message: 'must be ≥ 0' }],
      },
      contentType: 'application/json',
    });
    // A 400 about the request as a whole (not JSON): the same wording, the reason at `$`.
    expect(renderError({ ...problem, detail: 'the body is not valid JSON: x' }).body).toEqual({
      statusCode: 400,
      message: 'Validation failed',
      errors: [{ field: '$', message: 'the body is not valid JSON: x' }],
    });
  });

  it('keeps fieldsync’s message for other statuses', () => {
    expect(
      renderError({ type: 'urn:fieldsync:problem:forbidden', title: 'Forbidden', status: 403, detail: 'no' })
        .body,
    ).toEqual({ statusCode: 403, message: 'no' });
  });
});
