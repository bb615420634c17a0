import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.js';
import {
  applyWrite,
  compareStamps,
  jsonEqual,
  recordValues,
  type Json,
  type MergeRecord,
  type Stamp,
  type Write,
} from '../../shared/sync/merge.js';

const T0 = '2025-10-25T08:30:00.000Z';
const T1 = '2025-10-25T09:00:00.000Z';
const T2 = '2025-10-25T09:30:00.000Z';

function w(eventId: string, deviceId: string, occurredAt: string, fields: Write['fields']): Write {
  return { eventId, deviceId, occurredAt, fields };
}

function stamp(eventId: string, deviceId: string, occurredAt: string): Stamp {
  return { eventId, deviceId, occurredAt };
}

/** Applies writes in order under one strategy, returning every result. */
function run(writes: Write[], strategy: Parameters<typeof applyWrite>[2] = 'LWW') {
  let record: MergeRecord | undefined;
  return writes.map((write) => {
    const result = applyWrite(record, write, strategy);
    record = result.record;
    return result;
  });
}

function last<T>(items: T[]): T {
  const item = items[items.length - 1];
  if (item === undefined) throw new Error('empty');
  return item;
}

describe('compareStamps', () => {
  it('orders by occurredAt as an instant, then deviceId, then eventId', () => {
    expect(compareStamps(stamp('e', 'd', T0), stamp('e', 'd', T1))).toBe(-1);
    expect(compareStamps(stamp('a', 'z', T1), stamp('z', 'a', T0))).toBe(1);
    expect(compareStamps(stamp('z', 'a', T0), stamp('a', 'b', T0))).toBe(-1);
    expect(compareStamps(stamp('a', 'd', T0), stamp('b', 'd', T0))).toBe(-1);
    expect(compareStamps(stamp('b', 'd', T0), stamp('b', 'd', T0))).toBe(0);
  });

  it('compares instants, not strings: zones, missing fraction and sub-millisecond digits', () => {
    expect(compareStamps(stamp('e', 'd', '2025-10-25T10:30:00+02:00'), stamp('e', 'd', T0))).toBe(0);
    expect(compareStamps(stamp('e', 'd', '2025-10-25T08:30:00Z'), stamp('e', 'd', T0))).toBe(0);
    expect(compareStamps(stamp('e', 'd', '2025-10-25T09:29:00+01:00'), stamp('e', 'd', T0))).toBe(-1);
    expect(compareStamps(stamp('e', 'd', '2025-10-25T08:30:00.0001Z'), stamp('e', 'd', T0))).toBe(1);
    expect(
      compareStamps(
        stamp('e', 'd', '2025-10-25T08:30:00.00010Z'),
        stamp('e', 'd', '2025-10-25T08:30:00.0001Z'),
      ),
    ).toBe(0);
    expect(
      compareStamps(
        stamp('e', 'd', '2025-10-25T08:30:00.0009Z'),
        stamp('e', 'd', '2025-10-25T08:30:00.001Z'),
      ),
    ).toBe(-1);
  });

  it('rejects an occurredAt that is not an ISO 8601 date-time with a zone', () => {
    for (const bad of ['2025-10-25', '2025-10-25T08:30:00', '2025-02-30T00:00:00Z', 'yesterday', '']) {
      expect(() => compareStamps(stamp('e', 'd', bad), stamp('e', 'd', T0))).toThrow(ValidationError);
      expect(() => applyWrite(undefined, w('e', 'd', bad, { a: 1 }), 'LWW')).toThrow(ValidationError);
    }
    expect(compareStamps(stamp('e', 'd', '2024-02-29T00:00:00Z'), stamp('e', 'd', T0))).toBe(-1);
  });
});

describe('jsonEqual', () => {
  it('is a deep equality that ignores object key order', () => {
    expect(jsonEqual({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual(0, -0)).toBe(true);
    expect(jsonEqual(1, '1')).toBe(false);
    expect(jsonEqual(null, {})).toBe(false);
    expect(jsonEqual([], {})).toBe(false);
  });

  it('rejects values that are not JSON', () => {
    expect(() => applyWrite(undefined, w('e', 'd', T0, { a: Number.NaN }), 'LWW')).toThrow(ValidationError);
    expect(() => applyWrite(undefined, w('e', 'd', T0, { a: [Infinity] }), 'LWW')).toThrow(ValidationError);
  });
});

describe('applyWrite — LWW', () => {
  it("merges fields only one side wrote (Electron's oil and gas plus the phone's notes)", () => {
    const [electron, phone] = run([
      w('e1', 'electron', T1, { oilVolume: 120.5, gasVolume: 300 }),
      w('e2', 'phone', T0, { notes: 'pump squeaks' }),
    ]);
    expect(electron?.outcome).toBe('APPLIED');
    expect(phone).toMatchObject({ outcome: 'APPLIED', conflicts: [], superseded: [] });
    expect(phone?.resolution).toBeUndefined();
    expect(recordValues(phone?.record)).toEqual({ oilVolume: 120.5, gasVolume: 300, notes: 'pump squeaks' });
  });

  it('keeps the newer value when an older differing write arrives late: the late write is the loser', () => {
    const results = run([
      w('new', 'tablet', T1, { oilVolume: 10 }),
      w('old', 'phone', T0, { oilVolume: 12 }),
    ]);
    const late = last(results);
    expect(late.outcome).toBe('CONFLICT');
    expect(late.resolution).toBe('SERVER_WINS');
    expect(late.superseded).toEqual([]);
    expect(late.conflicts).toEqual([
      {
        field: 'oilVolume',
        serverValue: 10,
        clientValue: 12,
        serverStamp: stamp('new', 'tablet', T1),
        clientStamp: stamp('old', 'phone', T0),
      },
    ]);
    expect(late.record.fields.oilVolume).toEqual({ value: 10, stamp: stamp('new', 'tablet', T1) });
  });

  it('takes a newer differing write and reports the earlier writer as superseded', () => {
    const late = last(
      run([w('old', 'phone', T0, { oilVolume: 12 }), w('new', 'tablet', T1, { oilVolume: 10 })]),
    );
    expect(late).toMatchObject({ outcome: 'APPLIED', conflicts: [] });
    expect(late.superseded).toEqual([
      { eventId: 'old', field: 'oilVolume', loserValue: 12, winnerValue: 10 },
    ]);
    expect(recordValues(late.record)).toEqual({ oilVolume: 10 });
  });

  it('resolves MERGED when a write wins some differing fields and loses others', () => {
    const results = run([
      w('a', 'phone', T0, { oilVolume: 1 }),
      w('b', 'tablet', T2, { gasVolume: 2 }),
      w('c', 'laptop', T1, { oilVolume: 3, gasVolume: 4, notes: 'n' }),
    ]);
    const c = last(results);
    expect(c.outcome).toBe('CONFLICT');
    expect(c.resolution).toBe('MERGED');
    expect(c.conflicts.map((x) => x.field)).toEqual(['gasVolume']);
    expect(c.superseded).toEqual([{ eventId: 'a', field: 'oilVolume', loserValue: 1, winnerValue: 3 }]);
    expect(recordValues(c.record)).toEqual({ oilVolume: 3, gasVolume: 2, notes: 'n' });
  });

  it('breaks occurredAt ties by deviceId, then eventId', () => {
    const byDevice = run([w('x', 'dev-b', T0, { a: 'b' }), w('y', 'dev-a', T0, { a: 'a' })]);
    expect(last(byDevice)).toMatchObject({ outcome: 'CONFLICT', resolution: 'SERVER_WINS' });
    expect(recordValues(last(byDevice).record)).toEqual({ a: 'b' });
    const byEvent = run([w('e2', 'dev', T0, { a: 2 }), w('e1', 'dev', T0, { a: 1 })]);
    expect(recordValues(last(byEvent).record)).toEqual({ a: 2 });
  });

  it('never reports equal values as a conflict, and still advances the stamp to the greater one', () => {
    const [, newer] = run([
      w('e1', 'phone', T0, { a: { x: 1, y: 2 } }),
      w('e2', 'tablet', T1, { a: { y: 2, x: 1 } }),
    ]);
    expect(newer).toMatchObject({ outcome: 'APPLIED', conflicts: [], superseded: [] });
    expect(newer?.record.fields.a?.stamp).toEqual(stamp('e2', 'tablet', T1));
    const [, older] = run([w('e2', 'tablet', T1, { a: 1 }), w('e1', 'phone', T0, { a: 1 })]);
    expect(older).toMatchObject({ outcome: 'APPLIED', conflicts: [], superseded: [] });
    expect(older?.record.fields.a?.stamp).toEqual(stamp('e2', 'tablet', T1));
  });
});

describe('applyWrite — duplicates', () => {
  it('treats a redelivered event as DUPLICATE and changes nothing', () => {
    const first = applyWrite(undefined, w('e1', 'phone', T0, { a: 1, b: 2 }), 'LWW');
    const again = applyWrite(first.record, w('e1', 'phone', T0, { a: 1, b: 2 }), 'LWW');
    expect(again).toEqual({ record: first.record, outcome: 'DUPLICATE', conflicts: [], superseded: [] });
    expect(again.record).toBe(first.record);
  });

  it('treats the same device pushing the same values again as DUPLICATE, not a conflict', () => {
    const [, dup] = run([w('e1', 'phone', T0, { oilVolume: 5 }), w('e2', 'phone', T1, { oilVolume: 5 })]);
    expect(dup).toMatchObject({ outcome: 'DUPLICATE', conflicts: [], superseded: [] });
    expect(dup?.record.fields.oilVolume?.stamp).toEqual(stamp('e2', 'phone', T1));
  });

  it('is not a DUPLICATE when another device wrote the current value, or when a field is new', () => {
    const [, other] = run([w('e1', 'phone', T0, { a: 5 }), w('e2', 'tablet', T1, { a: 5 })]);
    expect(other?.outcome).toBe('APPLIED');
    const [, extra] = run([w('e1', 'phone', T0, { a: 5 }), w('e2', 'phone', T1, { a: 5, b: 1 })]);
    expect(extra?.outcome).toBe('APPLIED');
  });

  it('applies a write with no fields as a no-op', () => {
    expect(applyWrite(undefined, w('e1', 'phone', T0, {}), 'LWW')).toEqual({
      record: { fields: {} },
      outcome: 'APPLIED',
      conflicts: [],
      superseded: [],
    });
  });
});

describe('applyWrite — other strategies', () => {
  const base = applyWrite(undefined, w('s1', 'laptop', T0, { a: 1, b: 'keep' }), 'LWW').record;

  it('SERVER_WINS keeps an existing differing value even against a newer write', () => {
    const r = applyWrite(base, w('c1', 'phone', T2, { a: 2, b: 'keep', c: true }), 'SERVER_WINS');
    expect(r.outcome).toBe('CONFLICT');
    expect(r.resolution).toBe('SERVER_WINS');
    expect(r.conflicts.map((x) => [x.field, x.serverValue, x.clientValue])).toEqual([['a', 1, 2]]);
    expect(r.superseded).toEqual([]);
    expect(recordValues(r.record)).toEqual({ a: 1, b: 'keep', c: true });
    expect(r.record.fields.a?.stamp.eventId).toBe('s1');
    expect(r.record.fields.b?.stamp.eventId).toBe('c1');
  });

  it('CLIENT_WINS overwrites a differing value even from an older write, and reports it', () => {
    const newer = applyWrite(undefined, w('s2', 'laptop', T2, { a: 1 }), 'LWW').record;
    const r = applyWrite(newer, w('c1', 'phone', T0, { a: 2 }), 'CLIENT_WINS');
    expect(r).toMatchObject({ outcome: 'CONFLICT', resolution: 'CLIENT_WINS' });
    expect(r.conflicts.map((x) => [x.field, x.serverValue, x.clientValue])).toEqual([['a', 1, 2]]);
    expect(r.superseded).toEqual([{ eventId: 's2', field: 'a', loserValue: 1, winnerValue: 2 }]);
    expect(r.record.fields.a).toEqual({ value: 2, stamp: stamp('c1', 'phone', T0) });
  });

  it('MANUAL holds differing fields for review and applies the rest', () => {
    const r = applyWrite(base, w('c1', 'phone', T2, { a: 2, c: 'new' }), 'MANUAL');
    expect(r).toMatchObject({ outcome: 'CONFLICT', resolution: 'PENDING_REVIEW', superseded: [] });
    expect(r.conflicts).toEqual([
      {
        field: 'a',
        serverValue: 1,
        clientValue: 2,
        serverStamp: stamp('s1', 'laptop', T0),
        clientStamp: stamp('c1', 'phone', T2),
      },
    ]);
    expect(recordValues(r.record)).toEqual({ a: 1, b: 'keep', c: 'new' });
  });
});

describe('applyWrite — two writers make a conflict', () => {
  it.each(['LWW', 'SERVER_WINS', 'CLIENT_WINS', 'MANUAL'] as const)(
    '%s: a device overwriting its own value is a correction; its newer write wins in either order',
    (strategy) => {
      const first = w('e1', 'd1', T0, { oilVolume: 100 });
      const fix = w('e2', 'd1', T1, { oilVolume: 300 });
      for (const order of [
        [first, fix],
        [fix, first],
      ]) {
        const results = run(order, strategy);
        for (const r of results)
          expect(r).toMatchObject({ outcome: 'APPLIED', conflicts: [], superseded: [] });
        expect(last(results).record.fields.oilVolume).toEqual({ value: 300, stamp: stamp('e2', 'd1', T1) });
      }
    },
  );

  it('a value the server wrote is never the same device, and beating it names no loser event', () => {
    // What a manager's edit or resolution leaves: the given fields under the server's own stamp.
    const resolveManually = (record: MergeRecord, fields: Record<string, Json>, s: Stamp): MergeRecord => ({
      fields: {
        ...record.fields,
        ...Object.fromEntries(Object.entries(fields).map(([k, value]) => [k, { value, stamp: s }])),
      },
    });
    for (const s of [stamp('', 'server', T0), stamp('res-1', 'manager:boss', T0)]) {
      const record = resolveManually({ fields: {} }, { a: 1, b: 1 }, s);
      const win = applyWrite(record, w('e1', s.deviceId === 'server' ? 'server' : 'd1', T1, { a: 2 }), 'LWW');
      expect(win).toMatchObject({ outcome: 'APPLIED', conflicts: [], superseded: [] });
      // Winning against the server on one field and losing another is still MERGED.
      const mixed = applyWrite(
        resolveManually(record, { b: 5 }, stamp('res-2', 'manager:boss', T2)),
        w('e2', 'd2', T1, { a: 3, b: 4 }),
        'LWW',
      );
      expect(mixed).toMatchObject({ outcome: 'CONFLICT', resolution: 'MERGED', superseded: [] });
    }
  });
});

describe('applyWrite — hygiene', () => {
  it('never mutates its input and sorts fields by name', () => {
    const record = applyWrite(undefined, w('e1', 'd', T0, { b: 1, a: { x: [1] } }), 'LWW').record;
    const snapshot = structuredClone(record);
    applyWrite(record, w('e2', 'd2', T1, { a: 2, c: 3 }), 'LWW');
    applyWrite(record, w('e3', 'd2', T1, { a: 2 }), 'CLIENT_WINS');
    expect(record).toEqual(snapshot);
    expect(Object.keys(applyWrite(record, w('e4', 'd', T1, { c: 1 }), 'LWW').record.fields)).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('handles any field name as data, __proto__ included', () => {
    const fields = JSON.parse('{"__proto__": 1, "constructor": 2}') as Write['fields'];
    const r = applyWrite(undefined, w('e1', 'd', T0, fields), 'LWW');
    expect(Object.hasOwn(r.record.fields, '__proto__')).toBe(true);
    expect(recordValues(r.record)).toEqual(fields);
    const r2 = applyWrite(
      r.record,
      w('e2', 'd2', T1, JSON.parse('{"__proto__": 3}') as Write['fields']),
      'LWW',
    );
    expect(r2.superseded).toEqual([{ eventId: 'e1', field: '__proto__', loserValue: 1, winnerValue: 3 }]);
    expect(Object.getPrototypeOf(r2.record.fields)).toBe(Object.prototype);
  });
});
