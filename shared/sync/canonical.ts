/** A piece of output text on the work stack, told apart from a string value still to be written. */
class Text {
  constructor(readonly text: string) {}
}

/**
 * Canonical JSON: object keys sorted at every level, no whitespace. Two bodies that mean the same thing
 * hash the same whatever key order or spacing the client used. `undefined` members are left out and
 * `undefined` array elements written as null, as JSON.stringify does. Iterative with an explicit work
 * stack: a push body's request hash covers events not yet checked for depth, and JSON.parse accepts input
 * nested far deeper than the call stack could recurse.
 */
export function canonicalJson(value: unknown): string {
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
