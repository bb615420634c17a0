import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isoDateSchema, isoDateTimeSchema } from '../../shared/contracts/common.js';

// The one date and date-time schema every event, reference-data body, query string and response uses:
// accepted exactly when PostgreSQL stores what the client meant (years 0001–9999 once in UTC).

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/** The UTC year of a wall-clock time at an offset, by Date arithmetic (independent of the schema's). */
function utcYear(y: number, mo: number, d: number, h: number, mi: number, s: number, offsetMinutes: number) {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi - offsetMinutes, s, 0);
  return date.getUTCFullYear();
}

const isCalendarDay = (y: number, mo: number, d: number) => {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
};

// Years biased to the edges of the range, where an offset crosses it.
const year = fc.oneof(fc.constantFrom(0, 1, 2, 9998, 9999), fc.integer({ min: 0, max: 9999 }));
const offset = fc.oneof(
  fc.constant(undefined), // Z
  fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
);
const dateTimeParts = fc.record({
  y: year,
  mo: fc.integer({ min: 1, max: 12 }),
  d: fc.integer({ min: 1, max: 31 }),
  h: fc.integer({ min: 0, max: 23 }),
  mi: fc.integer({ min: 0, max: 59 }),
  s: fc.integer({ min: 0, max: 59 }),
  // Up to microseconds: PostgreSQL's precision, so no rounding crosses a second.
  fraction: fc.option(fc.stringMatching(/^\d{1,6}$/), { nil: undefined }),
  offset,
  lowerT: fc.boolean(),
  lowerZ: fc.boolean(),
});

type Parts = typeof dateTimeParts extends fc.Arbitrary<infer T> ? T : never;

const format = (p: Parts) => {
  const zone =
    p.offset === undefined
      ? p.lowerZ
        ? 'z'
        : 'Z'
      : `${p.offset < 0 ? '-' : '+'}${pad(Math.trunc(p.offset / 60))}:${pad(p.offset % 60)}`;
  return (
    `${pad(p.y, 4)}-${pad(p.mo)}-${pad(p.d)}${p.lowerT ? 't' : 'T'}${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}` +
    `${p.fraction === undefined ? '' : `.${p.fraction}`}${zone}`
  );
};

describe('isoDateTimeSchema', () => {
  it('accepts a date-time with any offset iff it is a calendar day in years 1..9999, as written and in UTC (offsets up to ±15:59)', () => {
    fc.assert(
      fc.property(dateTimeParts, (p) => {
        const text = format(p);
        const result = isoDateTimeSchema.safeParse(text);
        const inUtc = utcYear(p.y, p.mo, p.d, p.h, p.mi, p.s, p.offset ?? 0);
        // PostgreSQL refuses year 0 as written too, whatever the offset.
        const offsetOk = p.offset === undefined || Math.abs(p.offset) <= 15 * 60 + 59;
        const expected = isCalendarDay(p.y, p.mo, p.d) && p.y >= 1 && inUtc >= 1 && inUtc <= 9999 && offsetOk;
        expect(result.success, text).toBe(expected);
        // Normalised: upper-case T and Z, everything else as sent.
        if (result.success) expect(result.data).toBe(text.toUpperCase());
      }),
      { numRuns: 5000 },
    );
  });

  it("agrees with zod's own RFC 3339 check on the format, and with Date on the instant", () => {
    fc.assert(
      fc.property(dateTimeParts, (p) => {
        const text = format({ ...p, lowerT: false, lowerZ: false });
        const ours = isoDateTimeSchema.safeParse(text);
        if (ours.success) {
          expect(z.iso.datetime({ offset: true }).safeParse(text).success).toBe(true);
          expect(Number.isNaN(Date.parse(text))).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses the inputs of the bug reports and their neighbours, with a message', () => {
    const refused = [
      '0000-01-01T00:00:00Z',
      '0000-12-31T23:59:59z',
      '0001-01-01T00:30:00+01:00', // year 0 in UTC
      '0001-01-01T00:00:00+00:01',
      '0000-12-31T23:30:00-01:00', // year 1 in UTC, but PostgreSQL reads year 0 first
      '9999-12-31T23:30:00-01:00', // year 10000 in UTC
      '9999-12-31T23:59:59.9999999Z', // rounds to 10000-01-01 at PostgreSQL's microseconds
      '10000-01-01T00:00:00Z',
      '-0001-01-01T00:00:00Z',
      '+002024-01-01T00:00:00Z',
      '2023-02-29T10:00:00Z',
      '2024-04-31T10:00:00Z',
      '2024-13-01T10:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T10:60:00Z',
      '2024-12-31T23:59:60Z', // leap second
      '2024-01-01T10:00:00+24:00',
      '2024-01-01T10:00:00+16:00', // RFC 3339 allows it, PostgreSQL does not
      '2024-01-01T10:00:00-23:59',
      '2024-01-01T10:00:00+01:60',
      '2024-01-01T10:00Z', // seconds are required
      '2024-01-01T10:00:00', // so is an offset
      '2024-01-01T10:00:00+0100',
      '2024-01-01 10:00:00Z',
      '2024-01-01t10:00:00Zz',
    ];
    for (const text of refused) {
      const result = isoDateTimeSchema.safeParse(text);
      expect(result.success, text).toBe(false);
      expect(result.error?.issues[0]?.message, text).toMatch(/\w/);
    }
    const accepted: [string, string][] = [
      ['0001-01-01T00:00:00Z', '0001-01-01T00:00:00Z'],
      ['0001-01-01T00:30:00-01:00', '0001-01-01T00:30:00-01:00'],
      ['9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.999999Z'],
      ['2024-02-29t10:00:00z', '2024-02-29T10:00:00Z'],
      ['2024-05-01t08:30:00.5-05:00', '2024-05-01T08:30:00.5-05:00'],
      ['2024-05-01T08:30:00-00:00', '2024-05-01T08:30:00-00:00'],
      ['2024-05-01T08:30:00+15:59', '2024-05-01T08:30:00+15:59'],
      ['2024-05-01T08:30:00-12:00', '2024-05-01T08:30:00-12:00'],
    ];
    for (const [text, stored] of accepted) {
      expect(isoDateTimeSchema.parse(text), text).toBe(stored);
    }
  });
});

describe('isoDateSchema', () => {
  it('accepts YYYY-MM-DD iff it is a calendar day in years 1..9999', () => {
    fc.assert(
      fc.property(year, fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), (y, mo, d) => {
        const text = `${pad(y, 4)}-${pad(mo)}-${pad(d)}`;
        const expected = mo >= 1 && mo <= 12 && d >= 1 && isCalendarDay(y, mo, d) && y >= 1;
        expect(isoDateSchema.safeParse(text).success, text).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses year 0, other lengths and shapes', () => {
    for (const text of [
      '0000-01-01',
      '10000-01-01',
      '-0001-01-01',
      '2024-1-01',
      '2024-01-01T00:00:00Z',
      '',
    ]) {
      expect(isoDateSchema.safeParse(text).success, text).toBe(false);
    }
    expect(isoDateSchema.parse('0001-01-01')).toBe('0001-01-01');
    expect(isoDateSchema.parse('9999-12-31')).toBe('9999-12-31');
  });
});
