import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  awaitsDecision,
  collectionOf,
  type DocumentResolution,
  documentPath,
  documentStats,
  eventIdOfItem,
  eventIdOfRequest,
  itemOfLastQueue,
  processAnswer,
  resolutionFor,
  toPendingItem,
  toRecordEvent,
} from '../../shared/compat/clinic/mapping.js';
import type { Conflict } from '../../shared/contracts/conflicts.js';
import type { SyncStats } from '../../shared/contracts/manager.js';
import type { RecordEventRow } from '../../shared/usecases/ports/event-log.js';

// The clinic dialect's pure mapping (shared/compat/clinic/mapping.ts): ids, names, events, stats, resolutions.

const request = {
  userId: '507f1f77bcf86cd799439011',
  deviceId: 'device-123',
  operation: 'CREATE' as const,
  resourceType: 'encounter',
  data: { clinicId: 'c-1', patientId: 'p-1', diagnosis: 'Common cold' },
  createdAtClient: '2025-11-30T10:00:00.000Z',
  version: 1,
};

describe('compat/clinic mapping', () => {
  it('keeps a UUID item id, and maps any other id to one stable UUID', () => {
    const uuid = '8D6F0C1E-3B7A-4C2D-9E1F-0A1B2C3D4E5F';
    expect(eventIdOfItem(uuid)).toBe(uuid.toLowerCase());
    const objectId = eventIdOfItem('507f1f77bcf86cd799439030');
    expect(objectId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(eventIdOfItem('507f1f77bcf86cd799439030')).toBe(objectId);
    expect(eventIdOfItem('507f1f77bcf86cd799439031')).not.toBe(objectId);
  });

  it('derives the id of a request from its content, not from the userId it claims', () => {
    const id = eventIdOfRequest(request);
    expect(eventIdOfRequest({ ...request, userId: 'someone-else' })).toBe(id);
    expect(eventIdOfRequest({ ...request, data: { ...request.data, diagnosis: 'Flu' } })).not.toBe(id);
    expect(eventIdOfRequest({ ...request, id: 'local-1' })).toBe(eventIdOfItem('local-1'));
  });

  it("names the tenant's collection for the document's resource type", () => {
    const has = (name: string) => ['patients', 'encounters', 'vitals'].includes(name);
    expect(collectionOf('encounter', has)).toBe('encounters');
    expect(collectionOf('Patient', has)).toBe('patients');
    expect(collectionOf('vitals', has)).toBe('vitals');
    expect(collectionOf('invoice', has)).toBe('invoice');
  });

  it('turns operations into record events with the pack’s fields', () => {
    const created = toRecordEvent(request, 'e-1', 'encounters');
    expect(created).toEqual({
      id: 'e-1',
      type: 'RECORD_CREATED',
      occurredAt: request.createdAtClient,
      payload: {
        collection: 'encounters',
        recordId: 'e-1',
        data: { ...request.data, encounteredAt: request.createdAtClient },
      },
    });
    const updated = toRecordEvent(
      {
        ...request,
        operation: 'UPDATE',
        resourceId: 'enc-9',
        data: { _id: 'enc-9', diagnosis: 'Flu' },
        version: 3,
      },
      'e-2',
      'encounters',
    );
    expect(updated.payload).toEqual({
      collection: 'encounters',
      recordId: 'enc-9',
      baseVersion: 3,
      changes: { diagnosis: 'Flu' },
    });
    expect(
      toRecordEvent({ ...request, operation: 'DELETE', resourceId: 'enc-9' }, 'e-3', 'encounters'),
    ).toMatchObject({
      type: 'RECORD_DELETED',
      payload: { collection: 'encounters', recordId: 'enc-9', baseVersion: 1 },
    });
  });

  it('speaks of the document’s fields in errors', () => {
    expect(documentPath('events[0].payload.changes.diagnosis')).toBe('data.diagnosis');
    expect(documentPath('events[0].payload.data')).toBe('data');
    expect(documentPath('events[0].payload.baseVersion')).toBe('version');
    expect(documentPath('events[0].occurredAt')).toBe('createdAtClient');
  });

  it('formats syncRate as the document does (140 of 150 → "93.33%")', () => {
    const stats = {
      total: 150,
      counts: { pending: 5, applied: 130, duplicate: 10, conflict: 2, rejected: 2, failed: 1 },
      from: '2025-11-01T00:00:00.000Z',
      to: '2025-11-30T00:00:00.000Z',
    } as SyncStats;
    expect(documentStats(stats)).toEqual({
      total: 150,
      pending: 5,
      synced: 140,
      failed: 3,
      conflicts: 2,
      syncRate: '93.33%',
      from: stats.from,
      to: stats.to,
    });
    expect(documentStats({ ...stats, total: 0 }).syncRate).toBe('0.00%');
  });

  it('maps the document’s resolutions onto the conflict use case, by who asks', () => {
    const held = { status: 'OPEN' as const, resolution: 'PENDING_REVIEW' as const };
    const [manager, operator] = [true, false];
    expect(resolutionFor('CLIENT_WINS', held, manager)).toBe('CLIENT_WINS');
    expect(resolutionFor('SERVER_WINS', held, manager)).toBe('SERVER_WINS');
    expect(resolutionFor('MANUAL', held, manager)).toBe('flagged');
    // A field user discards their own change, but overwriting others' data awaits a manager's approval.
    expect(resolutionFor('SERVER_WINS', held, operator)).toBe('SERVER_WINS');
    expect(resolutionFor('CLIENT_WINS', held, operator)).toBe('requested');
    expect(resolutionFor('MANUAL', held, operator)).toBe('flagged');
    // Settled by the strategy, not reviewed: a manager overrides; a field user's ask of what holds is kept.
    const byStrategy = { status: 'OPEN' as const, resolution: 'SERVER_WINS' as const };
    expect(resolutionFor('CLIENT_WINS', byStrategy, manager)).toBe('CLIENT_WINS');
    expect(resolutionFor('SERVER_WINS', byStrategy, manager)).toBe('SERVER_WINS');
    expect(resolutionFor('SERVER_WINS', byStrategy, operator)).toBe('kept');
    expect(resolutionFor('CLIENT_WINS', byStrategy, operator)).toBe('requested');
    expect(resolutionFor('SERVER_WINS', { ...byStrategy, resolution: 'CLIENT_WINS' }, operator)).toBe(
      'requested',
    );
    // Handled by a manager: asking what holds is kept, anything else refused, whoever asks.
    for (const status of ['RESOLVED', 'ACKNOWLEDGED'] as const) {
      for (const who of [manager, operator]) {
        expect(resolutionFor('SERVER_WINS', { status, resolution: 'SERVER_WINS' }, who)).toBe('kept');
        expect(resolutionFor('CLIENT_WINS', { status, resolution: 'SERVER_WINS' }, who)).toBe('refused');
        expect(resolutionFor('MANUAL', { status, resolution: 'SERVER_WINS' }, who)).toBe('refused');
      }
    }
  });

  it('property: only a manager writes over others, nothing is decided twice, and "kept" is what holds', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('CLIENT_WINS', 'SERVER_WINS', 'MANUAL') as fc.Arbitrary<DocumentResolution>,
        fc.constantFrom('OPEN', 'RESOLVED', 'ACKNOWLEDGED') as fc.Arbitrary<Conflict['status']>,
        fc.constantFrom('CLIENT_WINS', 'SERVER_WINS', 'MERGED', 'PENDING_REVIEW') as fc.Arbitrary<
          Conflict['resolution']
        >,
        fc.boolean(),
        (asked, status, resolution, manager) => {
          fc.pre(resolution !== 'PENDING_REVIEW' || status === 'OPEN'); // MANUAL's hold is always OPEN
          const outcome = resolutionFor(asked, { status, resolution }, manager);
          const writes = outcome === 'CLIENT_WINS' || outcome === 'SERVER_WINS';
          if (writes) expect(status).toBe('OPEN');
          if (writes && !manager) expect([outcome, resolution]).toEqual(['SERVER_WINS', 'PENDING_REVIEW']);
          if (status !== 'OPEN') expect(['kept', 'refused']).toContain(outcome);
          if (outcome === 'kept') expect(asked).toBe(resolution);
          if (outcome === 'requested') expect(manager).toBe(false);
          if (asked === 'MANUAL') expect(['flagged', 'refused']).toContain(outcome);
        },
      ),
    );
  });

  it('lists a CREATE with version 1 (what the document’s client sends), an UPDATE with the version it was made on', () => {
    const row = (type: RecordEventRow['type'], payload: Record<string, unknown>): RecordEventRow => ({
      id: 'e-1',
      batchId: 'b-1',
      deviceId: 'tab-1',
      userId: 'u-1',
      type,
      payload,
      occurredAt: '2025-11-30T10:00:00.000Z',
      receivedAt: '2025-11-30T10:01:00.000Z',
      status: 'PENDING',
      error: null,
      conflict: null,
      attempts: 0,
      conflictStatus: null,
      recordVersion: null,
    });
    const created = toRecordEvent(
      {
        deviceId: 'tab-1',
        operation: 'CREATE',
        resourceType: 'encounter',
        data: { patientId: 'p' },
        createdAtClient: '2025-11-30T10:00:00.000Z',
        version: 1,
      },
      'e-1',
      'encounters',
    );
    expect(toPendingItem(row('RECORD_CREATED', created.payload)).version).toBe(1);
    expect(
      toPendingItem(
        row('RECORD_UPDATED', { collection: 'patients', recordId: 'p', baseVersion: 4, changes: {} }),
      ).version,
    ).toBe(4);
  });

  it('answers process SYNCED once the item’s own user accepted what the strategy kept (SERVER_WINS), as resolve did', () => {
    const row = {
      id: 'e-1',
      batchId: 'b-1',
      deviceId: 'tab-1',
      userId: 'u-nurse',
      type: 'RECORD_UPDATED',
      payload: { collection: 'patients', recordId: 'p', baseVersion: 1, changes: { name: 'A' } },
      occurredAt: '2025-11-30T10:00:00.000Z',
      receivedAt: '2025-11-30T10:01:00.000Z',
      status: 'CONFLICT',
      error: null,
      conflict: null,
      attempts: 0,
      conflictStatus: 'SETTLED',
      recordVersion: 3,
    } satisfies RecordEventRow;
    const settled = {
      status: 'OPEN',
      resolution: 'SERVER_WINS',
      requestedResolution: null,
      requestedBy: null,
    } as unknown as Conflict;
    // Before the user's resolve: CONFLICT (409), as the document's client expects.
    expect(processAnswer(row, settled).status).toBe(409);
    // The nurse's SERVER_WINS (recorded on the conflict, which stays OPEN for a manager): SYNCED from now on.
    const accepted = { ...settled, requestedResolution: 'SERVER_WINS', requestedBy: 'u-nurse' } as Conflict;
    expect(processAnswer(row, accepted)).toMatchObject({ status: 200, body: { status: 'SYNCED' } });
    // Asked by someone else, or CLIENT_WINS (awaiting approval): still CONFLICT.
    expect(processAnswer(row, { ...accepted, requestedBy: 'u-other' } as Conflict).status).toBe(409);
    expect(processAnswer(row, { ...accepted, requestedResolution: 'CLIENT_WINS' } as Conflict).status).toBe(
      409,
    );
  });

  it('resolves an unknown id only to the one item of the last queue request, in conflict and undecided', () => {
    const row = (status: RecordEventRow['status']): RecordEventRow => ({
      id: 'e-1',
      batchId: 'b-1',
      deviceId: 'tab-1',
      userId: 'u-1',
      type: 'RECORD_UPDATED',
      payload: {},
      occurredAt: '2025-11-30T10:00:00.000Z',
      receivedAt: '2025-11-30T10:01:00.000Z',
      status,
      error: null,
      conflict: null,
      attempts: 0,
      conflictStatus: 'HELD',
      recordVersion: 2,
    });
    const latest = (events: RecordEventRow[], eventCount = events.length, tied = false) => ({
      events,
      eventCount,
      tied,
    });
    expect(itemOfLastQueue(latest([row('CONFLICT')]))?.id).toBe('e-1');
    expect(itemOfLastQueue(undefined)).toBeUndefined();
    expect(itemOfLastQueue(latest([row('APPLIED')]))).toBeUndefined();
    expect(itemOfLastQueue(latest([row('CONFLICT')], 1, true))).toBeUndefined();
    expect(itemOfLastQueue(latest([row('CONFLICT')], 2))).toBeUndefined();
    expect(itemOfLastQueue(latest([], 1))).toBeUndefined();
    expect(itemOfLastQueue(latest([row('CONFLICT'), row('CONFLICT')]))).toBeUndefined();
    expect(awaitsDecision(row('CONFLICT'), { status: 'OPEN' })).toBe(true);
    expect(awaitsDecision(row('CONFLICT'), { status: 'RESOLVED' })).toBe(false);
    expect(awaitsDecision(row('CONFLICT'), { status: 'ACKNOWLEDGED' })).toBe(false);
    expect(awaitsDecision(row('APPLIED'), undefined)).toBe(false);
  });
});
