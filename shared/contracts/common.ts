import { z } from 'zod';

/** Ids chosen by clients or managers for reference data (wells, equipment): URL-safe, at most 64 chars. */
export const entityIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/, 'must be 1–64 letters, digits, ".", "_", ":" or "-"');

/*
 * Dates and date-times, as PostgreSQL stores them and as clients mean them (docs/architecture.md, "Input
 * rules"). PostgreSQL `date`/`timestamptz` reach from 4713 BC to 5874897 AD, but ISO 8601 year 0000 is
 * 1 BC and years past 9999 have no four-digit form: no client means them, PostgreSQL refuses year 0, and
 * zod's own ISO checks let both through to a database error. So a date, and a date-time AFTER conversion
 * to UTC (an offset can move year 1 into year 0, or 9999 into 10000), must fall in years 0001–9999 on a
 * real calendar day (and PostgreSQL also refuses year 0 as written, whatever the offset). RFC 3339 §5.6
 * allows a lower-case `t` and `z`: accepted, and stored upper-case.
 */

/** The years a date or date-time may fall in (after conversion to UTC). */
export const MIN_YEAR = 1;
export const MAX_YEAR = 9999;

/** The widest UTC offset PostgreSQL accepts in a timestamptz literal: ±15:59. */
export const MAX_OFFSET_HOURS = 15;

/** RFC 3339 full-date. */
const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** RFC 3339 date-time: seconds required, optional fraction, `Z` or ±hh:mm; `T` and `Z` in either case. */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const isLeapYear = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isCalendarDay = (y: number, m: number, d: number) =>
  m >= 1 && m <= 12 && d >= 1 && d <= (m === 2 && isLeapYear(y) ? 29 : (MONTH_DAYS[m - 1] ?? 0));

/** Days from 1970-01-01 to a proleptic Gregorian date; integer arithmetic, no Date quirks for years < 100. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

const FIRST_SECOND = daysFromCivil(MIN_YEAR, 1, 1) * 86_400;
const END_SECOND = daysFromCivil(MAX_YEAR + 1, 1, 1) * 86_400;
const YEAR_RANGE = `must fall in the years ${String(MIN_YEAR).padStart(4, '0')}–${MAX_YEAR}`;

/**
 * Why a string that matches the full-date pattern is not a storable date, or undefined when it is.
 * Strings that do not match the pattern at all are left to the schema's regex (undefined here).
 */
export function dateProblem(text: string): string | undefined {
  const m = FULL_DATE.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!isCalendarDay(y, mo, d)) return 'is not a calendar date';
  if (y < MIN_YEAR || y > MAX_YEAR) return YEAR_RANGE;
  return undefined;
}

/**
 * Why a string that matches the RFC 3339 date-time pattern is not a storable date-time, or undefined when
 * it is: a real calendar day and time (no leap second: PostgreSQL would move it to the next minute), an
 * offset of at most ±15:59, and a year in 0001–9999 both as written and for the instant in UTC. The
 * fraction is rounded to microseconds as PostgreSQL does, so 9999-12-31T23:59:59.9999999Z is refused.
 */
export function dateTimeProblem(text: string): string | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i])) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (!isCalendarDay(y, mo, d)) return 'is not a calendar date';
  // PostgreSQL reads the date as written before applying the offset: year 0 is refused even when the
  // offset would carry the instant into year 1.
  if (y < MIN_YEAR) return `${YEAR_RANGE}, as written and after conversion to UTC`;
  if (h > 23 || mi > 59 || s > 59) return 'is not a time of day (00:00:00–23:59:59)';
  const offsetMinutes = m[8] ? (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 60 + Number(m[10])) : 0;
  // RFC 3339 allows ±23:59, but PostgreSQL refuses offsets past ±15:59 (22009); real zones span
  // −12:00 to +14:00.
  if (m[8] && (Number(m[9]) > MAX_OFFSET_HOURS || Number(m[10]) > 59)) {
    return `has an offset beyond ±${MAX_OFFSET_HOURS}:59`;
  }
  const roundsUp = m[7] !== undefined && Number(`0.${m[7]}`) >= 0.9999995;
  const utc =
    daysFromCivil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offsetMinutes * 60 + (roundsUp ? 1 : 0);
  if (utc < FIRST_SECOND || utc >= END_SECOND) return `${YEAR_RANGE}, as written and after conversion to UTC`;
  return undefined;
}

const refineWith =
  (problem: (text: string) => string | undefined) => (text: string, ctx: z.RefinementCtx) => {
    const message = problem(text);
    if (message) ctx.addIssue({ code: 'custom', message });
  };

/**
 * A date (RFC 3339 full-date, YYYY-MM-DD) that PostgreSQL stores as the client means it: a calendar day
 * in years 0001–9999. Used for every date the API takes or gives.
 */
export const isoDateSchema = z
  .string()
  .regex(FULL_DATE, 'must be a date YYYY-MM-DD')
  .superRefine(refineWith(dateProblem))
  .meta({ format: 'date', description: `A calendar date YYYY-MM-DD in years 0001–${MAX_YEAR}` });

/**
 * A date-time (RFC 3339 §5.6, with `Z` or a ±hh:mm offset up to ±15:59; `t`/`z` in either case) in years
 * 0001–9999, as written and in UTC; normalised to upper-case `T` and `Z` (offset and fraction kept as
 * sent, so an event sent before and after this rule hashes the same). Used for every date-time the API
 * takes or gives.
 */
export const isoDateTimeSchema = z
  .string()
  .regex(DATE_TIME, 'must be an RFC 3339 date-time with an offset, e.g. 2024-05-01T08:30:00Z')
  .superRefine(refineWith(dateTimeProblem))
  .overwrite((text) => text.toUpperCase())
  .meta({
    format: 'date-time',
    description:
      'RFC 3339 date-time with Z or a ±hh:mm offset of at most ±15:59 (a lower-case t or z is accepted ' +
      `and stored upper-case), in years 0001–${MAX_YEAR} as written and once converted to UTC; no leap second`,
  });

/** Optional free text: absent, null (clears it) or a trimmed string up to max characters. */
export const optionalText = (max: number) => z.string().trim().max(max).nullish();

/** RFC 9457 problem details, with the JSON paths of the values at fault. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  code: z.string().optional(),
  requestId: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

/** Formats a zod issue path as a JSON path: `events[3].payload.oilVolume`. */
export function jsonPath(path: readonly PropertyKey[], prefix = ''): string {
  let out = prefix;
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else {
      const name = String(key);
      out += /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)
        ? `${out ? '.' : ''}${name}`
        : `[${JSON.stringify(name)}]`;
    }
  }
  return out || '$';
}

/**
 * How deep arrays and objects may nest in a request body (and, for a push, in each event counted from the
 * event itself). Real bodies nest under ten levels; the limit keeps every recursive step after it (zod,
 * findUnstorableText, canonicalJson, hashing, jsonb) far from the stack's end. docs/architecture.md.
 */
export const MAX_JSON_DEPTH = 64;

interface DepthNode {
  value: unknown;
  depth: number;
  key: string | number | undefined;
  parent: DepthNode | undefined;
}

/**
 * The path of the first array or object nested deeper than `maxDepth` (the value itself, when it is an
 * array or object, is level 1), or undefined when none is. Iterative with an explicit stack, so input
 * nested a million levels deep (JSON.parse builds that happily) cannot overflow the check itself; paths
 * are rebuilt from parent links only for the one reported. `skip(path)` returns true for containers whose
 * contents someone else checks (a push's events, each checked on its own).
 */
export function findTooDeep(
  value: unknown,
  maxDepth = MAX_JSON_DEPTH,
  skip?: (path: readonly (string | number)[]) => boolean,
): (string | number)[] | undefined {
  const pathOf = (node: DepthNode) => {
    const path: (string | number)[] = [];
    for (let n: DepthNode | undefined = node; n?.key !== undefined; n = n.parent) path.push(n.key);
    return path.reverse();
  };
  const stack: DepthNode[] = [{ value, depth: 1, key: undefined, parent: undefined }];
  while (stack.length > 0) {
    const node = stack.pop() as DepthNode;
    if (node.value === null || typeof node.value !== 'object') continue;
    if (node.depth > maxDepth) return pathOf(node);
    if (skip?.(pathOf(node))) continue;
    // Children pushed last-first, so the first too-deep value in document order is the one reported.
    if (Array.isArray(node.value)) {
      for (let i = node.value.length - 1; i >= 0; i -= 1) {
        const child: unknown = node.value[i];
        if (child !== null && typeof child === 'object')
          stack.push({ value: child, depth: node.depth + 1, key: i, parent: node });
      }
    } else {
      const entries = Object.entries(node.value);
      for (let i = entries.length - 1; i >= 0; i -= 1) {
        const [key, child] = entries[i] as [string, unknown];
        if (child !== null && typeof child === 'object')
          stack.push({ value: child, depth: node.depth + 1, key, parent: node });
      }
    }
  }
  return undefined;
}

/**
 * The field error for a value nested too deeply: the path names the field holding it (at most two levels
 * below `prefix`; the full path would be 64 steps long) rather than the innermost array.
 */
export const tooDeepError = (path: readonly (string | number)[], prefix = '') => ({
  path: jsonPath(path.slice(0, 2), prefix),
  message: `holds arrays or objects nested more than ${MAX_JSON_DEPTH} levels deep`,
});

/**
 * NUL, or half of a surrogate pair: text PostgreSQL (text and jsonb) cannot store. String#isWellFormed (ES2024,
 * Node ≥ 20) finds lone surrogates several times faster than a regular expression with a lookbehind.
 */
const isUnstorable = (text: string): boolean =>
  text.includes('\u0000') || !(text as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * The path of the first string (or object key) holding text that cannot be stored, if any: such input is
 * a client mistake to refuse with 400, not a database error waiting to happen. Recursive: call it only on
 * values already checked by findTooDeep (readJsonBody and checkEvent do that first). One path array is
 * grown and shrunk during the walk and copied only for the answer (a push walks every value of 1000 events).
 */
export function findUnstorableText(
  value: unknown,
  path: (string | number)[] = [],
): (string | number)[] | undefined {
  const at = [...path];
  return pathWhere(value, at, isUnstorable) ? at : undefined;
}

/**
 * The first place in a parsed JSON value where `hit` says yes — for an object key (`hit(key, true)`) or a string
 * value (`hit(text, false)`) — with `path` then ending at it (else `path` is as it was given). One path array is
 * grown and shrunk during the walk: a push walks every value of 1000 events. Recursive: nesting must already
 * be bounded (findTooDeep).
 */
export function pathWhere(
  value: unknown,
  path: (string | number)[],
  hit: (text: string, isKey: boolean) => boolean,
): boolean {
  if (typeof value === 'string') return hit(value, false);
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i += 1) {
      path.push(i);
      if (pathWhere(value[i], path, hit)) return true;
      path.pop();
    }
    return false;
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    path.push(key);
    if (hit(key, true) || pathWhere(record[key], path, hit)) return true;
    path.pop();
  }
  return false;
}
