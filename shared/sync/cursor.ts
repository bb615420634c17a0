import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

const digits = z.string().regex(/^\d+$/);
/** A held set's hash (shared/sync/held-set.ts). */
const setHash = z.string().regex(/^[A-Za-z0-9_-]{1,43}$/);

/**
 * What a pull cursor carries. Opaque to clients; signed, so a changed or foreign cursor is refused.
 * - `d` delta: the change-log position (x, s); `h` the held set the device has (absent in cursors from before
 *   v1.1: nothing); while a change of held set is settling, `o` the wider set whose leavers still become
 *   deletions, until the position passes transaction `u`.
 * - `s` snapshot of the v1 entities: boundary (x, s), entity type `i`, after id `a`, production since `p`.
 * - `r` a change of held set (docs/selective-sync.md): deletions (`f` = 'del') then a snapshot (`f` = 'add')
 *   of records by (collection `c`, id `a`), towards the held set `h`; `k` the set the device surely has,
 *   `o` the set it may have; then the delta from (x, s).
 */
export const cursorSchema = z.discriminatedUnion('m', [
  z.object({
    v: z.literal(1),
    t: z.string(),
    m: z.literal('d'),
    x: digits,
    s: digits,
    h: setHash.optional(),
    o: setHash.optional(),
    u: digits.optional(),
  }),
  z.object({
    v: z.literal(1),
    t: z.string(),
    m: z.literal('r'),
    x: digits,
    s: digits,
    h: setHash,
    k: setHash,
    o: setHash,
    f: z.enum(['del', 'add']),
    c: z.string().max(64),
    a: z.string().max(256),
  }),
  z.object({
    v: z.literal(1),
    t: z.string(),
    m: z.literal('s'),
    x: digits,
    s: digits,
    i: z.number().int().min(0).max(10),
    a: z.string().max(256),
    p: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  }),
]);
export type Cursor = z.infer<typeof cursorSchema>;

const sign = (key: string, body: string) => createHmac('sha256', key).update(body).digest('base64url');

export function encodeCursor(cursor: Cursor, key: string): string {
  const body = Buffer.from(JSON.stringify(cursor)).toString('base64url');
  return `${body}.${sign(key, body)}`;
}

/** The cursor, or undefined when it is malformed, was altered, or was signed with another key. */
export function decodeCursor(text: string, key: string): Cursor | undefined {
  const [body, signature, extra] = text.split('.');
  if (!body || !signature || extra !== undefined) return undefined;
  const expected = Buffer.from(sign(key, body));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  try {
    const parsed = cursorSchema.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Compares two log positions (xid, seq) as the change log orders them. */
export function comparePositions(a: { xid: string; seq: string }, b: { xid: string; seq: string }): number {
  const ax = BigInt(a.xid);
  const bx = BigInt(b.xid);
  if (ax !== bx) return ax < bx ? -1 : 1;
  const as = BigInt(a.seq);
  const bs = BigInt(b.seq);
  return as === bs ? 0 : as < bs ? -1 : 1;
}
