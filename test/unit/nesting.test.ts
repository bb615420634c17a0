import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findTooDeep, MAX_JSON_DEPTH } from '../../shared/contracts/common.js';
import { canonicalJson, canonicalJsonIterative } from '../../shared/sync/canonical.js';

/** Arrays and objects alternating, `depth` levels of them around the leaf. */
const nested = (depth: number, leaf: unknown = 1): unknown => {
  let value = leaf;
  for (let i = 0; i < depth; i += 1) value = i % 2 ? [value] : { k: value };
  return value;
};

/** The depth of a JSON value, recursively: the reference the iterative check is compared with. */
const depthOf = (value: unknown): number =>
  value === null || typeof value !== 'object'
    ? 0
    : 1 + Math.max(0, ...Object.values(value as Record<string, unknown>).map(depthOf));

/** The canonical JSON as it was written before it became iterative: the reference. */
const recursiveCanonical = (value: unknown): string => {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => recursiveCanonical(v === undefined ? null : v)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const entries = Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${recursiveCanonical(record[k])}`);
  return `{${entries.join(',')}}`;
};

const anyJson = fc.jsonValue({ maxDepth: 8 });

describe('findTooDeep', () => {
  it('finds a value iff the recursive depth exceeds the limit', () => {
    fc.assert(
      fc.property(anyJson, fc.integer({ min: 1, max: 9 }), (value, limit) => {
        const found = findTooDeep(value, limit);
        expect(found !== undefined).toBe(depthOf(value) > limit);
        // The path leads to a container at exactly limit + 1.
        if (found) {
          let at: unknown = value;
          for (const key of found) at = (at as Record<string | number, unknown>)[key];
          expect(found.length).toBe(limit);
          expect(typeof at).toBe('object');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it(`holds ${MAX_JSON_DEPTH} levels, reports the first deeper value in document order`, () => {
    expect(findTooDeep(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(findTooDeep({ a: nested(3), b: nested(MAX_JSON_DEPTH), c: nested(MAX_JSON_DEPTH + 5) })?.[0]).toBe(
      'b',
    );
    expect(findTooDeep([1, 'x', null, nested(MAX_JSON_DEPTH)])?.slice(0, 3)).toEqual([3, 0, 'k']);
  });

  it('checks input nested a million levels deep without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`) as unknown;
    expect(findTooDeep(deep)?.length).toBe(MAX_JSON_DEPTH);
  });

  it('skips what the caller checks itself', () => {
    const body = { events: [nested(200)], info: nested(3) };
    const isItem = (path: readonly (string | number)[]) => path.length === 2 && path[0] === 'events';
    expect(findTooDeep(body, MAX_JSON_DEPTH, isItem)).toBeUndefined();
    expect(findTooDeep({ ...body, info: nested(200) }, MAX_JSON_DEPTH, isItem)?.[0]).toBe('info');
  });
});

describe('canonicalJson', () => {
  it('writes what the recursive definition writes, whatever the key order', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 6, withNullPrototype: true }), (value) => {
        expect(canonicalJson(value)).toBe(recursiveCanonical(value));
      }),
      { numRuns: 2000 },
    );
    expect(canonicalJson({ b: [1, undefined, 'x'], a: { d: undefined, c: null } })).toBe(
      '{"a":{"c":null},"b":[1,null,"x"]}',
    );
    expect(canonicalJson(undefined)).toBe('null');
  });

  it("writes the same text on both sides of the recursive writer's depth limit (the iterative fallback)", () => {
    for (const depth of [255, 256, 257, 300]) {
      const value = { b: nested(depth, { z: 'é', a: [undefined, -0] }), a: 1 };
      expect(canonicalJson(value)).toBe(recursiveCanonical(value));
      expect(canonicalJsonIterative(value)).toBe(recursiveCanonical(value));
    }
  });

  it('hashes a body nested a million levels deep (an Idempotency-Key push) without overflowing', () => {
    const text = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    expect(canonicalJson(JSON.parse(text))).toBe(text);
  });
});
