import { describe, expect, it } from 'vitest';
import {
  decodeLastSync,
  encodeLastSync,
  entryEventId,
  entryToEvent,
  pushResponse,
  renderError,
} from '../../shared/compat/wellpulse/map.js';
import { entrySchema } from '../../shared/compat/wellpulse/wire.js';
import { checkEvent } from '../../shared/sync/validate-event.js';

// The pure translation of seed document 001 (shared/compat/wellpulse/map.ts).
const entry = entrySchema.parse({
  wellId: 'well-1',
  entryType: 'PRODUCTION',
  data: { oilVolume: 82.3, gasVolume: 375.8 },
  recordedAt: '2025-10-25T08:30:00.000Z',
  notes: 'ok',
});
const KEY = 'k'.repeat(64);

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

describe('wellpulse lastSyncTimestamp', () => {
  const at = new Date('2025-10-25T14:30:00.123Z');
  const position = { x: '123456', s: '789' };

  it('is an ISO 8601 time a client parses, carrying the position back', () => {
    const text = encodeLastSync(at, position, KEY, 'acme');
    expect(new Date(text).toISOString()).toBe(at.toISOString());
    expect(decodeLastSync(text, KEY, 'acme')).toEqual(position);
  });

  it('carries nothing when altered, of another tenant or key, or a plain time', () => {
    const text = encodeLastSync(at, position, KEY, 'acme');
    expect(decodeLastSync(text, KEY, 'globex')).toBeUndefined();
    expect(decodeLastSync(text, 'other-key', 'acme')).toBeUndefined();
    expect(decodeLastSync(text.replace('123456', '123457'), KEY, 'acme')).toBeUndefined();
    expect(decodeLastSync(at.toISOString(), KEY, 'acme')).toBeUndefined();
    expect(decodeLastSync('2025-10-25T14:30:00.1239Z', KEY, 'acme')).toBeUndefined();
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
  it('is {statusCode, message, errors[{field, message}]}', () => {
    expect(
      renderError({
        type: 'urn:fieldsync:problem:validation',
        title: 'Bad Request',
        status: 400,
        detail: 'the body is invalid',
        errors: [{ path: 'entries[0].data.oilVolume', message: 'must be ≥ 0' }],
      }),
    ).toEqual({
      body: {
        statusCode: 400,
        message: 'the body is invalid',
        errors: [{ field: 'entries[0].data.oilVolume', message: 'must be ≥ 0' }],
      },
      contentType: 'application/json',
    });
  });
});
