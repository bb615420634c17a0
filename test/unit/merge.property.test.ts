import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyWrite,
  compareStamps,
  recordValues,
  type Json,
  type MergeRecord,
  type Strategy,
  type Write,
} from '../../shared/sync/merge.js';

const RUNS = { numRuns: 1000 };

const RECORDS = ['well-1/2025-10-24', 'well-1/2025-10-25'];
const FIELDS = ['oilVolume', 'gasVolume', 'notes'];
const DEVICES = ['electron', 'phone', 'tablet'];
/** A small set of instants, two of them spelled differently, one a sub-millisecond later: ties happen. */
const TIMES: { occurredAt: string; rank: number }[] = [
  { occurredAt: '2025-10-25T08:30:00.000Z', rank: 0 },
  { occurredAt: '2025-10-25T10:30:00+02:00', rank: 0 },
  { occurredAt: '2025-10-25T08:30:00.0005Z', rank: 1 },
  { occurredAt: '2025-10-25T08:31:00Z', rank: 2 },
];
const STRATEGIES: Strategy[] = ['LWW', 'SERVER_WINS', 'CLIENT_WINS', 'MANUAL'];

/** Small value domain, including two spellings of the same object so deep equality is exercised. */
const valueArb: fc.Arbitrary<Json> = fc
  .constantFrom<Json | 'obj1' | 'obj2'>(0, 1, 'x', null, true, 'obj1', 'obj2')
  .map((v) => (v === 'obj1' ? { p: 1, q: [2] } : v === 'obj2' ? { q: [2], p: 1 } : v));

interface Keyed {
  recordKey: string;
  write: Write;
}

const writesArb = (maxLength: number): fc.Arbitrary<Keyed[]> =>
  fc
    .array(
      fc.record({
        recordKey: fc.constantFrom(...RECORDS),
        deviceId: fc.constantFrom(...DEVICES),
        occurredAt: fc.constantFrom(...TIMES.map((t) => t.occurredAt)),
        fields: fc.dictionary(fc.constantFrom(...FIELDS), valueArb, { maxKeys: FIELDS.length }),
      }),
      { minLength: 1, maxLength },
    )
    .map((items) =>
      items.map(({ recordKey, ...rest }, i) => ({ recordKey, write: { eventId: `evt-${i}`, ...rest } })),
    );

/** Every index at least once, some more than once, in any order. */
const deliveryArb = (n: number): fc.Arbitrary<number[]> =>
  fc.array(fc.nat({ max: n - 1 }), { maxLength: n }).chain((extra) => {
    const all = [...Array.from({ length: n }, (_, i) => i), ...extra];
    return fc.shuffledSubarray(all, { minLength: all.length, maxLength: all.length });
  });

const scenarioArb = writesArb(12).chain((writes) =>
  fc.tuple(fc.constant(writes), deliveryArb(writes.length), deliveryArb(writes.length)),
);

function at<T>(items: readonly T[], i: number): T {
  const item = items[i];
  if (item === undefined) throw new Error(`no item ${i}`);
  return item;
}

/** Canonical JSON (sorted keys), independent of the engine's equality. */
function canon(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canon).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canon(value[k] as Json)}`)
    .join(',')}}`;
}

/** Reference order, independent of compareStamps: instant rank, then deviceId, then eventId. */
function refCompare(a: Write, b: Write): number {
  const rank = (w: Write) =>
    at(
      TIMES,
      TIMES.findIndex((t) => t.occurredAt === w.occurredAt),
    ).rank;
  const key = (w: Write) => [rank(w), w.deviceId, w.eventId] as const;
  const [x, y] = [key(a), key(b)];
  for (let i = 0; i < 3; i++) {
    if (x[i] !== y[i]) return (x[i] as number | string) < (y[i] as number | string) ? -1 : 1;
  }
  return 0;
}

interface Run {
  records: Record<string, MergeRecord>;
}

function deliver(writes: Keyed[], order: number[], strategy: Strategy = 'LWW'): Run {
  const records: Record<string, MergeRecord> = {};
  for (const i of order) {
    const { recordKey, write } = at(writes, i);
    const result = applyWrite(records[recordKey], write, strategy);
    // Shape invariants of every result.
    expect(result.outcome === 'CONFLICT').toBe(result.conflicts.length > 0);
    expect(result.resolution !== undefined).toBe(result.outcome === 'CONFLICT');
    records[recordKey] = result.record;
  }
  return { records };
}

/** The reference model: fold the writes in stamp order, each field simply overwritten. */
function referenceState(writes: Keyed[]): Record<string, MergeRecord> {
  const records: Record<string, MergeRecord> = {};
  for (const { recordKey, write } of [...writes].sort((a, b) => refCompare(a.write, b.write))) {
    const record = (records[recordKey] ??= { fields: {} });
    for (const [field, value] of Object.entries(write.fields)) {
      record.fields[field] = {
        value,
        stamp: { occurredAt: write.occurredAt, deviceId: write.deviceId, eventId: write.eventId },
      };
    }
  }
  return records;
}

describe('merge engine — LWW properties', () => {
  it('any order, any redelivery: same final state', () => {
    fc.assert(
      fc.property(scenarioArb, ([writes, order1, order2]) => {
        const a = deliver(writes, order1);
        const b = deliver(writes, order2);
        expect(a.records).toEqual(b.records);
      }),
      RUNS,
    );
  });

  it('final state is the fold in stamp order', () => {
    fc.assert(
      fc.property(scenarioArb, ([writes, order]) => {
        const run = deliver(writes, order);
        const reference = referenceState(writes);
        expect(Object.keys(run.records).sort()).toEqual(Object.keys(reference).sort());
        for (const [key, record] of Object.entries(reference)) expect(run.records[key]).toEqual(record);
      }),
      RUNS,
    );
  });

  it('merges writes to disjoint fields, in either order, under any strategy', () => {
    fc.assert(
      fc.property(
        writesArb(2).filter((ws) => ws.length === 2),
        fc.constantFrom(...STRATEGIES),
        fc.shuffledSubarray(FIELDS, { minLength: 2, maxLength: FIELDS.length }),
        fc.nat(),
        (ws, strategy, fields, cut) => {
          const split = 1 + (cut % (fields.length - 1));
          const [x, y] = ws.map(({ write }, i) => ({
            ...write,
            fields: Object.fromEntries(
              (i === 0 ? fields.slice(0, split) : fields.slice(split)).map((f) => [f, write.fields[f] ?? 0]),
            ),
          }));
          if (!x || !y) throw new Error('two writes expected');
          for (const [first, second] of [
            [x, y],
            [y, x],
          ] as const) {
            const r1 = applyWrite(undefined, first, strategy);
            const r2 = applyWrite(r1.record, second, strategy);
            expect([r1.outcome, r2.outcome]).toEqual(['APPLIED', 'APPLIED']);
            expect([...r1.conflicts, ...r2.conflicts, ...r1.superseded, ...r2.superseded]).toEqual([]);
            expect(recordValues(r2.record)).toEqual({ ...x.fields, ...y.fields });
          }
        },
      ),
      RUNS,
    );
  });
});

describe('merge engine — every strategy', () => {
  /** Some prior history of one record, then one more write (fresh, or a redelivery of an earlier one). */
  const stateAndWriteArb = fc
    .tuple(writesArb(8), fc.constantFrom(...STRATEGIES), fc.option(fc.nat(), { nil: undefined }))
    .chain(([writes, strategy, redeliver]) =>
      fc.tuple(fc.constant(writes), fc.constant(strategy), fc.constant(redeliver), writesArb(1)),
    )
    .map(([writes, strategy, redeliver, [fresh]]) => {
      let record: MergeRecord | undefined;
      const history = writes.map((k) => k.write);
      for (const write of history) record = applyWrite(record, write, strategy).record;
      const write =
        redeliver === undefined
          ? { ...at(history, 0), ...fresh?.write, eventId: 'evt-new' }
          : at(history, redeliver % history.length);
      return { record, write, strategy };
    });

  it('is idempotent: applying a write twice is applying it once', () => {
    fc.assert(
      fc.property(stateAndWriteArb, ({ record, write, strategy }) => {
        const once = applyWrite(record, write, strategy);
        const twice = applyWrite(once.record, write, strategy);
        expect(twice.record).toEqual(once.record);
        expect(twice.superseded).toEqual([]);
        // Recognised as a redelivery (it stamps a field now), or re-applied with the very same conflicts.
        if (twice.outcome === 'DUPLICATE') expect(twice.conflicts).toEqual([]);
        else if (strategy !== 'CLIENT_WINS') expect(twice.conflicts).toEqual(once.conflicts);
        else expect(twice.conflicts).toEqual([]);
      }),
      RUNS,
    );
  });

  it('keeps each strategy’s promise for differing fields and never loses a field', () => {
    fc.assert(
      fc.property(stateAndWriteArb, ({ record, write, strategy }) => {
        const before = recordValues(record);
        const result = applyWrite(record, write, strategy);
        const after = recordValues(result.record);
        expect(Object.keys(after).sort()).toEqual(
          [...new Set([...Object.keys(before), ...Object.keys(write.fields)])].sort(),
        );
        // A field the writing device itself holds is its own correction: the newer stamp wins, no conflict.
        const own = new Set(
          Object.entries(record?.fields ?? {})
            .filter(([, state]) => state.stamp.deviceId === write.deviceId)
            .map(([field]) => field),
        );
        for (const c of result.conflicts) {
          expect(c.serverStamp.deviceId).not.toBe(c.clientStamp.deviceId);
          expect(own.has(c.field)).toBe(false);
          expect(canon(c.serverValue)).not.toBe(canon(c.clientValue));
          const kept = strategy === 'CLIENT_WINS' ? c.clientValue : c.serverValue;
          expect(canon(after[c.field] as Json)).toBe(canon(kept));
        }
        for (const s of result.superseded) {
          expect(record?.fields[s.field]?.stamp.eventId).toBe(s.eventId);
          expect(record?.fields[s.field]?.stamp.deviceId).not.toBe(write.deviceId);
        }
        if (strategy === 'SERVER_WINS' || strategy === 'MANUAL') {
          for (const [field, value] of Object.entries(before))
            if (!own.has(field)) expect(after[field]).toEqual(value);
        }
        if (strategy === 'CLIENT_WINS' && result.outcome !== 'DUPLICATE') {
          for (const [field, value] of Object.entries(write.fields))
            if (!own.has(field)) expect(canon(after[field] as Json)).toBe(canon(value));
        }
        // Own corrections, under every strategy: the device's newer stamp holds the field.
        for (const field of own) {
          if (!Object.hasOwn(write.fields, field) || result.outcome === 'DUPLICATE') continue;
          const held = record?.fields[field];
          const stamp = { occurredAt: write.occurredAt, deviceId: write.deviceId, eventId: write.eventId };
          const newer = held && compareStamps(stamp, held.stamp) > 0;
          expect(canon(after[field] as Json)).toBe(
            canon(newer ? (write.fields[field] as Json) : (before[field] as Json)),
          );
        }
        // Untouched fields keep value and stamp.
        for (const [field, state] of Object.entries(record?.fields ?? {})) {
          if (!Object.hasOwn(write.fields, field)) expect(result.record.fields[field]).toEqual(state);
        }
      }),
      RUNS,
    );
  });

  it('compareStamps is a total order consistent with the instant, device, event order', () => {
    fc.assert(
      fc.property(writesArb(3), (ws) => {
        for (const { write: a } of ws) {
          for (const { write: b } of ws) {
            const sa = { occurredAt: a.occurredAt, deviceId: a.deviceId, eventId: a.eventId };
            const sb = { occurredAt: b.occurredAt, deviceId: b.deviceId, eventId: b.eventId };
            expect(compareStamps(sa, sb)).toBe(Math.sign(refCompare(a, b)));
            expect(compareStamps(sb, sa)).toBe(-compareStamps(sa, sb) || 0);
          }
        }
      }),
      RUNS,
    );
  });
});
