import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SyncEvent } from '../../shared/contracts/events.js';
import type { Json, MergeRecord, Stamp, Strategy } from '../../shared/sync/merge.js';
import {
  type ChunkInput,
  type ConflictRecord,
  type EquipmentState,
  type Outcome,
  type PendingEvent,
  planChunk,
  productionKey,
} from '../../shared/sync/plan-chunk.js';
import { deliveryArb } from '../support/delivery.js';

// planChunk against an in-memory model of the tables it drives: the equipment row and production records take
// plan.equipment / plan.production, the event log takes the outcomes and flips plan.superseded (as the Postgres
// processor does), and conflicts are appended. Chunks deliver only events still PENDING (the exactly-once guard).

const WELL = 'well-1';
const PUMP = 'pump-1';
const DATE = '2025-10-24';
const INITIAL = { status: 'OPERATIONAL', serialNumber: 'SN-0', manufacturer: null, model: null, notes: null };
const BASE_STAMP: Stamp = { occurredAt: '2025-10-01T00:00:00.000Z', deviceId: '', eventId: '' };

interface Model {
  equipment: EquipmentState;
  production: Map<string, MergeRecord>;
  outcomes: Map<string, Outcome>;
  conflicts: ConflictRecord[];
}

const newModel = (fieldMeta: EquipmentState['fieldMeta'] = {}): Model => ({
  equipment: {
    id: PUMP,
    wellId: WELL,
    deleted: false,
    version: 1,
    values: { ...INITIAL },
    fieldMeta,
    baseStamp: BASE_STAMP,
  },
  production: new Map(),
  outcomes: new Map(),
  conflicts: [],
});

let ids = 0;
function deliver(model: Model, chunk: PendingEvent[], strategy: Strategy = 'LWW'): void {
  const pending = [...new Map(chunk.map((p) => [p.event.id, p])).values()].filter(
    (p) => !model.outcomes.has(p.event.id),
  );
  if (pending.length === 0) return;
  const input: ChunkInput = {
    events: pending,
    wells: new Map([[WELL, { status: 'ACTIVE' }]]),
    equipment: new Map([[PUMP, model.equipment]]),
    production: new Map(model.production),
    strategies: { EQUIPMENT_UPDATED: strategy, PRODUCTION_LOGGED: strategy },
    newId: () => `conflict-${++ids}`,
  };
  const plan = planChunk(input);
  const row = plan.equipment.get(PUMP);
  if (row) model.equipment = { ...model.equipment, ...row };
  for (const [key, { record }] of plan.production) model.production.set(key, record);
  model.conflicts.push(...plan.conflicts);
  for (const { eventId, conflict } of plan.superseded) {
    const status = model.outcomes.get(eventId)?.status;
    if (status === 'APPLIED' || status === 'DUPLICATE' || status === 'CONFLICT')
      model.outcomes.set(eventId, { status: 'CONFLICT', conflict });
  }
  for (const p of pending)
    model.outcomes.set(p.event.id, plan.outcomes.get(p.event.id) ?? { status: 'APPLIED' });
}

const update = (
  id: string,
  deviceId: string,
  occurredAt: string,
  changes: Record<string, Json>,
  baseVersion = 1,
): PendingEvent => ({
  event: {
    id,
    type: 'EQUIPMENT_UPDATED',
    occurredAt,
    payload: { equipmentId: PUMP, baseVersion, changes },
  } as SyncEvent,
  batchId: `batch-${id}`,
  deviceId,
  userId: `user-${deviceId}`,
});

const produce = (
  id: string,
  deviceId: string,
  occurredAt: string,
  fields: Record<string, Json>,
): PendingEvent => ({
  event: {
    id,
    type: 'PRODUCTION_LOGGED',
    occurredAt,
    payload: { wellId: WELL, productionDate: DATE, ...fields },
  } as SyncEvent,
  batchId: `batch-${id}`,
  deviceId,
  userId: `user-${deviceId}`,
});

/** What an order must not change: outcomes and stored conflicts without the generated ids, values, stamps. */
function observable(model: Model) {
  const outcomes = Object.fromEntries(
    [...model.outcomes].map(([id, o]) => {
      const { conflictId, ...report } = o.conflict ?? { conflictId: '' };
      // The report names a stored conflict of that very event.
      if (o.conflict) expect(model.conflicts.find((c) => c.id === conflictId)?.eventId).toBe(id);
      return [id, { status: o.status, ...(o.conflict ? { conflict: report } : {}) }];
    }),
  );
  const conflicts = model.conflicts
    .map(({ id: _id, ...c }) => c)
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  const stamps = (fields: Record<string, { stamp: Stamp }>) =>
    Object.fromEntries(Object.entries(fields).map(([f, m]) => [f, m.stamp]));
  return {
    outcomes,
    conflicts,
    equipment: model.equipment.values,
    equipmentStamps: stamps(model.equipment.fieldMeta),
    production: Object.fromEntries(model.production),
  };
}

/** Delivers the events one chunk each, in the given order. */
function inOrder(
  events: PendingEvent[],
  strategy: Strategy = 'LWW',
  fieldMeta?: EquipmentState['fieldMeta'],
) {
  const model = newModel(fieldMeta);
  for (const e of events) deliver(model, [e], strategy);
  return model;
}

const T0850 = '2025-10-25T08:50:00.000Z';
const T0900 = '2025-10-25T09:00:00.000Z';

describe('planChunk — versioned edits from two devices (issue 10, item 3)', () => {
  for (const [field, c, a] of [
    ['status', 'FAILED', 'MAINTENANCE'],
    ['serialNumber', 'SN-C', 'SN-A'],
    ['notes', 'belt slipping', 'belt replaced'],
  ] as const) {
    it(`${field}: the same conflict and outcomes whichever arrives first, or both in one chunk`, () => {
      const C = update('evt-c', 'device-c', T0850, { [field]: c });
      const A = update('evt-a', 'device-a', T0900, { [field]: a });
      const cFirst = inOrder([C, A]);
      const aFirst = inOrder([A, C]);
      const together = newModel();
      deliver(together, [A, C]);

      const expected = {
        outcomes: {
          'evt-a': { status: 'APPLIED' },
          'evt-c': {
            status: 'CONFLICT',
            conflict: {
              fields: [field],
              resolution: 'SERVER_WINS',
              serverValue: { [field]: a },
              clientValue: { [field]: c },
            },
          },
        },
        conflicts: [
          {
            recordType: 'EQUIPMENT',
            recordKey: PUMP,
            fields: [field],
            eventId: 'evt-c',
            otherEventId: 'evt-a',
            serverValue: { [field]: a },
            clientValue: { [field]: c },
            resolution: 'SERVER_WINS',
          },
        ],
        equipment: { ...INITIAL, [field]: a },
      };
      for (const model of [cFirst, aFirst, together]) {
        expect(observable(model)).toMatchObject(expected);
        expect(model.conflicts).toHaveLength(1);
      }
      expect(observable(aFirst)).toEqual(observable(cFirst));
      expect(observable(together)).toEqual(observable(cFirst));
    });
  }

  it('fields only one side changed merge with no conflict, in both orders', () => {
    const C = update('evt-c', 'device-c', T0850, { status: 'FAILED' });
    const A = update('evt-a', 'device-a', T0900, { notes: 'checked' });
    for (const model of [inOrder([C, A]), inOrder([A, C])]) {
      expect(observable(model)).toMatchObject({
        outcomes: { 'evt-a': { status: 'APPLIED' }, 'evt-c': { status: 'APPLIED' } },
        conflicts: [],
        equipment: { ...INITIAL, status: 'FAILED', notes: 'checked' },
      });
    }
  });

  it('a device that saw the other write (a newer baseVersion) edits it without a conflict', () => {
    const C = update('evt-c', 'device-c', T0850, { status: 'FAILED' });
    const A = update('evt-a', 'device-a', T0900, { status: 'MAINTENANCE' }, 2);
    const model = inOrder([C, A]);
    expect(observable(model)).toMatchObject({
      outcomes: { 'evt-a': { status: 'APPLIED' }, 'evt-c': { status: 'APPLIED' } },
      conflicts: [],
      equipment: { status: 'MAINTENANCE' },
    });
    expect(model.equipment.version).toBe(3);
  });

  it('a value a manager set since the base is beaten by a newer edit without naming a loser event', () => {
    const managerStamp: Stamp = { occurredAt: '2025-10-25T08:55:00.000Z', deviceId: 'server', eventId: '' };
    const meta = { status: { version: 2, stamp: managerStamp } };
    const model = newModel(meta);
    model.equipment = { ...model.equipment, version: 2, values: { ...INITIAL, status: 'FAILED' } };
    deliver(model, [update('evt-a', 'device-a', T0900, { status: 'MAINTENANCE' })]);
    deliver(model, [update('evt-c', 'device-c', T0850, { status: 'OPERATIONAL' })]);
    expect(observable(model).outcomes).toEqual({
      'evt-a': { status: 'APPLIED' },
      'evt-c': expect.objectContaining({ status: 'CONFLICT' }),
    });
    expect(model.conflicts.map((c) => [c.eventId, c.otherEventId])).toEqual([['evt-c', 'evt-a']]);

    // A newer edit over a manager resolution's value: no superseded event, no conflict row for the conflict id.
    const resolved = newModel({
      notes: { version: 2, stamp: { occurredAt: T0850, deviceId: 'manager:boss', eventId: 'conflict-x' } },
    });
    resolved.equipment = { ...resolved.equipment, version: 2, values: { ...INITIAL, notes: 'kept' } };
    deliver(resolved, [update('evt-n', 'device-a', T0900, { notes: 'new' })]);
    expect(resolved.conflicts).toEqual([]);
    expect(resolved.outcomes.get('evt-n')).toEqual({ status: 'APPLIED' });
    expect(resolved.equipment.values.notes).toBe('new');
    // An older one loses to it: CONFLICT naming no event on the server side.
    deliver(resolved, [update('evt-o', 'device-b', '2025-10-25T08:00:00.000Z', { notes: 'old' })]);
    expect(resolved.conflicts.map((c) => [c.eventId, c.otherEventId])).toEqual([['evt-o', 'evt-n']]);
  });

  it('an older edit that only re-asserts the current value still outranks an even older one', () => {
    // A (09:00) says OPERATIONAL, the value already there; C (08:50) says FAILED. LWW: OPERATIONAL, C loses.
    const A = update('evt-a', 'device-a', T0900, { status: 'OPERATIONAL' });
    const C = update('evt-c', 'device-c', T0850, { status: 'FAILED' });
    const cFirst = inOrder([C, A]);
    const aFirst = inOrder([A, C]);
    expect(observable(aFirst)).toEqual(observable(cFirst));
    expect(observable(cFirst)).toMatchObject({
      outcomes: { 'evt-a': { status: 'APPLIED' }, 'evt-c': { status: 'CONFLICT' } },
      equipment: { status: 'OPERATIONAL' },
    });
  });
});

describe('planChunk — the other strategies are arrival-order dependent by nature', () => {
  const C = update('evt-c', 'device-c', T0850, { status: 'FAILED' });
  const A = update('evt-a', 'device-a', T0900, { status: 'MAINTENANCE' });
  const later = (first: PendingEvent, second: PendingEvent, strategy: Strategy) => {
    const model = inOrder([first, second], strategy);
    return { model, view: observable(model) };
  };

  it.each([
    [C, A],
    [A, C],
  ])(
    'SERVER_WINS: the first arrival stays, the later one is CONFLICT SERVER_WINS naming it',
    (first, second) => {
      const { view } = later(first, second, 'SERVER_WINS');
      const [f, s] = [first.event.id, second.event.id];
      const [fv, sv] = [first, second].map(
        (e) => (e.event.payload as { changes: { status: string } }).changes.status,
      );
      expect(view.equipment.status).toBe(fv);
      expect(view.outcomes[f]).toEqual({ status: 'APPLIED' });
      expect(view.conflicts).toEqual([
        {
          recordType: 'EQUIPMENT',
          recordKey: PUMP,
          fields: ['status'],
          eventId: s,
          otherEventId: f,
          serverValue: { status: fv },
          clientValue: { status: sv },
          resolution: 'SERVER_WINS',
        },
      ]);
    },
  );

  it.each([
    [C, A],
    [A, C],
  ])(
    'CLIENT_WINS: the later arrival overwrites and reports CLIENT_WINS; the first stays APPLIED',
    (first, second) => {
      const { view } = later(first, second, 'CLIENT_WINS');
      const [fv, sv] = [first, second].map(
        (e) => (e.event.payload as { changes: { status: string } }).changes.status,
      );
      expect(view.equipment.status).toBe(sv);
      expect(view.outcomes[first.event.id]).toEqual({ status: 'APPLIED' });
      expect(view.outcomes[second.event.id]).toMatchObject({
        status: 'CONFLICT',
        conflict: { resolution: 'CLIENT_WINS' },
      });
      expect(view.conflicts).toMatchObject([
        {
          eventId: second.event.id,
          otherEventId: first.event.id,
          serverValue: { status: fv },
          clientValue: { status: sv },
        },
      ]);
    },
  );

  it.each([
    [C, A],
    [A, C],
  ])('MANUAL: the later arrival is held for review; the record keeps the first', (first, second) => {
    const { view } = later(first, second, 'MANUAL');
    const fv = (first.event.payload as { changes: { status: string } }).changes.status;
    expect(view.equipment.status).toBe(fv);
    expect(view.outcomes[second.event.id]).toMatchObject({
      status: 'CONFLICT',
      conflict: { resolution: 'PENDING_REVIEW', serverValue: { status: fv } },
    });
    expect(view.conflicts).toMatchObject([{ eventId: second.event.id, otherEventId: first.event.id }]);
  });
});

describe('planChunk — a device correcting itself is never a conflict (issue 10, item 13)', () => {
  const STRATEGIES: Strategy[] = ['LWW', 'SERVER_WINS', 'CLIENT_WINS', 'MANUAL'];

  it.each(STRATEGIES)('%s: production — D1 writes 100 then 300; the correction applies', (strategy) => {
    const first = produce('evt-1', 'd1', T0850, { oilVolume: 100 });
    const second = produce('evt-2', 'd1', T0900, { oilVolume: 300 });
    for (const order of [
      [first, second],
      [second, first],
    ]) {
      const model = inOrder(order, strategy);
      expect(model.conflicts).toEqual([]);
      expect(observable(model).outcomes).toEqual({
        'evt-1': { status: 'APPLIED' },
        'evt-2': { status: 'APPLIED' },
      });
      expect(model.production.get(productionKey(WELL, DATE))?.fields.oilVolume?.value).toBe(300);
    }
  });

  it.each(STRATEGIES)('%s: equipment — D1 sets FAILED then MAINTENANCE from the same base', (strategy) => {
    const first = update('evt-1', 'd1', T0850, { status: 'FAILED', notes: 'stopped' });
    const second = update('evt-2', 'd1', T0900, { status: 'MAINTENANCE' });
    for (const order of [
      [first, second],
      [second, first],
    ]) {
      const model = inOrder(order, strategy);
      expect(model.conflicts).toEqual([]);
      expect(observable(model).outcomes).toEqual({
        'evt-1': { status: 'APPLIED' },
        'evt-2': { status: 'APPLIED' },
      });
      expect(model.equipment.values).toMatchObject({ status: 'MAINTENANCE', notes: 'stopped' });
    }
  });

  it('MANUAL still holds another device’s write after a self-correction, against the corrected value', () => {
    const model = inOrder(
      [
        produce('evt-1', 'd1', '2025-10-25T08:00:00.000Z', { oilVolume: 100 }),
        produce('evt-2', 'd1', '2025-10-25T08:10:00.000Z', { oilVolume: 300 }),
        produce('evt-3', 'd2', '2025-10-25T08:20:00.000Z', { oilVolume: 200 }),
      ],
      'MANUAL',
    );
    expect(model.conflicts).toMatchObject([
      {
        eventId: 'evt-3',
        otherEventId: 'evt-2',
        serverValue: { oilVolume: 300 },
        clientValue: { oilVolume: 200 },
        resolution: 'PENDING_REVIEW',
      },
    ]);
    expect(model.production.get(productionKey(WELL, DATE))?.fields.oilVolume?.value).toBe(300);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Order independence under LWW, through planChunk and the model, over arrival orders, chunkings and redelivery.

const RUNS = { numRuns: 400 };
const TIMES = ['2025-10-25T08:30:00.000Z', '2025-10-25T08:30:00.000Z', '2025-10-25T08:31:00.000Z', T0900];
const EQUIPMENT_FIELDS = ['status', 'serialNumber', 'notes'] as const;
const PRODUCTION_FIELDS = ['oilVolume', 'gasVolume', 'notes'] as const;

const run = (events: PendingEvent[], chunks: number[][]) => {
  const model = newModel();
  for (const chunk of chunks)
    deliver(
      model,
      chunk.map((i) => events[i] as PendingEvent),
    );
  return model;
};

/** Two writers (same or different devices), any fields and values (equal ones included), any kind of record. */
const twoWritersArb = fc
  .tuple(
    fc.constantFrom('EQUIPMENT', 'PRODUCTION'),
    fc.array(
      fc.record({
        deviceId: fc.constantFrom('dev-a', 'dev-b'),
        occurredAt: fc.constantFrom(...TIMES),
        fields: fc.dictionary(fc.constantFrom('x', 'y', 'z'), fc.constantFrom(0, 1, 2), { minKeys: 1 }),
      }),
      { minLength: 2, maxLength: 2 },
    ),
  )
  .map(([kind, writes]) =>
    writes.map((w, i) => {
      const names = kind === 'EQUIPMENT' ? EQUIPMENT_FIELDS : PRODUCTION_FIELDS;
      // Value 0 of an equipment field is its initial value: re-asserting it is exercised too.
      const fields = Object.fromEntries(
        Object.entries(w.fields).map(([k, v]) => {
          const field = names[['x', 'y', 'z'].indexOf(k)] as string;
          const text = field === 'status' ? ['OPERATIONAL', 'FAILED', 'MAINTENANCE'][v] : `${field}-${v}`;
          return [field, kind === 'PRODUCTION' && field !== 'notes' ? v : (text as string)];
        }),
      );
      return kind === 'EQUIPMENT'
        ? update(`evt-${i}`, w.deviceId, w.occurredAt, fields)
        : produce(`evt-${i}`, w.deviceId, w.occurredAt, fields);
    }),
  )
  .chain((events) => fc.tuple(fc.constant(events), deliveryArb(2), deliveryArb(2)));

/** Many writers, each its own device with its own values: every write of a field but the newest is a loser. */
const manyWritersArb = fc
  .array(
    fc.record({
      occurredAt: fc.constantFrom(...TIMES),
      fields: fc.subarray([...EQUIPMENT_FIELDS], { minLength: 1 }),
    }),
    { minLength: 1, maxLength: 6 },
  )
  .map((writes) =>
    writes.map((w, i) =>
      update(`evt-${i}`, `dev-${i}`, w.occurredAt, Object.fromEntries(w.fields.map((f) => [f, `${f}-${i}`]))),
    ),
  )
  .chain((events) => fc.tuple(fc.constant(events), deliveryArb(events.length), deliveryArb(events.length)));

describe('planChunk — LWW order independence, versioned edits included', () => {
  it('two writers: the same outcomes, reports, stored conflicts and record in every arrival order', () => {
    fc.assert(
      fc.property(twoWritersArb, ([events, d1, d2]) => {
        // Which of two same-device pushes of the same values is the DUPLICATE is the later arrival, by nature.
        const view = (model: Model) => {
          const v = observable(model);
          for (const o of Object.values(v.outcomes)) if (o.status === 'DUPLICATE') o.status = 'APPLIED';
          return v;
        };
        expect(view(run(events, d2))).toEqual(view(run(events, d1)));
      }),
      RUNS,
    );
  });

  it('many writers: the same record, outcomes and set of lost (event, field, value) in every order', () => {
    const losses = (model: Model) =>
      model.conflicts
        .flatMap((c) => c.fields.map((f) => `${c.eventId}|${f}|${String(c.clientValue[f])}`))
        .sort();
    fc.assert(
      fc.property(manyWritersArb, ([events, d1, d2]) => {
        const [a, b] = [run(events, d1), run(events, d2)];
        const [va, vb] = [observable(a), observable(b)];
        expect(vb.equipment).toEqual(va.equipment);
        expect(vb.equipmentStamps).toEqual(va.equipmentStamps);
        const statuses = (m: Model) => Object.fromEntries([...m.outcomes].map(([id, o]) => [id, o.status]));
        expect(statuses(b)).toEqual(statuses(a));
        expect(losses(b)).toEqual(losses(a));
        // Reference: per field, every writer but the newest (by stamp) lost it, once.
        const expected: string[] = [];
        for (const field of EQUIPMENT_FIELDS) {
          const writers = events
            .filter((e) => Object.hasOwn((e.event.payload as { changes: object }).changes, field))
            .map((e) => ({ id: e.event.id, key: [e.event.occurredAt, e.deviceId, e.event.id].join('|') }))
            .sort((x, y) => (x.key < y.key ? -1 : 1));
          for (const w of writers.slice(0, -1)) expected.push(`${w.id}|${field}|${field}-${w.id.slice(4)}`);
        }
        expect(losses(a)).toEqual(expected.sort());
      }),
      RUNS,
    );
  });
});
