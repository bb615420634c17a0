import * as crypto from 'node:crypto';

/** A piece of output text on the work stack, told apart from a string value still to be written. */
class Text {
  constructor(readonly text: string) {}
}

/**
 * How deep the fast recursive writer goes before the iterative one takes over: far below any call stack's
 * end, far above MAX_JSON_DEPTH (what a checked event or body may nest), so checked values never fall back.
 */
const RECURSION_LIMIT = 256;

/** Thrown (a shared sentinel, no stack captured) when a value nests deeper than RECURSION_LIMIT. */
const TOO_DEEP: unique symbol = Symbol('canonicalJson: too deep for the recursive writer');

/**
 * Canonical JSON: object keys sorted at every level, no whitespace. Two bodies that mean the same thing
 * hash the same whatever key order or spacing the client used. `undefined` members are left out and
 * `undefined` array elements written as null, as JSON.stringify does. Each event of a push is hashed with
 * it (and the whole body once more for an Idempotency-Key), so it runs a recursive writer that builds one
 * string (about 4× faster than the work stack, and far less garbage); a value nested deeper than
 * RECURSION_LIMIT (a push body's request hash covers events not yet checked for depth, and JSON.parse
 * accepts input nested far deeper than the call stack could recurse) is written by the iterative one.
 * Both write exactly the same text (test/unit/nesting.test.ts compares them with the recursive definition).
 */
export function canonicalJson(value: unknown): string {
  try {
    return write(value, 0);
  } catch (error) {
    if (error === TOO_DEEP) return canonicalJsonIterative(value);
    throw error;
  }
}

function write(value: unknown, depth: number): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (depth >= RECURSION_LIMIT) throw TOO_DEEP;
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i += 1) {
      const element: unknown = value[i];
      if (i > 0) out += ',';
      out += element === undefined ? 'null' : write(element, depth + 1);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const member = record[key];
    if (member === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${write(member, depth + 1)}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * The same text as canonicalJson, iterative with an explicit work stack: for values nested deeper than
 * the recursive writer may go. Exported for the tests that compare the two.
 */
export function canonicalJsonIterative(value: unknown): string {
  const out: string[] = [];
  const work: unknown[] = [value];
  while (work.length > 0) {
    const item = work.pop();
    if (item instanceof Text) {
      out.push(item.text);
    } else if (item === null || typeof item !== 'object') {
      out.push(JSON.stringify(item) ?? 'null');
    } else if (Array.isArray(item)) {
      // Pushed in reverse: the stack pops `[`, the elements with their commas, then `]`.
      work.push(new Text(']'));
      for (let i = item.length - 1; i >= 0; i -= 1) {
        const element: unknown = item[i];
        work.push(element === undefined ? null : element);
        if (i > 0) work.push(new Text(','));
      }
      work.push(new Text('['));
    } else {
      const record = item as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => record[k] !== undefined)
        .sort();
      work.push(new Text('}'));
      for (let i = keys.length - 1; i >= 0; i -= 1) {
        const key = keys[i] as string;
        work.push(record[key]);
        work.push(new Text(`${JSON.stringify(key)}:`));
        if (i > 0) work.push(new Text(','));
      }
      work.push(new Text('{'));
    }
  }
  return out.join('');
}

/**
 * sha256 of `text` as 64 hex digits. One-shot crypto.hash (Node ≥ 20.12) where there is one: about 3× faster
 * than createHash for the short texts hashed once per event (push and processor); createHash on an older
 * Node 20 (package.json allows 20.11).
 */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'hex') => string }).hash;
export const sha256Hex: (text: string) => string = oneShot
  ? (text) => oneShot('sha256', text, 'hex')
  : (text) => crypto.createHash('sha256').update(text).digest('hex');
