import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodePhoto,
  derivedUuid,
  deviceIdFor,
  toBatchResponse,
  translateEvent,
  uploadContentType,
} from '../../shared/compat/fieldops/mapping.js';
import { renderFieldopsError } from '../../shared/compat/fieldops/wire.js';
import type { EventOutcome } from '../../shared/contracts/sync.js';
import { toProblem } from '../../shared/http/problem.js';
import { AppError } from '../../shared/errors.js';

// The pure translation of dialect 003 (shared/compat/fieldops/mapping.ts): what the e2e flow cannot provoke
// on demand (an event still PENDING when the wait ends), and the mapping rules docs/compat/fieldops.md states.
const at = '2025-10-21T09:15:00.000Z';

describe('fieldops mapping', () => {
  it('maps the document maintenance event onto MAINTENANCE_LOGGED as the docs table says', () => {
    // Act
    const t = translateEvent(
      {
        id: 'evt-002',
        eventType: 'EQUIPMENT_MAINTENANCE_LOGGED',
        aggregateId: 'equip-789',
        payload: {
          maintenanceType: 'REPAIR',
          description: 'Replaced motor belt',
          technician: 'J. Ortiz',
          maintenanceDate: '2025-10-21',
          photoPath: '/local/photos/uuid.jpg',
          location: { latitude: 31.8, longitude: -102.3, accuracy: 5, timestamp: 1 },
        },
        timestamp: at,
      },
      0,
      'dev-1',
    );
    // Assess
    expect(t).toMatchObject({
      ok: true,
      clientId: 'evt-002',
      event: {
        id: derivedUuid('fieldops-event', 'dev-1', 'evt-002'),
        type: 'MAINTENANCE_LOGGED',
        occurredAt: at,
        location: { latitude: 31.8, longitude: -102.3, accuracy: 5 },
        payload: {
          equipmentId: 'equip-789',
          maintenanceType: 'REPAIR',
          description: 'Replaced motor belt',
          vendorName: 'J. Ortiz',
          performedAt: '2025-10-21T00:00:00.000Z',
        },
      },
      photoTarget: { type: 'MAINTENANCE' },
    });
    if (!t.ok) throw new Error('not translated');
    expect(t.event.payload).not.toHaveProperty('photoPath');
    expect(t.event.payload).not.toHaveProperty('location');
    // The same client id from another device is another v1 event; a UUID id is kept.
    expect(derivedUuid('fieldops-event', 'dev-2', 'evt-002')).not.toBe(t.event.id);
    const uuid = '8d6f1c2e-0b7a-4c1e-9f3a-2b4c6d8e0f12';
    expect(
      translateEvent({ id: uuid, eventType: 'NOTES_ADDED', payload: {}, timestamp: at }, 0, 'd'),
    ).toMatchObject({
      event: { id: uuid },
    });
  });

  it('reports an event PENDING when the wait ended in none of the lists; CONFLICT resolutions as the document names them', () => {
    // Prepare
    const plan = {
      events: [
        { clientId: 'a', v1Id: 'id-a', attachIds: [] },
        { clientId: 'b', v1Id: 'id-b', attachIds: ['att-b'] },
        { clientId: 'c', v1Id: 'id-c', attachIds: [] },
      ],
      failed: [],
      photoFailed: [],
      photos: [{ eventId: 'b', filename: 'b.jpg', photoId: 'p', attachId: 'att-b' }],
    };
    const conflict = {
      conflictId: 'k',
      fields: ['notes'],
      resolution: 'MERGED' as const,
      serverValue: { notes: 'x' },
      clientValue: { notes: 'y' },
    };
    const outcomes = new Map<string, EventOutcome>([
      ['id-a', { eventId: 'id-a', status: 'PENDING' }],
      ['id-b', { eventId: 'id-b', status: 'APPLIED' }],
      ['att-b', { eventId: 'att-b', status: 'PENDING' }],
      ['id-c', { eventId: 'id-c', status: 'CONFLICT', conflict }],
    ]);
    // Act
    const response = toBatchResponse(plan, outcomes);
    // Assess: a, and b whose photo is not attached yet, are in no list; c is a MERGE conflict.
    expect(response.synced).toEqual([]);
    expect(response.failed).toEqual([]);
    expect(response.conflicts).toEqual([
      expect.objectContaining({
        eventId: 'c',
        resolution: 'MERGE',
        existingData: { notes: 'x' },
        incomingData: { notes: 'y' },
      }),
    ]);
    expect(response.photos).toEqual([{ eventId: 'b', filename: 'b.jpg', photoId: 'p', status: 'PENDING' }]);
  });

  it('lists an event in failed once, with its own refusal before a photo’s (issue 14 fix)', () => {
    // Prepare: event e1 refused by v1 and one of its photos refused before the push; e2 with a bad inline
    // photo, a failed attach and a photo never uploaded; e3 refused at translation and its photo "orphaned".
    const plan = {
      events: [
        { clientId: 'e1', v1Id: 'id-1', attachIds: [] },
        { clientId: 'e2', v1Id: 'id-2', attachIds: ['att-2'] },
      ],
      failed: [{ eventId: 'e3', reason: 'bad type', code: 'UNKNOWN_EVENT_TYPE', retryable: false }],
      photoFailed: [
        {
          eventId: 'e1',
          reason: 'not a jpeg',
          code: 'INVALID_PAYLOAD',
          retryable: false,
          filename: 'a.jpg',
          errors: [{ path: 'photos[0].base64Data', message: 'not a jpeg' }],
        },
        { eventId: 'e2', reason: 'never uploaded', code: 'PHOTO_NOT_UPLOADED', retryable: true },
        { eventId: 'e2', reason: 'too big', code: 'INVALID_PAYLOAD', retryable: false, filename: 'b.jpg' },
        { eventId: 'e3', reason: 'names no event', code: 'TARGET_NOT_FOUND', retryable: false },
      ],
      photos: [{ eventId: 'e2', filename: 'c.jpg', photoId: 'p', attachId: 'att-2' }],
    };
    const outcomes = new Map<string, EventOutcome>([
      [
        'id-1',
        {
          eventId: 'id-1',
          status: 'REJECTED',
          error: { code: 'EQUIPMENT_DELETED', message: 'deleted', retryable: false },
        },
      ],
      ['id-2', { eventId: 'id-2', status: 'APPLIED' }],
      [
        'att-2',
        {
          eventId: 'att-2',
          status: 'REJECTED',
          error: { code: 'INVALID_PAYLOAD', message: 'x', retryable: false },
        },
      ],
    ]);
    // Act
    const response = toBatchResponse(plan, outcomes);
    // Assess: one entry each, the most specific reason; the photo's paths kept.
    expect(response.failed).toEqual([
      { eventId: 'e3', reason: 'bad type', code: 'UNKNOWN_EVENT_TYPE', retryable: false },
      {
        eventId: 'e1',
        reason: 'deleted',
        code: 'EQUIPMENT_DELETED',
        retryable: false,
        errors: [{ path: 'photos[0].base64Data', message: 'not a jpeg' }],
      },
      { eventId: 'e2', reason: 'too big', code: 'INVALID_PAYLOAD', retryable: false, filename: 'b.jpg' },
    ]);
    expect(response.synced).toEqual([]);
  });

  it('never lists an event twice in any list, whatever was refused (property)', () => {
    const ids = fc.constantFrom('a', 'b', 'c', 'd');
    const refusal = fc.record({
      eventId: ids,
      retryable: fc.boolean(),
      code: fc.constantFrom('INVALID_PAYLOAD', 'PHOTO_NOT_UPLOADED', 'TARGET_NOT_FOUND'),
    });
    const status = fc.constantFrom(
      'APPLIED',
      'DUPLICATE',
      'REJECTED',
      'FAILED',
      'PENDING',
      'CONFLICT' as const,
    );
    fc.assert(
      fc.property(
        fc.array(fc.record({ clientId: ids, status, attach: fc.option(status, { nil: undefined }) }), {
          maxLength: 8,
        }),
        fc.array(refusal, { maxLength: 4 }),
        fc.array(refusal, { maxLength: 6 }),
        (events, own, photo) => {
          // Prepare
          const outcomes = new Map<string, EventOutcome>();
          const conflict = {
            conflictId: 'k',
            fields: ['notes'],
            resolution: 'SERVER_WINS' as const,
            serverValue: {},
            clientValue: {},
          };
          const plan = {
            events: events.map((e, i) => {
              outcomes.set(`v-${i}`, {
                eventId: `v-${i}`,
                status: e.status,
                ...(e.status === 'CONFLICT' ? { conflict } : {}),
              });
              if (e.attach) outcomes.set(`att-${i}`, { eventId: `att-${i}`, status: e.attach });
              return { clientId: e.clientId, v1Id: `v-${i}`, attachIds: e.attach ? [`att-${i}`] : [] };
            }),
            failed: own.map((r) => ({ ...r, reason: 'own' })),
            photoFailed: photo.map((r) => ({ ...r, reason: 'photo' })),
            photos: [],
          };
          // Act
          const response = toBatchResponse(plan, outcomes);
          // Assess: each list names an event at most once; synced and failed never share one; every refused
          // event is in failed, with its own refusal when it has one.
          for (const list of [response.synced, response.failed.map((f) => f.eventId)]) {
            expect(new Set(list).size).toBe(list.length);
          }
          expect(response.synced.filter((id) => response.failed.some((f) => f.eventId === id))).toEqual([]);
          for (const r of [...own, ...photo]) {
            expect(response.failed.map((f) => f.eventId)).toContain(r.eventId);
          }
          for (const r of own) {
            expect(response.failed.find((f) => f.eventId === r.eventId)?.reason).toBe('own');
          }
        },
      ),
    );
  });

  it('decodes photos to stable ids, refuses what is not base64, and picks upload types as documented', () => {
    const photo = {
      eventId: 'e',
      filename: 'f.jpg',
      contentType: 'image/jpeg',
      base64Data: 'data:image/jpeg;base64,/9j/4A==',
    };
    const one = decodePhoto(photo, 0, 'dev', 0);
    const again = decodePhoto(photo, 3, 'dev', 0);
    expect(one.ok && again.ok && one.photoId === again.photoId).toBe(true);
    expect(one.ok && [...one.bytes.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect(decodePhoto({ ...photo, base64Data: 'not base64!' }, 0, 'dev', 0)).toMatchObject({
      ok: false,
      failed: { code: 'INVALID_PAYLOAD', filename: 'f.jpg' },
    });
    expect(uploadContentType({ filename: 'x.PNG' })).toBe('image/png');
    expect(uploadContentType({})).toBe('image/jpeg');
    expect(() => uploadContentType({ contentType: 'image/gif' })).toThrow();
    expect(deviceIdFor({ userId: 'user-456' })).toBe('fieldops-user-456');
    expect(deviceIdFor({ userId: 'a b' })).toMatch(/^fieldops-a-b-[0-9a-f]{12}$/);
    expect(() => deviceIdFor({ userId: 'u' }, 'bad device')).toThrow();
  });

  it('words errors as NestJS does: `error` is Nest’s name of the status, for every status the product answers', () => {
    // Nest's exception names (HttpStatus descriptions used by its built-in exceptions).
    const nest: Record<number, string> = {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      405: 'Method Not Allowed',
      409: 'Conflict',
      410: 'Gone',
      413: 'Payload Too Large',
      415: 'Unsupported Media Type',
      422: 'Unprocessable Entity',
      429: 'Too Many Requests',
      503: 'Service Unavailable',
    };
    for (const [status, name] of Object.entries(nest)) {
      const { problem } = toProblem(new StatusError(Number(status)), 'req-1');
      expect(problem.status).toBe(Number(status));
      expect(renderFieldopsError(problem).body, status).toMatchObject({
        statusCode: Number(status),
        error: name,
      });
    }
    expect(renderFieldopsError({ type: 't', title: 'Internal Server Error', status: 500 }).body.error).toBe(
      'Internal Server Error',
    );
  });
});

const KINDS = {
  400: 'validation',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  410: 'gone',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  422: 'unprocessable',
  429: 'rate-limited',
  503: 'dependency-unavailable',
} as const;
/** An application error of the kind the one problem mapping answers with this status. */
class StatusError extends AppError {
  readonly kind: AppError['kind'];
  constructor(status: number) {
    super('x');
    this.kind = KINDS[status as keyof typeof KINDS];
  }
}
