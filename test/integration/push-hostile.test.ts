import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { pushSyncBatch } from '../../functions/sync-push.js';
import { PAYLOAD_SCHEMAS, type EventType } from '../../shared/contracts/events.js';
import type { PushAccepted } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { inspection, maintenance, mixedEvent, note, production, reading } from '../support/events.js';
import { call } from '../support/http.js';
import { push } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// Hostile and malformed push bodies: whatever arrives, the answer is never a 5xx, and nothing invalid
// reaches the event log.
let t: SeededTenant;
let token: string;

beforeAll(async () => {
  t = await seededTenant('hostile');
  token = await tokenFor(t.tenant.id, ['OPERATOR']);
});
afterAll(() => closeApp());

const nasty = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    "'; drop table sync_events; --",
    '" or 1=1 --',
    '\u0000',
    'a\u0000b',
    '\uD800',
    '𝔣𝔦𝔢𝔩𝔡',
    'ﷺ',
    '../../etc/passwd',
    '%SYNC_QUEUE_NAME%',
    '$where',
    '1e309',
    '-0',
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
);
const scalar = fc.oneof(nasty, fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(nasty, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const pad = (n: number, width = 2) => String(Math.abs(n)).padStart(width, '0');

/**
 * Dates and date-times around the edges PostgreSQL cannot cross: year 0 and 9999 with offsets that carry
 * the instant over (or not), impossible calendar days and times, lower-case `t`/`z`. Each comes with the
 * oracle's verdict, computed with Date arithmetic: storable iff a calendar day in years 1..9999 both as
 * written and in UTC, with an offset PostgreSQL takes (±15:59).
 */
const hostileDateTime = fc
  .record({
    y: fc.oneof(fc.constantFrom(0, 1, 9999), fc.integer({ min: 0, max: 9999 })),
    mo: fc.integer({ min: 1, max: 12 }),
    d: fc.oneof(fc.integer({ min: 1, max: 28 }), fc.constantFrom(29, 30, 31)),
    h: fc.oneof(fc.constantFrom(0, 23), fc.integer({ min: 0, max: 24 })),
    mi: fc.integer({ min: 0, max: 59 }),
    s: fc.oneof(fc.integer({ min: 0, max: 59 }), fc.constant(60)),
    offset: fc.option(fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }), { nil: undefined }),
    lower: fc.boolean(),
  })
  .map(({ y, mo, d, h, mi, s, offset, lower }) => {
    const zone =
      offset === undefined
        ? 'Z'
        : `${offset < 0 ? '-' : '+'}${pad(Math.trunc(offset / 60))}:${pad(offset % 60)}`;
    const text = `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${zone}`;
    const written = new Date(0);
    written.setUTCFullYear(y, mo - 1, d);
    const calendar = written.getUTCMonth() === mo - 1 && h <= 23 && s <= 59;
    written.setUTCHours(h, mi - (offset ?? 0), s);
    const utcYear = written.getUTCFullYear();
    return {
      text: lower ? text.toLowerCase() : text,
      storable:
        calendar &&
        y >= 1 &&
        utcYear >= 1 &&
        utcYear <= 9999 &&
        (offset === undefined || Math.abs(offset) <= 15 * 60 + 59),
    };
  });
const hostileDate = fc
  .record({
    y: fc.oneof(fc.constantFrom(0, 1, 9999), fc.integer({ min: 0, max: 9999 })),
    mo: fc.integer({ min: 0, max: 13 }),
    d: fc.integer({ min: 0, max: 32 }),
  })
  .map(({ y, mo, d }) => {
    const date = new Date(0);
    date.setUTCFullYear(y, mo - 1, d);
    const calendar = mo >= 1 && mo <= 12 && d >= 1 && date.getUTCMonth() === mo - 1;
    return { text: `${pad(y, 4)}-${pad(mo)}-${pad(d)}`, storable: calendar && y >= 1 };
  });

/** Every place an event takes a date or a date-time, with an event that has it. */
const DATE_FIELDS = [
  { field: 'occurredAt', kind: 'date-time', make: () => note(t.wellId, 'dated') },
  { field: 'payload.productionDate', kind: 'date', make: () => production(t.wellId) },
  { field: 'payload.recordedAt', kind: 'date-time', make: () => reading(t.wellId) },
  { field: 'payload.inspectedAt', kind: 'date-time', make: () => inspection(t.wellId, t.equipmentId) },
  { field: 'payload.nextInspectionDate', kind: 'date', make: () => inspection(t.wellId) },
  { field: 'payload.performedAt', kind: 'date-time', make: () => maintenance(t.equipmentId) },
  { field: 'payload.nextMaintenanceDate', kind: 'date', make: () => maintenance(t.equipmentId) },
] as const;

/** An otherwise valid event with one hostile date, and whether that date is storable. */
const datedEvent = fc
  .tuple(fc.constantFrom(...DATE_FIELDS), hostileDateTime, hostileDate, fc.string({ maxLength: 12 }))
  .map(([{ field, kind, make }, dateTime, date, salt]) => {
    const value = kind === 'date' ? date : dateTime;
    const event = make() as unknown as Record<string, unknown> & { payload: Record<string, unknown> };
    if (field === 'occurredAt') event.payload = { ...event.payload, text: `dated ${salt}` };
    if (field === 'occurredAt') event.occurredAt = value.text;
    else event.payload = { ...event.payload, [field.slice('payload.'.length)]: value.text };
    return { event, field, ...value };
  });

/** An event that is valid, then broken in one random place. */
const eventish = fc
  .tuple(
    fc.nat({ max: 1000 }),
    fc.constantFrom('id', 'type', 'occurredAt', 'payload', 'location', 'none', 'date'),
    json,
    nasty,
    datedEvent,
  )
  .map(([i, where, junk, key, dated]) => {
    const event = mixedEvent(i, t.wellId, t.equipmentId) as unknown as Record<string, unknown>;
    if (where === 'none') return event;
    if (where === 'date') return dated.event;
    if (where === 'payload')
      return { ...event, payload: { ...(event.payload as object), [key]: junk, wellId: junk } };
    return { ...event, [where]: junk };
  });

/** Valid events whose free text is hostile: they must be stored intact or refused, never crash a statement. */
const hostileText = fc.tuple(nasty, fc.nat({ max: 3 })).map(([text, kind]) => {
  const filler = text.length ? text : 'x';
  if (kind === 0) return note(t.wellId, filler);
  if (kind === 1) return maintenance(t.equipmentId, filler);
  if (kind === 2) return production(t.wellId, { notes: filler });
  return { ...reading(t.wellId), payload: { ...reading(t.wellId).payload, unit: filler.slice(0, 32) } };
});

const body = fc.oneof(
  json,
  fc.record({ deviceId: fc.oneof(nasty, json), events: fc.oneof(json, fc.array(json, { maxLength: 5 })) }),
  fc.record({
    deviceId: fc.constantFrom('hostile-1', 'hostile-2'),
    deviceInfo: fc.option(
      fc.record({ platform: fc.oneof(nasty, fc.constantFrom('ios', 'android')), appVersion: nasty }),
      {
        nil: undefined,
      },
    ),
    events: fc.array(fc.oneof(eventish, hostileText, json), { minLength: 1, maxLength: 8 }),
  }),
);

describe('push with hostile input', () => {
  it('never answers 5xx and writes only valid events (10,000 bodies)', async () => {
    let accepted = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const response = await push(token, b);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status, response.text.slice(0, 300)).toBeLessThan(500);
        expect([202, 400, 413]).toContain(response.status);
        if (response.status === 202) accepted += (response.body as PushAccepted).accepted;
      }),
      { numRuns: 10_000 },
    );
    // Every stored event is one the schemas accept, and nothing else was stored.
    const { rows } = await getApp()
      .tenantPool(t.tenant)
      .query<{ type: EventType; payload: unknown }>('select type, payload from sync_events');
    expect(rows.length).toBe(accepted);
    for (const row of rows) expect(PAYLOAD_SCHEMAS[row.type].safeParse(row.payload).success).toBe(true);
    expect(statuses.get(202) ?? 0).toBeGreaterThan(100);
    expect(statuses.get(400) ?? 0).toBeGreaterThan(100);
  }, 300_000);

  it('rejects every date PostgreSQL cannot store with its path, and nothing it accepts fails later', async () => {
    const dateErrors = /0001–9999|calendar date|time of day|offset|date-time|YYYY-MM-DD/;
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(datedEvent, { minLength: 1, maxLength: 6 }), async (dated) => {
        const response = await push(token, { deviceId: 'hostile-dates', events: dated.map((d) => d.event) });
        expect(response.status, response.text.slice(0, 300)).toBe(202);
        const rejected = new Map((response.body as PushAccepted).rejected.map((r) => [r.index, r]));
        dated.forEach((d, i) => {
          const errors = rejected.get(i)?.errors ?? [];
          const dateError = errors.find(
            (e) => e.path === `events[${i}].${d.field}` && dateErrors.test(e.message),
          );
          expect(dateError !== undefined, `${d.field} ${d.text}: ${JSON.stringify(errors)}`).toBe(
            !d.storable,
          );
          if (!d.storable) expect(rejected.get(i)?.retryable).toBe(false);
        });
        checked += dated.length;
      }),
      { numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(300);
    // What was accepted settles APPLIED, DUPLICATE, CONFLICT or REJECTED, never FAILED on a date.
    const pool = getApp().tenantPool(t.tenant);
    const deadline = Date.now() + 120_000;
    let pending = Number.POSITIVE_INFINITY;
    while (pending > 0 && Date.now() < deadline) {
      const { rows } = await pool.query<{ n: number }>(
        `select count(*)::int as n from sync_events where device_id = 'hostile-dates' and status = 'PENDING'`,
      );
      pending = rows[0]?.n ?? 0;
      if (pending > 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(pending).toBe(0);
    const { rows: failed } = await pool.query<{ error: unknown }>(
      `select error from sync_events where device_id = 'hostile-dates' and status = 'FAILED'`,
    );
    expect(failed).toEqual([]);
  }, 300_000);

  it('answers 415 for a charset other than UTF-8, 400 for bytes that are not UTF-8, and stores text intact', async () => {
    const charsets = fc.constantFrom(
      undefined,
      'utf-8',
      'UTF-8',
      '"utf-8"',
      'utf8',
      'iso-8859-1',
      'windows-1252',
      'utf-16',
      'UTF-16LE',
      'us-ascii',
      'latin1',
    );
    const encodings = fc.constantFrom('utf8', 'latin1', 'utf16le', 'utf8+bom', 'utf8+junk');
    const texts = fc.array(
      fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.constantFrom('Café Señor', 'Ölfeld ✓ 𝔣')),
      {
        minLength: 1,
        maxLength: 4,
      },
    );
    const isUtf8Label = (c: string | undefined) => c === undefined || /^"?utf-?8"?$/i.test(c);
    const stored: { id: string; text: string }[] = [];
    await fc.assert(
      fc.asyncProperty(
        texts,
        charsets,
        encodings,
        fc.nat(),
        fc.integer({ min: 0x80, max: 0xff }),
        async (words, charset, encoding, at, junk) => {
          const events = words.map((w) => note(t.wellId, w.trim() || 'x'));
          const text = JSON.stringify({ deviceId: 'hostile-text', events });
          let bytes =
            encoding === 'utf8+bom'
              ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')])
              : Buffer.from(text, encoding === 'utf8+junk' ? 'utf8' : encoding);
          if (encoding === 'utf8+junk') {
            const i = at % bytes.length;
            bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([junk]), bytes.subarray(i)]);
          }
          const response = await call(pushSyncBatch, {
            method: 'POST',
            token,
            headers: {
              'content-type': `application/json${charset === undefined ? '' : `; charset=${charset}`}`,
            },
            body: bytes,
          });
          expect(response.status, response.text.slice(0, 300)).toBeLessThan(500);
          if (!isUtf8Label(charset)) {
            expect(response.status).toBe(415);
            return;
          }
          let decoded: string | undefined;
          try {
            decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
          } catch {
            decoded = undefined;
          }
          if (decoded === undefined) {
            expect(response.status).toBe(400);
            expect((response.body as { detail: string }).detail).toMatch(/UTF-8/);
          } else if (decoded === text) {
            expect(response.status).toBe(202);
            const rejected = new Set((response.body as PushAccepted).rejected.map((r) => r.index));
            events.forEach((e, i) => {
              if (!rejected.has(i)) stored.push({ id: e.id, text: (e.payload as { text: string }).text });
            });
          } else {
            // Valid UTF-8 but another text (UTF-16 of ASCII, say): refused or stored as that text, never 5xx.
            expect([202, 400]).toContain(response.status);
          }
        },
      ),
      { numRuns: 400 },
    );
    // Every note accepted from a UTF-8 body is stored exactly as sent (a duplicate text is deduplicated,
    // so each id is checked only when its note row exists).
    const { rows } = await getApp()
      .tenantPool(t.tenant)
      .query<{ id: string; text: string }>(
        `select se.id::text as id, se.payload->>'text' as text from sync_events se where se.id = any($1::uuid[])`,
        [stored.map((s) => s.id)],
      );
    const byId = new Map(rows.map((r) => [r.id, r.text]));
    for (const s of stored) expect(byId.get(s.id)).toBe(s.text.trim() || 'x');
    expect(stored.length).toBeGreaterThan(50);
  }, 300_000);
});
