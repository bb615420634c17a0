import { describe, expect, it } from 'vitest';
import type { SyncEvent } from '../../shared/contracts/events.js';
import type { PendingEvent } from '../../shared/sync/plan-chunk.js';
import {
  created,
  deleted,
  deliverRecords,
  newRecordsModel,
  rule,
  updated,
} from '../support/records-model.js';

// Record events through planChunk (SPEC v1.1 "Record events", DESIGN-13 "Record engine"): each rejection, each
// strategy, tombstones, scopes and RECORD targets. Prepare a model, deliver chunks, assess outcomes and state.

const T1 = '2025-10-25T08:00:00.000Z';
const T2 = '2025-10-25T09:00:00.000Z';
const T3 = '2025-10-25T10:00:00.000Z';

const note = (id: string, recordId: string, collection = 'notes'): PendingEvent => ({
  event: {
    id,
    type: 'NOTES_ADDED',
    occurredAt: T3,
    payload: { target: { type: 'RECORD', collection, id: recordId }, text: 'checked' },
  } as SyncEvent,
  batchId: `batch-${id}`,
  deviceId: 'dev-a',
  userId: 'user-dev-a',
});

describe('record events: create, update, rejections', () => {
  it('a create stores version 1 with every field stamped; an update merges and bumps the version', () => {
    const model = newRecordsModel();
    deliverRecords(model, [created('c1', 'r1', { title: 'a', body: 'b' }, { occurredAt: T1 })]);
    const r = model.records.get('notes/r1');
    expect(r).toMatchObject({ version: 1, data: { title: 'a', body: 'b' }, deleted: false, scope: null });
    expect(Object.keys(r?.fieldMeta ?? {}).sort()).toEqual(['body', 'title']);
    expect(r?.fieldMeta.title).toEqual({
      version: 1,
      stamp: { occurredAt: T1, deviceId: 'dev-a', eventId: 'c1' },
    });
    deliverRecords(model, [updated('u1', 'r1', 1, { title: 'c', extra: null }, { occurredAt: T2 })]);
    expect(model.records.get('notes/r1')).toMatchObject({
      version: 2,
      data: { title: 'c', body: 'b', extra: null },
    });
    expect(model.outcomes.get('u1')?.status).toBe('APPLIED');
  });

  it('two devices creating the same id conflict field by field (LWW: the later wins; fields of one side merge)', () => {
    const model = newRecordsModel();
    deliverRecords(model, [
      created('c-late', 'r1', { title: 'late', a: 1 }, { deviceId: 'dev-b', occurredAt: T2 }),
    ]);
    deliverRecords(model, [created('c-early', 'r1', { title: 'early', b: 2 }, { occurredAt: T1 })]);
    expect(model.records.get('notes/r1')?.data).toEqual({ title: 'late', a: 1, b: 2 });
    const outcome = model.outcomes.get('c-early');
    expect(outcome?.status).toBe('CONFLICT');
    expect(outcome?.conflict).toMatchObject({
      fields: ['title'],
      resolution: 'SERVER_WINS',
      serverValue: { title: 'late' },
      clientValue: { title: 'early' },
    });
    expect(model.conflicts).toHaveLength(1);
    expect(model.conflicts[0]).toMatchObject({
      recordType: 'RECORD',
      recordKey: 'notes/r1',
      eventId: 'c-early',
    });
  });

  it('unknown collection: REJECTED UNKNOWN_COLLECTION, not retryable', () => {
    const model = newRecordsModel();
    deliverRecords(model, [created('c1', 'r1', { a: 1 }, { collection: 'nope' })]);
    expect(model.outcomes.get('c1')).toMatchObject({
      status: 'REJECTED',
      error: { code: 'UNKNOWN_COLLECTION', retryable: false },
    });
    expect(model.records.size).toBe(0);
  });

  it('update or delete of an unknown record: REJECTED RECORD_NOT_FOUND, retryable; after the create it applies', () => {
    const model = newRecordsModel();
    deliverRecords(model, [updated('u1', 'r1', 1, { a: 2 }), deleted('d1', 'r2', 1)]);
    for (const id of ['u1', 'd1'])
      expect(model.outcomes.get(id)).toMatchObject({
        status: 'REJECTED',
        error: { code: 'RECORD_NOT_FOUND', retryable: true },
      });
    // The create arrives; the retried update (a new delivery of the same event) applies.
    deliverRecords(model, [created('c1', 'r1', { a: 1 }, { occurredAt: T1 })]);
    model.outcomes.delete('u1');
    deliverRecords(model, [updated('u1', 'r1', 1, { a: 2 }, { occurredAt: T2 })]);
    expect(model.outcomes.get('u1')?.status).toBe('APPLIED');
    expect(model.records.get('notes/r1')?.data).toEqual({ a: 2 });
  });

  it('a create and an update of it in one chunk: the create is planned first (stamp order)', () => {
    const model = newRecordsModel();
    deliverRecords(model, [
      updated('u1', 'r1', 1, { a: 2 }, { occurredAt: T2 }),
      created('c1', 'r1', { a: 1 }, { occurredAt: T1 }),
    ]);
    expect(model.outcomes.get('u1')?.status).toBe('APPLIED');
    expect(model.records.get('notes/r1')).toMatchObject({ version: 2, data: { a: 2 } });
  });
});

describe('record events: strategies per field (collection conflict.fields over conflict.strategy)', () => {
  const setup = () => {
    const model = newRecordsModel({
      notes: rule('LWW', { keep: 'SERVER_WINS', take: 'CLIENT_WINS', review: 'MANUAL' }),
    });
    deliverRecords(model, [created('c1', 'r1', { lww: 0, keep: 0, take: 0, review: 0 }, { occurredAt: T1 })]);
    return model;
  };

  it('LWW: a later edit from the same base wins and the earlier writer becomes the loser', () => {
    const model = setup();
    deliverRecords(model, [updated('late', 'r1', 1, { lww: 2 }, { deviceId: 'dev-b', occurredAt: T3 })]);
    deliverRecords(model, [updated('early', 'r1', 1, { lww: 1 }, { deviceId: 'dev-c', occurredAt: T2 })]);
    expect(model.records.get('notes/r1')?.data.lww).toBe(2);
    expect(model.outcomes.get('late')?.status).toBe('APPLIED');
    expect(model.outcomes.get('early')?.conflict).toMatchObject({
      fields: ['lww'],
      resolution: 'SERVER_WINS',
    });
  });

  it('SERVER_WINS keeps the applied value; CLIENT_WINS overwrites it; MANUAL holds it for review', () => {
    const model = setup();
    deliverRecords(model, [
      updated('first', 'r1', 1, { keep: 1, take: 1, review: 1 }, { deviceId: 'dev-b', occurredAt: T2 }),
    ]);
    deliverRecords(model, [
      updated('second', 'r1', 1, { keep: 2, take: 2, review: 2 }, { deviceId: 'dev-c', occurredAt: T3 }),
    ]);
    const r = model.records.get('notes/r1');
    expect(r?.data).toMatchObject({ keep: 1, take: 2, review: 1 });
    const outcome = model.outcomes.get('second');
    expect(outcome?.status).toBe('CONFLICT');
    // A write holding a MANUAL field is held for review (the manager decides the whole conflict).
    expect(outcome?.conflict).toMatchObject({
      fields: ['keep', 'review', 'take'],
      resolution: 'PENDING_REVIEW',
      serverValue: { keep: 1, review: 1, take: 1 },
      clientValue: { keep: 2, review: 2, take: 2 },
    });
  });

  it('CLIENT_WINS alone reports CLIENT_WINS; SERVER_WINS alone SERVER_WINS', () => {
    const model = setup();
    deliverRecords(model, [
      updated('b', 'r1', 1, { keep: 1, take: 1 }, { deviceId: 'dev-b', occurredAt: T2 }),
    ]);
    deliverRecords(model, [updated('c', 'r1', 1, { take: 2 }, { deviceId: 'dev-c', occurredAt: T2 })]);
    deliverRecords(model, [updated('d', 'r1', 1, { keep: 2 }, { deviceId: 'dev-d', occurredAt: T3 })]);
    expect(model.outcomes.get('c')?.conflict?.resolution).toBe('CLIENT_WINS');
    expect(model.outcomes.get('d')?.conflict?.resolution).toBe('SERVER_WINS');
    expect(model.records.get('notes/r1')?.data).toMatchObject({ keep: 1, take: 2 });
  });
});

describe('record events: deletes and tombstones', () => {
  const setup = (strategy: 'LWW' | 'SERVER_WINS' | 'CLIENT_WINS' | 'MANUAL') => {
    const model = newRecordsModel({ notes: rule(strategy) });
    deliverRecords(model, [created('c1', 'r1', { a: 0 }, { occurredAt: T1 })]);
    return model;
  };

  it('a delete from the current version makes a tombstone (version + 1, delete stamp), data kept', () => {
    const model = setup('LWW');
    deliverRecords(model, [deleted('d1', 'r1', 1, { occurredAt: T2 })]);
    expect(model.records.get('notes/r1')).toMatchObject({
      version: 2,
      deleted: true,
      deleteStamp: { occurredAt: T2, deviceId: 'dev-a', eventId: 'd1' },
      data: { a: 0 },
    });
    expect(model.outcomes.get('d1')?.status).toBe('APPLIED');
  });

  for (const strategy of ['SERVER_WINS', 'CLIENT_WINS', 'MANUAL'] as const) {
    it(`${strategy}: an update (or a create) of a tombstone is REJECTED RECORD_DELETED`, () => {
      const model = setup(strategy);
      deliverRecords(model, [deleted('d1', 'r1', 1, { occurredAt: T2 })]);
      deliverRecords(model, [
        updated('u1', 'r1', 1, { a: 1 }, { deviceId: 'dev-b', occurredAt: T3 }),
        created('c2', 'r1', { a: 2 }, { deviceId: 'dev-b', occurredAt: T3 }),
      ]);
      for (const id of ['u1', 'c2'])
        expect(model.outcomes.get(id)).toMatchObject({
          status: 'REJECTED',
          error: { code: 'RECORD_DELETED', retryable: false },
        });
      expect(model.records.get('notes/r1')?.deleted).toBe(true);
    });
  }

  it('LWW, delete against an older offline edit: deleted in both arrival orders, the edit is the loser', () => {
    for (const order of [0, 1]) {
      const model = setup('LWW');
      const edit = updated('edit', 'r1', 1, { a: 1 }, { deviceId: 'dev-b', occurredAt: T2 });
      const del = deleted('del', 'r1', 1, { occurredAt: T3 });
      for (const e of order ? [del, edit] : [edit, del]) deliverRecords(model, [e]);
      expect(model.records.get('notes/r1')?.deleted).toBe(true);
      expect(model.outcomes.get('del')?.status).toBe('APPLIED');
      expect(model.outcomes.get('edit')?.conflict).toMatchObject({
        fields: ['_deleted'],
        resolution: 'SERVER_WINS',
        serverValue: { _deleted: true },
        clientValue: { _deleted: false },
      });
      expect(model.conflicts.map((c) => [c.eventId, c.otherEventId])).toEqual([['edit', 'del']]);
    }
  });

  it('LWW, a newer offline edit against a delete: the edit resurrects the record in both orders, the delete loses', () => {
    for (const order of [0, 1]) {
      const model = setup('LWW');
      const edit = updated('edit', 'r1', 1, { a: 1 }, { deviceId: 'dev-b', occurredAt: T3 });
      const del = deleted('del', 'r1', 1, { occurredAt: T2 });
      for (const e of order ? [del, edit] : [edit, del]) deliverRecords(model, [e]);
      expect(model.records.get('notes/r1')).toMatchObject({
        deleted: false,
        deleteStamp: null,
        data: { a: 1 },
      });
      expect(model.outcomes.get('edit')?.status).toBe('APPLIED');
      expect(model.outcomes.get('del')?.conflict).toMatchObject({
        fields: ['_deleted'],
        resolution: 'SERVER_WINS',
        serverValue: { _deleted: false },
        clientValue: { _deleted: true },
      });
    }
  });

  it('SERVER_WINS keeps an edited record; CLIENT_WINS deletes it; MANUAL keeps it and holds the delete', () => {
    const expectations = { SERVER_WINS: false, CLIENT_WINS: true, MANUAL: false } as const;
    for (const [strategy, gone] of Object.entries(expectations)) {
      const model = setup(strategy as keyof typeof expectations);
      deliverRecords(model, [updated('edit', 'r1', 1, { a: 1 }, { deviceId: 'dev-b', occurredAt: T3 })]);
      deliverRecords(model, [deleted('del', 'r1', 1, { occurredAt: T2 })]);
      expect(model.records.get('notes/r1')?.deleted, strategy).toBe(gone);
      expect(model.outcomes.get('del')?.conflict?.resolution, strategy).toBe(
        { SERVER_WINS: 'SERVER_WINS', CLIENT_WINS: 'CLIENT_WINS', MANUAL: 'PENDING_REVIEW' }[strategy],
      );
    }
  });

  it('a delete of a device’s own earlier edit is no conflict; deleting a tombstone again changes nothing', () => {
    const model = setup('MANUAL');
    deliverRecords(model, [updated('edit', 'r1', 1, { a: 1 }, { occurredAt: T2 })]);
    deliverRecords(model, [deleted('del', 'r1', 1, { occurredAt: T3 })]);
    expect(model.outcomes.get('del')?.status).toBe('APPLIED');
    deliverRecords(model, [deleted('del2', 'r1', 1, { deviceId: 'dev-b', occurredAt: T3 })]);
    expect(model.outcomes.get('del2')?.status).toBe('APPLIED');
    expect(model.records.get('notes/r1')?.deleted).toBe(true);
    expect(model.conflicts).toEqual([]);
  });
});

describe('record events: scopes (DESIGN-13 scope rule for writes)', () => {
  const setup = () => {
    const model = newRecordsModel({ patients: rule('LWW', undefined, 'clinicId') });
    model.grants.set('user-op', new Set(['A']));
    return model;
  };
  const op = { deviceId: 'op', collection: 'patients', roles: ['OPERATOR'] };

  it('records.scope is the scope field’s value as text; an OPERATOR writes only granted scopes', () => {
    const model = setup();
    deliverRecords(model, [
      created('in-a', 'p1', { clinicId: 'A', name: 'x' }, op),
      created('in-b', 'p2', { clinicId: 'B', name: 'y' }, op),
      created('none', 'p3', { name: 'z' }, op),
      created('num', 'p4', { clinicId: 7 }, { collection: 'patients', roles: ['MANAGER'] }),
    ]);
    expect(model.records.get('patients/p1')?.scope).toBe('A');
    expect(model.records.get('patients/p4')?.scope).toBe('7');
    for (const id of ['in-b', 'none'])
      expect(model.outcomes.get(id)).toMatchObject({
        status: 'REJECTED',
        error: { code: 'SCOPE_NOT_GRANTED', retryable: false },
      });
    expect(model.records.has('patients/p2')).toBe(false);
  });

  it('an OPERATOR may not move a record to, or edit one in, a scope not granted; a MANAGER may', () => {
    const model = setup();
    deliverRecords(model, [created('c1', 'p1', { clinicId: 'A' }, op)]);
    deliverRecords(model, [
      created('c2', 'p2', { clinicId: 'B' }, { collection: 'patients', roles: ['ADMIN'] }),
    ]);
    deliverRecords(model, [
      updated('move', 'p1', 1, { clinicId: 'B' }, { ...op, occurredAt: T3 }),
      updated('edit-b', 'p2', 1, { name: 'n' }, { ...op, occurredAt: T3 }),
      deleted('del-b', 'p2', 1, { ...op, occurredAt: T3 }),
    ]);
    for (const id of ['move', 'edit-b', 'del-b'])
      expect(model.outcomes.get(id)?.error?.code, id).toBe('SCOPE_NOT_GRANTED');
    deliverRecords(model, [
      updated(
        'mgr',
        'p1',
        1,
        { clinicId: 'B' },
        { collection: 'patients', roles: ['MANAGER'], occurredAt: T3 },
      ),
    ]);
    expect(model.records.get('patients/p1')?.scope).toBe('B');
  });

  it('events with no stored roles (accepted before roles were stored) are not restricted', () => {
    const model = setup();
    deliverRecords(model, [created('c1', 'p1', { clinicId: 'Z' }, { collection: 'patients' })]);
    expect(model.outcomes.get('c1')?.status).toBe('APPLIED');
  });
});

describe('notes and photos on records (RECORD targets)', () => {
  it('a live record (stored, or created in the same chunk) takes a note; unknown or deleted: TARGET_NOT_FOUND, retryable', () => {
    const model = newRecordsModel();
    deliverRecords(model, [created('c1', 'r1', { a: 1 }, { occurredAt: T1 }), created('c2', 'r2', { a: 1 })]);
    deliverRecords(model, [deleted('d2', 'r2', 1, { occurredAt: T2 })]);
    deliverRecords(model, [
      note('n1', 'r1'),
      note('n2', 'r2'),
      note('n3', 'r9'),
      note('n4', 'r1', 'other'),
      created('c5', 'r5', { a: 1 }),
      note('n5', 'r5'),
    ]);
    expect(model.outcomes.get('n1')?.status).toBe('APPLIED');
    expect(model.outcomes.get('n5')?.status).toBe('APPLIED');
    for (const id of ['n2', 'n3', 'n4'])
      expect(model.outcomes.get(id)).toMatchObject({
        status: 'REJECTED',
        error: { code: 'TARGET_NOT_FOUND', retryable: true },
      });
  });
});
