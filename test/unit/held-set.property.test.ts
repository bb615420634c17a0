import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  effectiveSet,
  type HeldSet,
  type HeldState,
  heldSet,
  heldSetHash,
  holds,
  hull,
  interrupted,
  intersect,
  type RecordKey,
  transition,
} from '../../shared/sync/held-set.js';

// The held-set rules of selective sync (shared/sync/held-set.ts, docs/selective-sync.md), for all sets,
// device copies and interruptions: a change of held set — deletions of what may be held and is not wanted,
// a snapshot of what is wanted and not surely held — leaves the device with exactly the target's records,
// never sends data outside the target, and stays right when a change is interrupted by another.

const RUNS = { numRuns: 1000 };
const COLLECTIONS = ['c1', 'c2', 'c3'];
/** c2 has no scope field. */
const SCOPED: Record<string, boolean> = { c1: true, c2: false, c3: true };
const SCOPES = ['x', 'y', 'z'];

/** Every kind of record: each collection × each scope value and none, two ids each. */
const UNIVERSE: (RecordKey & { id: string })[] = COLLECTIONS.flatMap((collection) =>
  [...SCOPES, null].flatMap((scope) =>
    ['1', '2'].map((n) => ({
      collection,
      scope: SCOPED[collection] ? scope : null,
      scoped: SCOPED[collection] ?? false,
      id: `${scope ?? 'none'}-${n}`,
    })),
  ),
);
const keyOf = (r: { collection: string; id: string }) => `${r.collection}/${r.id}`;
const recordsOf = (set: HeldSet) => new Set(UNIVERSE.filter((r) => holds(set, r)).map(keyOf));
/** Records in `from` and not in `minus`, by (collection, id) as the store pages them. */
const selection = (f: { from: HeldSet; minus: HeldSet }) =>
  UNIVERSE.filter((r) => holds(f.from, r) && !holds(f.minus, r))
    .map(keyOf)
    .sort();

const setArb: fc.Arbitrary<HeldSet> = fc
  .record({
    collections: fc.subarray(COLLECTIONS),
    scopes: fc.option(fc.subarray(SCOPES), { nil: null, freq: 4 }),
  })
  .map((s) => heldSet(s.collections, s.scopes));

/** A state with sure ⊆ maybe (as every state the pull makes), and a device copy between them. */
const stateArb = fc
  .tuple(setArb, setArb, fc.array(fc.boolean(), { minLength: UNIVERSE.length, maxLength: UNIVERSE.length }))
  .map(([sure, extra, coin]) => {
    const maybe = hull(sure, extra);
    const must = recordsOf(sure);
    const may = recordsOf(maybe);
    const device = new Set(UNIVERSE.map(keyOf).filter((k, i) => must.has(k) || (may.has(k) && coin[i])));
    return { state: { sure, maybe } as HeldState, device };
  });

/** Plays a transition on a device copy; `stopAt` (0..1) interrupts it part way. Returns what was sent. */
function play(device: Set<string>, state: HeldState, target: HeldSet, stopAt = 1) {
  const plan = transition(state, target);
  const removed = selection(plan.remove);
  const added = selection(plan.add);
  const steps = [...removed.map((k) => ['del', k] as const), ...added.map((k) => ['add', k] as const)];
  const taken = steps.slice(0, Math.floor(steps.length * stopAt));
  for (const [op, key] of taken) {
    if (op === 'del') device.delete(key);
    else device.add(key);
  }
  return { removed, added, done: taken.length === steps.length };
}

describe('held-set transitions', () => {
  it('a completed change leaves exactly the target; data only of the target; deletions only of maybe', () => {
    fc.assert(
      fc.property(stateArb, setArb, ({ state, device }, target) => {
        const copy = new Set(device);
        const { removed, added } = play(copy, state, target);
        expect([...copy].sort()).toEqual([...recordsOf(target)].sort());
        const wanted = recordsOf(target);
        for (const key of added) expect(wanted.has(key)).toBe(true);
        const may = recordsOf(state.maybe);
        for (const key of removed) expect(may.has(key)).toBe(true);
      }),
      RUNS,
    );
  });

  it('an interrupted change, then another: still exactly the last target', () => {
    fc.assert(
      fc.property(
        stateArb,
        setArb,
        setArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        ({ state, device }, first, second, stopAt) => {
          const copy = new Set(device);
          play(copy, state, first, stopAt);
          const next = interrupted(state, first);
          // The invariant the next change relies on: sure ⊆ copy ⊆ maybe.
          for (const key of recordsOf(next.sure)) expect(copy.has(key)).toBe(true);
          const may = recordsOf(next.maybe);
          for (const key of copy) expect(may.has(key)).toBe(true);
          play(copy, next, second);
          expect([...copy].sort()).toEqual([...recordsOf(second)].sort());
        },
      ),
      RUNS,
    );
  });

  it('the served set never holds a record the caller may not read', () => {
    fc.assert(
      fc.property(
        fc.option(fc.subarray(COLLECTIONS), { nil: undefined }),
        fc.option(fc.subarray([...SCOPES, 'w']), { nil: undefined }),
        fc.option(fc.subarray(SCOPES), { nil: null }),
        (requestedCollections, requestedScopes, readable) => {
          const set = effectiveSet({
            requestedCollections,
            requestedScopes,
            tenantCollections: COLLECTIONS,
            readable,
          });
          for (const r of UNIVERSE) {
            if (!holds(set, r)) continue;
            if (requestedCollections) expect(requestedCollections).toContain(r.collection);
            if (readable !== null && r.scoped) expect(readable).toContain(r.scope);
            if (requestedScopes && r.scoped) expect(requestedScopes).toContain(r.scope);
          }
          // Defaults: everything readable of every collection.
          if (!requestedCollections && !requestedScopes) {
            for (const r of UNIVERSE) {
              const readableNow = !r.scoped || readable === null || readable.includes(r.scope ?? '');
              expect(holds(set, r)).toBe(readableNow);
            }
          }
        },
      ),
      RUNS,
    );
  });

  it('hash: one per set, whatever the order or repetition; hull ⊇ union; intersect is exact', () => {
    fc.assert(
      fc.property(setArb, setArb, fc.boolean(), (a, b, shuffle) => {
        const again = heldSet(
          shuffle ? [...a.collections].reverse().concat(a.collections) : a.collections,
          a.scopes === null ? null : [...a.scopes].reverse(),
        );
        expect(heldSetHash(again)).toBe(heldSetHash(a));
        const ra = recordsOf(a);
        const rb = recordsOf(b);
        const h = recordsOf(hull(a, b));
        for (const key of [...ra, ...rb]) expect(h.has(key)).toBe(true);
        expect([...recordsOf(intersect(a, b))].sort()).toEqual([...ra].filter((k) => rb.has(k)).sort());
        if (heldSetHash(a) === heldSetHash(b)) expect([...ra].sort()).toEqual([...rb].sort());
      }),
      RUNS,
    );
  });
});
