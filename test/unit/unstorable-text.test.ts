import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findUnstorableText } from '../../shared/contracts/common.js';

/** The rule as a regular expression (NUL, or half of a surrogate pair): the reference. */
// eslint-disable-next-line no-control-regex -- matching NUL is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first path to unstorable text, written the obvious recursive way with the regular expression. */
const reference = (value: unknown, path: (string | number)[] = []): (string | number)[] | undefined => {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      const found = reference(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (UNSTORABLE.test(key)) return [...path, key];
      const found = reference(child, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
};

/** Strings of any UTF-16 code units: lone surrogates and NUL included. */
const anyText = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
const jsonLike = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    anyText,
    fc.integer(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(anyText, tie('value'), { maxKeys: 4 }),
  ),
})).value;

describe('findUnstorableText', () => {
  it('finds the path the regular-expression rule finds, for any value and any text', () => {
    fc.assert(
      fc.property(jsonLike, (value) => {
        expect(findUnstorableText(value, ['events', 3])).toEqual(reference(value, ['events', 3]));
      }),
      { numRuns: 3000 },
    );
  });

  it('reports NUL, lone high and low surrogates, in values and keys; a surrogate pair is fine', () => {
    expect(findUnstorableText({ a: 'ok \u{1F600}', b: ['x', 'nul\u0000'] })).toEqual(['b', 1]);
    expect(findUnstorableText({ a: '\uD800' })).toEqual(['a']);
    expect(findUnstorableText({ a: 'x\uDC00' })).toEqual(['a']);
    expect(findUnstorableText({ ok: 1, 'k\uD800': 1 })).toEqual(['k\uD800']);
    expect(findUnstorableText({ a: ['\u{1F600}'] })).toBeUndefined();
  });
});
