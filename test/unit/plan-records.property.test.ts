import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Json } from '../../shared/sync/merge.js';
import type { PendingEvent } from '../../shared/sync/plan-chunk.js';
import {
  created,
  deleted,
  deliverRecords,
  newRecordsModel,
  type RecordsModel,
  updated,
} from '../support/records-model.js';
import { deliveryArb } from '../support/delivery.js';

// Order independence of record events under LWW (SPEC v1.1 "Record events": "order independence … as in v1";
// DESIGN-13 "Record engine"), through planChunk and an in-memory model of the tables (test/support/records-model.ts):
// the same events delivered in any order, cut into any chunks, some delivered more than once — and retryable
// refusals (RECORD_NOT_FOUND: an update that came before its create) retried as a device does — end in the same
// records (data, liveness, per-field stamps) and the same conflict set (every lost (event, field, value)).

const RUNS = { numRuns: 300 };
const TIMES = [
  '2025-10-25T08:30:00.000Z',
  '2025-10-25T08:30:00.000Z',
  '2025-10-25T08:31:00.000Z',
  '2025-10-25T09:00:00.000Z',
];
const CREATED_AT = '2025-10-25T08:00:00.000Z';
const FIELDS = ['x', 'y', 'z'] as const;

/** Delivers the chunks, then retries retryable refusals (as a device pushing again) until none is left. */
function run(events: PendingEvent[], chunks: number[][]): RecordsModel {
  const model = newRecordsModel();
  for (const chunk of chunks)
    deliverRecords(
      model,
      chunk.map((i) => events[i] as PendingEvent),
    );
  for (let round = 0; round < events.length; round++) {
    const retry = events.filter((e) => model.outcomes.get(e.event.id)?.error?.retryable);
    if (!retry.length) break;
    for (const e of retry) model.outcomes.delete(e.event.id);
    for (const e of retry) deliverRecords(model, [e]);
  }
  return model;
}

const state = (model: RecordsModel) =>
  Object.fromEntries(
    [...model.records].map(([key, r]) => [
      key,
      {
        data: r.data,
        deleted: r.deleted,
        deletes: r.deletes.map((d) => d.eventId).sort(),
        stamps: Object.fromEntries(Object.entries(r.fieldMeta).map(([f, m]) => [f, m.stamp])),
      },
    ]),
  );
const losses = (model: RecordsModel) =>
  model.conflicts
    .flatMap((c) =>
      c.fields.map((f) => `${c.recordKey}|${c.eventId}|${f}|${JSON.stringify(c.clientValue[f])}`),
    )
    .sort();
const statuses = (model: RecordsModel) =>
  Object.fromEntries([...model.outcomes].map(([id, o]) => [id, o.status]));
/** Two runs over the same events ended alike: records, every event's status, the lost (event, field, value). */
const expectSameResult = (a: RecordsModel, b: RecordsModel) => {
  expect(state(b)).toEqual(state(a));
  expect(statuses(b)).toEqual(statuses(a));
  expect(losses(b)).toEqual(losses(a));
};

interface Op {
  kind: 'create' | 'update' | 'delete';
  record: 'r1' | 'r2' | 'r3';
  occurredAt: string;
  fields: string[];
}

/**
 * Each event its own device with values of its own, all concurrent (none saw another):
 * - r1 exists before every generated event (its create is delivered first); updates and deletes of it are based
 *   on its version 1;
 * - r2 is created by `create-r2` (earlier than every edit of it, which are based on its version 1), delivered
 *   like the others: edits arriving before it are REJECTED RECORD_NOT_FOUND and retried;
 * - r3 is only created, by several devices at once (a create of an existing id is an update from version 0).
 * (Edits based on version 1 of a record that several devices created are left out: which create is version 1
 * depends on arrival, so such an edit's base means different things in different orders.)
 */
const opsArb = (kinds: Op['kind'][], maxLength: number) =>
  fc.array(
    fc
      .record({
        kind: fc.constantFrom(...kinds),
        record: fc.constantFrom('r1' as const, 'r2' as const),
        occurredAt: fc.constantFrom(...TIMES),
        fields: fc.subarray([...FIELDS], { minLength: 1 }),
      })
      .map((op): Op => (op.kind === 'create' ? { ...op, record: 'r3' } : op)),
    { minLength: 1, maxLength },
  );

const toEvents = (ops: Op[]): PendingEvent[] => {
  const values = (i: number, fields: string[]) =>
    Object.fromEntries(fields.map((f) => [f, `${f}-${i}` as Json]));
  const at = { occurredAt: CREATED_AT };
  return [
    created('create-r1', 'r1', { x: 'x-s', y: 'y-s', z: 'z-s' }, { deviceId: 'seed', ...at }),
    created('create-r2', 'r2', { x: 'x-t', y: 'y-t' }, { deviceId: 'seed-2', ...at }),
    ...ops.map((op, i) => {
      const o = { deviceId: `dev-${i}`, occurredAt: op.occurredAt };
      if (op.kind === 'create') return created(`evt-${i}`, op.record, values(i, op.fields), o);
      if (op.kind === 'update') return updated(`evt-${i}`, op.record, 1, values(i, op.fields), o);
      return deleted(`evt-${i}`, op.record, 1, o);
    }),
  ];
};

/** r1's create first, then the deliveries of everything else (r2's create among them). */
const withSeedFirst = (chunks: number[][]) => [[0], ...chunks.map((c) => c.map((i) => i + 1))];
const generated = (kinds: Op['kind'][], maxLength: number) =>
  opsArb(kinds, maxLength).chain((ops) =>
    fc.tuple(fc.constant(ops), deliveryArb(ops.length + 1), deliveryArb(ops.length + 1)),
  );

describe('record events — LWW order independence (fast-check)', () => {
  it('creates, updates and deletes from many devices: the same records in every order, chunking and redelivery', () => {
    fc.assert(
      fc.property(generated(['create', 'update', 'delete'], 6), ([ops, d1, d2]) => {
        const events = toEvents(ops);
        const [a, b] = [run(events, withSeedFirst(d1)), run(events, withSeedFirst(d2))];
        expect(state(b)).toEqual(state(a));
      }),
      RUNS,
    );
  });

  it('concurrent creates and edits (no delete): the same records, outcomes and lost (event, field, value)', () => {
    fc.assert(
      fc.property(generated(['create', 'update'], 6), ([ops, d1, d2]) => {
        const events = toEvents(ops);
        const [a, b] = [run(events, withSeedFirst(d1)), run(events, withSeedFirst(d2))];
        expectSameResult(a, b);
      }),
      RUNS,
    );
  });

  it('a delete against one offline edit: the same records, outcomes and conflict set in every order', () => {
    fc.assert(
      fc.property(
        fc
          .tuple(opsArb(['update', 'create'], 1), fc.constantFrom(...TIMES))
          .map(([[edit], at]) => [
            { ...(edit as Op), record: 'r1' as const },
            { kind: 'delete' as const, record: 'r1' as const, occurredAt: at, fields: [] },
          ])
          .chain((ops) => fc.tuple(fc.constant(ops), deliveryArb(3), deliveryArb(3))),
        ([ops, d1, d2]) => {
          const events = toEvents(ops);
          const [a, b] = [run(events, withSeedFirst(d1)), run(events, withSeedFirst(d2))];
          expectSameResult(a, b);
        },
      ),
      RUNS,
    );
  });

  it('deletes against several offline edits: the same records, outcomes and conflict set in every order', () => {
    fc.assert(
      fc.property(generated(['update', 'delete'], 6), ([ops, d1, d2]) => {
        const events = toEvents(ops);
        const [a, b] = [run(events, withSeedFirst(d1)), run(events, withSeedFirst(d2))];
        expectSameResult(a, b);
        // Reference: a record is deleted when its newest delete is newer than its newest (concurrent) edit; then
        // the edits still holding a field lost the liveness, else every delete did.
        for (const key of ['notes/r1', 'notes/r2']) {
          const stampKey = (e: PendingEvent) => [e.event.occurredAt, e.deviceId, e.event.id].join('|');
          const mine = events.filter(
            (e) =>
              `notes/${(e.event.payload as { recordId: string }).recordId}` === key &&
              e.event.id.startsWith('evt'),
          );
          const newest = (type: string) =>
            mine
              .filter((e) => e.event.type === type)
              .map(stampKey)
              .sort()
              .at(-1);
          const [del, upd] = [newest('RECORD_DELETED'), newest('RECORD_UPDATED')];
          const record = a.records.get(key);
          const gone = del !== undefined && (upd === undefined || del > upd);
          expect(record?.deleted ?? false).toBe(gone);
          const holders = new Set(Object.values(record?.fieldMeta ?? {}).map((m) => m.stamp.eventId));
          const expected = mine
            .filter((e) =>
              gone
                ? e.event.type === 'RECORD_UPDATED' && holders.has(e.event.id)
                : e.event.type === 'RECORD_DELETED',
            )
            .map((e) => `${key}|${e.event.id}|_deleted|${JSON.stringify(e.event.type === 'RECORD_DELETED')}`)
            .sort();
          expect(losses(a).filter((l) => l.startsWith(`${key}|`) && l.includes('|_deleted|'))).toEqual(
            expected,
          );
        }
      }),
      RUNS,
    );
  });

  it('everything at once (creates, edits, deletes): the same records, outcomes and conflict set', () => {
    fc.assert(
      fc.property(generated(['create', 'update', 'delete'], 7), ([ops, d1, d2]) => {
        const events = toEvents(ops);
        const [a, b] = [run(events, withSeedFirst(d1)), run(events, withSeedFirst(d2))];
        expectSameResult(a, b);
      }),
      RUNS,
    );
  });
});
