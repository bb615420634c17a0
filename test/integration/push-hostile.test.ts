import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { pushSyncBatch } from '../../functions/sync-push.js';
import { PAYLOAD_SCHEMAS, type EventType } from '../../shared/contracts/events.js';
import type { PushAccepted } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { inspection, maintenance, mixedEvent, note, production, reading } from '../support/events.js';
import { call } from '../support/http.js';
import { ownSyncProcessor } from '../support/processor.js';
import { push } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';
import { waitFor } from '../support/wait.js';

// Hostile and malformed push bodies: whatever arrives, the answer is never a 5xx, and nothing invalid
// reaches the event log.
// This file's own sync queue and processor: its thousands of batches do not queue up in front of other
// files' work on the shared host, and its own waits depend on its own work only.
ownSyncProcessor('hostile');

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

/** Events the generators made valid (an untouched mixedEvent): a push must accept every one of them. */
const validEvents = new WeakSet<object>();
const knownValid = <T extends object>(event: T): T => {
  validEvents.add(event);
  return event;
};

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
    if (where === 'none') return knownValid(event);
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

/*
 * Valid events made from the SPEC's own words (shared/SPEC.md, "Events"), not from the app's schemas, and
 * the same events with exactly one field pushed out of its SPEC range. The app must accept every valid one
 * and store it as sent, and refuse each broken one alone, with INVALID_PAYLOAD (CLOCK_SKEW for a device
 * clock too far ahead) and the JSON path of that field.
 */
const minutesAgoIso = fc
  .integer({ min: 1, max: 60 * 24 * 60 })
  .map((m) => new Date(Date.now() - m * 60_000).toISOString());
const dayOffset = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const words = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9 .,'-]{0,38}[A-Za-z0-9])?$/);
const nonNegative = fc.oneof(
  fc.constant(0),
  fc.double({ min: 0, max: 1e7, noNaN: true, noDefaultInfinity: true }),
);
const negative = fc.oneof(
  fc.constant(-1),
  fc.double({ min: -1e7, max: -1e-9, noNaN: true, noDefaultInfinity: true }),
);
const notOneOf = (allowed: readonly string[]) =>
  fc
    .oneof(fc.constantFrom(...allowed.map((a) => a.toLowerCase()), 'UNKNOWN', ''), words)
    .filter((v) => !allowed.includes(v));
const location = fc.record(
  {
    latitude: fc.double({ min: -90, max: 90, noNaN: true }),
    longitude: fc.double({ min: -180, max: 180, noNaN: true }),
    accuracy: nonNegative,
  },
  { requiredKeys: ['latitude', 'longitude'] },
);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const defined = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** One valid payload per event type (PHOTO_ATTACHED needs an uploaded blob: photos.test.ts covers it). */
const validPayload = (): Record<string, fc.Arbitrary<Record<string, unknown>>> => ({
  PRODUCTION_LOGGED: fc
    .record({
      productionDate: fc.integer({ min: 0, max: 3000 }).map((d) => dayOffset(-d)),
      oilVolume: optional(nonNegative),
      gasVolume: optional(nonNegative),
      waterVolume: optional(nonNegative),
      tubingPressure: optional(nonNegative),
      casingPressure: optional(nonNegative),
      chokeSize: optional(fc.integer({ min: 0, max: 128 })),
      runtime: optional(fc.double({ min: 0, max: 24, noNaN: true })),
      notes: optional(words),
    })
    .map((p) => defined({ wellId: t.wellId, ...p, oilVolume: p.oilVolume ?? 1 })),
  WELL_READING_RECORDED: fc
    .record({
      readingType: fc.constantFrom('PRODUCTION', 'PRESSURE', 'TEMPERATURE'),
      value: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
      unit: fc.constantFrom('psi', 'bbl', 'degF', 'mcf'),
      recordedAt: minutesAgoIso,
    })
    .map((p) => ({ wellId: t.wellId, ...p })),
  EQUIPMENT_INSPECTED: fc
    .record({
      withEquipment: fc.boolean(),
      inspectionType: fc.constantFrom('ROUTINE', 'SAFETY', 'REPAIR', 'DETAILED', 'EMERGENCY'),
      status: fc.constantFrom('PASS', 'FAIL', 'NEEDS_ATTENTION'),
      equipmentStatus: optional(fc.constantFrom('OPERATIONAL', 'MAINTENANCE', 'FAILED')),
      leaksDetected: optional(fc.boolean()),
      notes: optional(words),
      nextInspectionDate: optional(fc.integer({ min: 1, max: 400 }).map(dayOffset)),
      inspectedAt: minutesAgoIso,
    })
    .map(({ withEquipment, ...p }) =>
      defined({ wellId: t.wellId, equipmentId: withEquipment ? t.equipmentId : undefined, ...p }),
    ),
  MAINTENANCE_LOGGED: fc
    .record({
      maintenanceType: fc.constantFrom(
        'PREVENTIVE',
        'CORRECTIVE',
        'EMERGENCY',
        'ROUTINE',
        'REPAIR',
        'INSPECTION',
      ),
      description: words,
      downtimeHours: optional(nonNegative),
      cost: optional(nonNegative),
      vendorName: optional(words),
      performedAt: minutesAgoIso,
    })
    .map((p) => defined({ equipmentId: t.equipmentId, ...p })),
  EQUIPMENT_UPDATED: fc
    .record({
      baseVersion: fc.integer({ min: 1, max: 50 }),
      status: fc.constantFrom('OPERATIONAL', 'MAINTENANCE', 'FAILED'),
      notes: optional(words),
    })
    .map(({ baseVersion, ...changes }) => ({
      equipmentId: t.equipmentId,
      baseVersion,
      changes: defined(changes),
    })),
  NOTES_ADDED: fc
    .record({
      type: fc.constantFrom('WELL', 'EQUIPMENT', 'INSPECTION', 'MAINTENANCE', 'PRODUCTION'),
      text: words,
    })
    .map(({ type, text }) => ({ target: { type, id: type === 'WELL' ? t.wellId : t.equipmentId }, text })),
});

/** Per type, the SPEC's ranges broken one at a time: the field's path in the event, and a value outside. */
type Break = { path: string; value: unknown; code: 'INVALID_PAYLOAD' | 'CLOCK_SKEW' };
const payloadBreak = (field: string, value: fc.Arbitrary<unknown>): fc.Arbitrary<Break> =>
  value.map((v) => ({ path: `payload.${field}`, value: v, code: 'INVALID_PAYLOAD' as const }));
const BREAKS: Record<string, fc.Arbitrary<Break>[]> = {
  PRODUCTION_LOGGED: [
    ...['oilVolume', 'gasVolume', 'waterVolume', 'tubingPressure', 'casingPressure'].map((f) =>
      payloadBreak(f, negative),
    ), // ≥ 0
    payloadBreak('runtime', fc.oneof(negative, fc.double({ min: 24.000001, max: 1e6, noNaN: true }))), // 0–24 h
    payloadBreak(
      'chokeSize',
      fc.oneof(
        fc.integer({ min: -512, max: -1 }),
        fc.integer({ min: 0, max: 127 }).map((n) => n + 0.5),
      ),
    ), // whole 64ths
    // Not in the future (the app lets the server's tomorrow by, for devices east of UTC).
    payloadBreak('productionDate', fc.integer({ min: 2, max: 3000 }).map(dayOffset)),
  ],
  WELL_READING_RECORDED: [payloadBreak('readingType', notOneOf(['PRODUCTION', 'PRESSURE', 'TEMPERATURE']))],
  EQUIPMENT_INSPECTED: [
    payloadBreak('inspectionType', notOneOf(['ROUTINE', 'SAFETY', 'REPAIR', 'DETAILED', 'EMERGENCY'])),
    payloadBreak('status', notOneOf(['PASS', 'FAIL', 'NEEDS_ATTENTION'])),
  ],
  MAINTENANCE_LOGGED: [
    payloadBreak(
      'maintenanceType',
      notOneOf(['PREVENTIVE', 'CORRECTIVE', 'EMERGENCY', 'ROUTINE', 'REPAIR', 'INSPECTION']),
    ),
  ],
  EQUIPMENT_UPDATED: [payloadBreak('changes.status', notOneOf(['OPERATIONAL', 'MAINTENANCE', 'FAILED']))],
  NOTES_ADDED: [
    payloadBreak('target.type', notOneOf(['WELL', 'EQUIPMENT', 'INSPECTION', 'MAINTENANCE', 'PRODUCTION'])),
  ],
};
/** Breaks of any event: a device clock more than 5 minutes ahead, a place off the globe. */
const ENVELOPE_BREAKS: fc.Arbitrary<Break>[] = [
  fc.integer({ min: 6, max: 60 * 24 * 365 }).map((m) => ({
    path: 'occurredAt',
    value: new Date(Date.now() + m * 60_000).toISOString(),
    code: 'CLOCK_SKEW' as const,
  })),
  fc
    .oneof(
      fc.double({ min: 90.000001, max: 1e4, noNaN: true }),
      fc.double({ min: -1e4, max: -90.000001, noNaN: true }),
    )
    .map((v) => ({ path: 'location.latitude', value: v, code: 'INVALID_PAYLOAD' as const })),
  fc
    .oneof(
      fc.double({ min: 180.000001, max: 1e4, noNaN: true }),
      fc.double({ min: -1e4, max: -180.000001, noNaN: true }),
    )
    .map((v) => ({ path: 'location.longitude', value: v, code: 'INVALID_PAYLOAD' as const })),
];

/** A valid event of any type but PHOTO_ATTACHED, with or without a location. */
const validEvent = fc.constantFrom(...Object.keys(BREAKS)).chain((type) =>
  fc
    .record({
      payload: validPayload()[type] as fc.Arbitrary<Record<string, unknown>>,
      occurredAt: minutesAgoIso,
      location: optional(location),
    })
    .map(({ payload, occurredAt, location: place }) => ({
      event: defined({ id: randomUUID(), type, occurredAt, payload, location: place }) as Record<
        string,
        unknown
      >,
      type,
    })),
);

/** Sets `value` at a dotted path of a copy of `event` (creating the location when the path needs one). */
function withField(event: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(event);
  if (path.startsWith('location.') && !copy.location) copy.location = { latitude: 31.99, longitude: -102.07 };
  const keys = path.split('.');
  let node = copy;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[keys.at(-1) ?? ''] = value;
  return copy;
}

/** Either a valid event, or a valid event with exactly one field out of range (and which). */
const validOrBroken = fc.oneof(
  validEvent.map(({ event }) => ({ event, broken: undefined as Break | undefined })),
  validEvent.chain(({ event, type }) =>
    fc
      .oneof(...(BREAKS[type] ?? []), ...ENVELOPE_BREAKS)
      .map((broken) => ({ event: withField(event, broken.path, broken.value), broken })),
  ),
);

describe('push with hostile input', () => {
  it('never answers 5xx and writes only valid events (10,000 bodies)', async () => {
    let accepted = 0;
    let validAccepted = 0;
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const response = await push(token, b);
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(response.status, response.text.slice(0, 300)).toBeLessThan(500);
        expect([202, 400, 413]).toContain(response.status);
        if (response.status !== 202) return;
        const answer = response.body as PushAccepted;
        accepted += answer.accepted;
        // A valid event is accepted whatever its neighbours are.
        const events = (b as { events?: unknown }).events;
        const rejected = new Map(answer.rejected.map((r) => [r.index, r]));
        if (Array.isArray(events))
          events.forEach((event, i) => {
            if (typeof event === 'object' && event !== null && validEvents.has(event)) {
              expect(rejected.get(i), JSON.stringify(event)).toBeUndefined();
              validAccepted += 1;
            }
          });
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
    expect(validAccepted).toBeGreaterThan(100);
  }, 300_000);

  it('accepts every valid event as sent, and refuses each with one field out of its SPEC range, with its path', async () => {
    const accepted: { id: string; type: string; payload: unknown }[] = [];
    const brokenSeen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.array(validOrBroken, { minLength: 1, maxLength: 8 }), async (generated) => {
        // Fresh ids on every run: fast-check replays a failing case while shrinking, and a replayed id would
        // be a duplicate, not the case that failed.
        const items = generated.map((g) => ({
          ...g,
          event: { ...g.event, id: randomUUID() } as Record<string, unknown>,
        }));
        const response = await push(token, { deviceId: 'hostile-ranges', events: items.map((i) => i.event) });
        expect(response.status, response.text.slice(0, 300)).toBe(202);
        const answer = response.body as PushAccepted;
        const rejected = new Map(answer.rejected.map((r) => [r.index, r]));
        items.forEach(({ event, broken }, i) => {
          const refusal = rejected.get(i);
          if (!broken) {
            expect(refusal, `valid event refused: ${JSON.stringify(event)}`).toBeUndefined();
            accepted.push({ id: event.id as string, type: event.type as string, payload: event.payload });
            return;
          }
          brokenSeen.set(broken.path, (brokenSeen.get(broken.path) ?? 0) + 1);
          const what = `${broken.path} = ${JSON.stringify(broken.value)}`;
          expect(refusal, `accepted with ${what}`).toMatchObject({ code: broken.code, retryable: false });
          if (broken.code === 'INVALID_PAYLOAD') {
            const paths = (refusal?.errors ?? []).map((e) => e.path);
            expect(paths.length, what).toBeGreaterThan(0);
            // Only that field is named: everything else about the event is valid.
            for (const path of paths) expect(path, what).toBe(`events[${i}].${broken.path}`);
          }
        });
        expect(answer.accepted).toBe(items.filter((i) => !i.broken).length);
      }),
      { numRuns: 300 },
    );
    // Every kind of break above was tried (17 fields), and enough valid events were accepted to mean something.
    expect([...brokenSeen.keys()].sort()).toHaveLength(17);
    expect(accepted.length).toBeGreaterThan(300);

    // Stored, each exactly as sent, and still valid by the app's own payload schemas when read back.
    const { rows } = await getApp()
      .tenantPool(t.tenant)
      .query<{ id: string; type: EventType; payload: unknown }>(
        'select id::text as id, type, payload from sync_events where id = any($1::uuid[])',
        [accepted.map((a) => a.id)],
      );
    const stored = new Map(rows.map((r) => [r.id, r]));
    for (const a of accepted) {
      const row = stored.get(a.id);
      expect(row, `event ${a.id} not stored`).toBeDefined();
      expect(row?.type).toBe(a.type);
      expect(row?.payload).toEqual(JSON.parse(JSON.stringify(a.payload))); // as sent, through JSON
      expect(PAYLOAD_SCHEMAS[a.type as EventType].safeParse(row?.payload).success, a.id).toBe(true);
    }
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
    await waitFor(
      async () => {
        const { rows } = await pool.query<{ n: number }>(
          `select count(*)::int as n from sync_events where device_id = 'hostile-dates' and status = 'PENDING'`,
        );
        return rows[0]?.n === 0;
      },
      { what: 'every hostile-dates event to settle', timeoutMs: 120_000, intervalMs: 200 },
    );
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
