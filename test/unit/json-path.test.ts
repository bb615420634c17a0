import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jsonPath } from '../../shared/contracts/common.js';

/** Walks a JSON path back to a value, so the property below checks paths really address what they name. */
function resolve(root: unknown, path: string): unknown {
  const tokens = path.match(/\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]|\.?([A-Za-z_$][A-Za-z0-9_$]*)/g) ?? [];
  let value = root;
  for (const token of tokens) {
    const index = /^\[(\d+)\]$/.exec(token);
    const quoted = /^\[("(?:[^"\\]|\\.)*")\]$/.exec(token);
    const key = index
      ? Number(index[1])
      : quoted
        ? (JSON.parse(quoted[1] as string) as string)
        : token.replace(/^\./, '');
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

describe('jsonPath', () => {
  it('formats the paths clients see in errors', () => {
    expect(jsonPath(['events', 3, 'payload', 'oilVolume'])).toBe('events[3].payload.oilVolume');
    expect(jsonPath([])).toBe('$');
    expect(jsonPath(['a b', 0])).toBe('["a b"][0]');
    expect(jsonPath(['x'], 'events[1]')).toBe('events[1].x');
  });

  it('addresses exactly the value it names, for any keys', () => {
    const segment = fc.oneof(fc.nat({ max: 5 }), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), (path) => {
        let root: unknown = 'leaf';
        for (const key of [...path].reverse()) {
          if (typeof key === 'number') {
            const array: unknown[] = new Array(key + 1).fill(null);
            array[key] = root;
            root = array;
          } else {
            root = Object.defineProperty({}, key, { value: root, enumerable: true });
          }
        }
        expect(resolve(root, jsonPath(path))).toBe('leaf');
      }),
      { numRuns: 500 },
    );
  });
});
