import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { PAYLOAD_SCHEMAS, type EventType } from '../../shared/contracts/events.js';
import type { PushAccepted } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { maintenance, mixedEvent, note, production, reading } from '../support/events.js';
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

/** An event that is valid, then broken in one random place. */
const eventish = fc
  .tuple(
    fc.nat({ max: 1000 }),
    fc.constantFrom('id', 'type', 'occurredAt', 'payload', 'location', 'none'),
    json,
    nasty,
  )
  .map(([i, where, junk, key]) => {
    const event = mixedEvent(i, t.wellId, t.equipmentId) as unknown as Record<string, unknown>;
    if (where === 'none') return event;
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
});
