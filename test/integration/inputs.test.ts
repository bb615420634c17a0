import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConflictHandler } from '../../functions/conflict-resolve.js';
import { putConflictStrategies } from '../../functions/conflict-strategies.js';
import { putEquipment } from '../../functions/equipment-put.js';
import { photoUploadUrls } from '../../functions/photo-upload-urls.js';
import { pushSyncBatch } from '../../functions/sync-push.js';
import { retrySync } from '../../functions/sync-retry.js';
import { getStats } from '../../functions/sync-stats.js';
import { putWell } from '../../functions/wells-put.js';
import { closeApp } from '../../shared/app.js';
import { MAX_JSON_DEPTH } from '../../shared/contracts/common.js';
import type { BatchOutcome, PushAccepted } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { inspection, maintenance, note, production, type RawEvent, reading } from '../support/events.js';
import { equipmentInput, wellInput } from '../support/fixtures.js';
import { call } from '../support/http.js';
import { ownSyncProcessor } from '../support/processor.js';
import { push, pushAccepted, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant, tenantRows } from '../support/tenants.js';

// Input a client can send that validation let through to PostgreSQL or mangled on the way (issue 10,
// items 1, 5, 10 and 15): dates PostgreSQL cannot store, bodies that are not UTF-8, deeply nested JSON,
// lower-case RFC 3339 date-times. Each is refused on its own with a JSON path (or a 400/415 for bodies
// that are not one of many events), and nothing beside it is affected.

// This file's own sync queue and processor: its batches settle whatever else the run is processing.
ownSyncProcessor('inputs');

let t: SeededTenant;
let admin: string;

beforeAll(async () => {
  t = await seededTenant('inputs');
  admin = await tokenFor(t.tenant.id, ['ADMIN'], 'u-inputs');
});
afterAll(() => closeApp());

const sql = async <T>(text: string, params?: unknown[]) => (await tenantRows(t.tenant, text, params)) as T[];

const withPayload = (event: RawEvent, changes: Record<string, unknown>): RawEvent => ({
  ...event,
  payload: { ...event.payload, ...changes },
});

const photo = (takenAt: string): RawEvent => ({
  id: randomUUID(),
  type: 'PHOTO_ATTACHED',
  occurredAt: new Date(Date.now() - 60_000).toISOString(),
  payload: {
    photoId: randomUUID(),
    blobName: `${t.tenant.id}/p.jpg`,
    contentType: 'image/jpeg',
    sizeBytes: 1000,
    target: { type: 'WELL', id: t.wellId },
    takenAt,
  },
});

/** A marker for `depth` levels of arrays and objects, expanded by deepJson. */
const nested = (depth: number) => `<deep:${depth}>`;

/**
 * The JSON text of a value whose nested() markers are expanded to arrays and objects alternating, that many
 * levels deep around a number. Written as text: JSON.stringify recurses, and would overflow here first.
 */
const deepJson = (value: unknown): string =>
  JSON.stringify(value).replace(/"<deep:(\d+)>"/g, (_, n: string) => {
    const depth = Number(n);
    let open = '';
    let close = '';
    for (let i = depth - 1; i >= 0; i -= 1) open += i % 2 ? '[' : '{"k":';
    for (let i = 0; i < depth; i += 1) close += i % 2 ? ']' : '}';
    return `${open}1${close}`;
  });

const pushDeep = (body: unknown, headers: Record<string, string> = {}) =>
  call(pushSyncBatch, {
    method: 'POST',
    token: admin,
    headers: { 'content-type': 'application/json', ...headers },
    body: deepJson(body),
  });

const paths = (accepted: PushAccepted) =>
  accepted.rejected.map((r) => [r.index, r.code, r.retryable, r.errors?.map((e) => e.path)]);

describe('dates PostgreSQL cannot store, and lower-case date-times', () => {
  it('rejects each event with a year-0 (or year-10000 once in UTC) date on its own, and applies the rest', async () => {
    // Prepare: every date and date-time field of every event type, beside valid events and the edges
    // that are storable (year 1 in UTC, lower-case t/z).
    const events = [
      production(t.wellId, { oilVolume: 10 }), // 0
      { ...reading(t.wellId), occurredAt: '0000-01-01T00:00:00Z' }, // 1
      production(t.wellId, { oilVolume: 1 }, { productionDate: '0000-01-01' }), // 2
      withPayload(reading(t.wellId), { recordedAt: '0001-01-01T00:30:00+01:00' }), // 3: year 0 in UTC
      withPayload(inspection(t.wellId), { inspectedAt: '0000-06-01T12:00:00z' }), // 4
      withPayload(inspection(t.wellId), { nextInspectionDate: '2023-02-29' }), // 5
      withPayload(maintenance(t.equipmentId), { performedAt: '9999-12-31T23:30:00-01:00' }), // 6: year 10000
      withPayload(maintenance(t.equipmentId), { nextMaintenanceDate: '0000-01-01' }), // 7
      photo('0000-01-01T00:00:00Z'), // 8
      { ...reading(t.wellId, 1), occurredAt: '0001-01-01T00:00:00+00:01' }, // 9: year 0 in UTC
      // Storable neighbours:
      {
        ...reading(t.wellId, 7.5, '2024-05-01t08:30:00.123456z'),
        occurredAt: new Date(Date.now() - 600_000).toISOString().replace('T', 't').replace('Z', 'z'),
      }, // 10
      production(t.wellId, { oilVolume: 2 }, { productionDate: '0001-01-01' }), // 11
      withPayload(reading(t.wellId, 3), { recordedAt: '0001-01-01T00:30:00-01:00' }), // 12: year 1 either way
      withPayload(inspection(t.wellId), { nextInspectionDate: '9999-12-31' }), // 13
      note(t.wellId, 'dates neighbour'), // 14
      withPayload(reading(t.wellId, 4), { recordedAt: '2024-05-01T08:30:00.12345678901234567890-00:00' }), // 15
    ];
    // Act
    const accepted = await pushAccepted(admin, { deviceId: 'dates-1', events });
    const outcome = await settled(admin, accepted.batchId);
    // Assess: INVALID_PAYLOAD, not retryable, with the path of the date; nothing FAILED.
    expect(paths(accepted)).toEqual([
      [1, 'INVALID_PAYLOAD', false, ['events[1].occurredAt']],
      [2, 'INVALID_PAYLOAD', false, ['events[2].payload.productionDate']],
      [3, 'INVALID_PAYLOAD', false, ['events[3].payload.recordedAt']],
      [4, 'INVALID_PAYLOAD', false, ['events[4].payload.inspectedAt']],
      [5, 'INVALID_PAYLOAD', false, ['events[5].payload.nextInspectionDate']],
      [6, 'INVALID_PAYLOAD', false, ['events[6].payload.performedAt']],
      [7, 'INVALID_PAYLOAD', false, ['events[7].payload.nextMaintenanceDate']],
      [8, 'INVALID_PAYLOAD', false, ['events[8].payload.takenAt']],
      [9, 'INVALID_PAYLOAD', false, ['events[9].occurredAt']],
    ]);
    expect(accepted.rejected[2]?.errors?.[0]?.message).toMatch(/0001–9999/);
    expect(outcome.counts, JSON.stringify(outcome.events.filter((e) => e.status === 'FAILED'))).toMatchObject(
      {
        total: 16,
        applied: 7,
        rejected: 9,
        failed: 0,
        pending: 0,
      },
    );
    const byId = new Map(outcome.events.map((e) => [e.eventId, e.status]));
    for (const i of [0, 10, 11, 12, 13, 14, 15])
      expect(byId.get(events[i]?.id ?? ''), `event ${i}`).toBe('APPLIED');

    // The storable edges are stored as meant: upper-case, the instant in UTC, year 1 as year 1.
    const [stored] = await sql<{ payload: { recordedAt: string } }>(
      `select payload from sync_events where id = $1`,
      [events[10]?.id],
    );
    expect(stored?.payload.recordedAt).toBe('2024-05-01T08:30:00.123456Z');
    const readings = await sql<{ event_id: string; at: string }>(
      `select event_id, to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at
         from well_readings where event_id = any($1::uuid[])`,
      [[events[10]?.id, events[12]?.id, events[15]?.id]],
    );
    expect(new Map(readings.map((r) => [r.event_id, r.at]))).toEqual(
      new Map([
        [events[10]?.id, '2024-05-01T08:30:00.123456'],
        [events[12]?.id, '0001-01-01T01:30:00.000000'],
        [events[15]?.id, '2024-05-01T08:30:00.123457'],
      ]),
    );
    const [record] = await sql<{ production_date: string }>(
      `select production_date from production_records where well_id = $1 and production_date = '0001-01-01'`,
      [t.wellId],
    );
    expect(record?.production_date).toBe('0001-01-01');
  });

  it('answers the push, with an Idempotency-Key, 202 and replays it (no 500, the key is not released)', async () => {
    const events = [
      note(t.wellId, 'before'),
      { ...note(t.wellId, 'year 0'), occurredAt: '0000-01-01T00:00:00Z' },
    ];
    const key = randomUUID();
    const first = await push(admin, { deviceId: 'dates-2', events }, { 'idempotency-key': key });
    expect(first.status, first.text).toBe(202);
    expect(paths(first.body as PushAccepted)).toEqual([
      [1, 'INVALID_PAYLOAD', false, ['events[1].occurredAt']],
    ]);
    const again = await push(admin, { deviceId: 'dates-2', events }, { 'idempotency-key': key });
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body).toEqual(first.body);
  });

  it('PUT /v1/equipment/{id}: 400 with path installationDate for a date PostgreSQL cannot store', async () => {
    for (const installationDate of ['0000-01-01', '2023-02-29', '10000-01-01', '2024-00-10']) {
      const response = await call(putEquipment, {
        method: 'PUT',
        params: { id: 'eq-dates' },
        token: admin,
        json: equipmentInput(t.wellId, { installationDate }),
      });
      expect(response.status, installationDate).toBe(400);
      expect(response.body).toMatchObject({ errors: [{ path: 'installationDate' }] });
    }
    for (const [installationDate, status] of [
      ['0001-01-01', 201],
      ['9999-12-31', 200],
      ['2024-02-29', 200],
    ] as const) {
      const response = await call(putEquipment, {
        method: 'PUT',
        params: { id: 'eq-dates' },
        token: admin,
        json: equipmentInput(t.wellId, { installationDate }),
      });
      expect(response.status, response.text).toBe(status);
      expect(response.body).toMatchObject({ installationDate });
    }
  });

  it('GET /v1/sync/stats: 400 for from/to outside years 1..9999 in UTC; lower-case accepted', async () => {
    const stats = (query: string) =>
      call(getStats, { url: `http://localhost/api/v1/sync/stats?${query}`, token: admin });
    for (const [query, path] of [
      ['from=0000-01-01T00:00:00Z', 'from'],
      ['to=0001-01-01T00:30:00%2B01:00', 'to'],
      ['from=2024-02-30T00:00:00Z', 'from'],
      ['to=9999-12-31T23:30:00-01:00', 'to'],
    ] as const) {
      const response = await stats(query);
      expect(response.status, query).toBe(400);
      expect(response.body).toMatchObject({ errors: [{ path }] });
    }
    const to = new Date(Date.now() - 60_000).toISOString();
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const lower = await stats(`from=${from.replace('T', 't').replace('Z', 'z')}&to=${to.toLowerCase()}`);
    expect(lower.status, lower.text).toBe(200);
    expect(lower.body).toMatchObject({ from, to });
  });
});

describe('bodies that are not UTF-8 (RFC 8259 §8.1), on every JSON route', () => {
  const routes: { name: string; handler: typeof putWell; params: Record<string, string>; json: unknown }[] = [
    {
      name: 'push',
      handler: pushSyncBatch,
      params: {},
      json: { deviceId: 'enc-1', events: [note('well-1')] },
    },
    { name: 'putWell', handler: putWell, params: { id: 'well-enc' }, json: wellInput() },
    { name: 'putEquipment', handler: putEquipment, params: { id: 'eq-enc' }, json: equipmentInput('well-1') },
    {
      name: 'resolveConflict',
      handler: resolveConflictHandler,
      params: { id: randomUUID() },
      json: { resolution: 'SERVER_WINS' },
    },
    {
      name: 'putConflictStrategies',
      handler: putConflictStrategies,
      params: {},
      json: { strategies: { NOTES_ADDED: 'LWW' } },
    },
    {
      name: 'uploadUrls',
      handler: photoUploadUrls,
      params: {},
      json: { photos: [{ photoId: randomUUID(), contentType: 'image/jpeg', sizeBytes: 10 }] },
    },
    { name: 'retry', handler: retrySync, params: {}, json: { deviceId: 'enc-1' } },
  ];

  /** The route's valid body with a Latin-1 text where the JSON allows a string, as the bytes were sent. */
  const send = (route: (typeof routes)[number], body: Buffer, contentType: string) =>
    call(route.handler, {
      method: 'POST',
      params: route.params,
      token: admin,
      headers: { 'content-type': contentType },
      body,
    });

  it('answers 415 problem+json for a charset other than UTF-8, whatever the bytes', async () => {
    for (const route of routes) {
      const utf8 = Buffer.from(JSON.stringify(route.json), 'utf8');
      for (const charset of ['iso-8859-1', 'windows-1252', 'utf-16', '"UTF-16LE"', 'us-ascii']) {
        const response = await send(route, utf8, `application/json; charset=${charset}`);
        expect(response.status, `${route.name} ${charset}`).toBe(415);
        expect(response.headers['content-type']).toBe('application/problem+json');
        expect(response.body).toMatchObject({ status: 415, detail: expect.stringMatching(/UTF-8/) });
      }
    }
  });

  it('answers 400 for bytes that are not UTF-8 (Latin-1, broken sequences), never storing U+FFFD', async () => {
    for (const route of routes) {
      const text = JSON.stringify(route.json);
      // A Latin-1 "é" (0xE9) inside the first string value of an otherwise valid body.
      const at = text.indexOf('"', text.indexOf(':')) + 1;
      for (const bad of [Buffer.from([0xe9]), Buffer.from([0xc3]), Buffer.from([0xed, 0xa0, 0x80])]) {
        const bytes = Buffer.concat([Buffer.from(text.slice(0, at)), bad, Buffer.from(text.slice(at))]);
        for (const contentType of ['application/json', 'application/json; charset=utf-8']) {
          const response = await send(route, bytes, contentType);
          expect(response.status, `${route.name} ${bad.toString('hex')}`).toBe(400);
          expect((response.body as { detail: string }).detail).toMatch(/not valid UTF-8/);
        }
      }
    }
    expect(await sql(`select event_id from notes where text like '%' || chr(65533) || '%'`)).toEqual([]);
  });

  it('stores UTF-8 text intact, with or without a charset or a leading byte order mark', async () => {
    const events = [note(t.wellId, 'Café Señor'), note(t.wellId, 'Ölpumpe 𝔣 ✓')];
    const body = Buffer.from(JSON.stringify({ deviceId: 'enc-2', events }), 'utf8');
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]);
    const first = await call(pushSyncBatch, {
      method: 'POST',
      token: admin,
      headers: { 'content-type': 'application/json; charset="UTF-8"' },
      body,
    });
    expect(first.status, first.text).toBe(202);
    await settled(admin, (first.body as PushAccepted).batchId);
    const again = await call(pushSyncBatch, {
      method: 'POST',
      token: admin,
      headers: { 'content-type': 'application/json' },
      body: bom,
    });
    expect(again.status, again.text).toBe(202);
    expect((again.body as PushAccepted).duplicates.sort()).toEqual(events.map((e) => e.id).sort());
    const rows = await sql<{ text: string }>(`select text from notes where event_id = any($1::uuid[])`, [
      events.map((e) => e.id),
    ]);
    expect(rows.map((r) => r.text).sort()).toEqual(['Café Señor', 'Ölpumpe 𝔣 ✓'].sort());
  });
});

describe('deeply nested JSON', () => {
  it('rejects the one too-deep event with a path, applies its neighbours (with and without an Idempotency-Key)', async () => {
    for (const [round, key] of [undefined, randomUUID()].entries()) {
      // Prepare: 7,000 levels in an extra payload field and in location, beside valid events, and an event
      // at exactly the limit (the event is level 1; zod drops the unknown field, so it is applied).
      const events = [
        note(t.wellId, `deep neighbour ${round}`),
        withPayload(note(t.wellId, `deep payload ${round}`), { extra: nested(7000) }),
        reading(t.wellId, 42 + round),
        { ...reading(t.wellId, 43 + round), location: nested(7000) },
        withPayload(note(t.wellId, `at the limit ${round}`), { extra: nested(MAX_JSON_DEPTH - 2) }),
        withPayload(note(t.wellId, `one past ${round}`), { extra: nested(MAX_JSON_DEPTH - 1) }),
      ];
      // Act
      const response = await pushDeep(
        { deviceId: `deep-${round}`, events },
        key ? { 'idempotency-key': key } : {},
      );
      // Assess
      expect(response.status, response.text.slice(0, 300)).toBe(202);
      const accepted = response.body as PushAccepted;
      expect(paths(accepted)).toEqual([
        [1, 'INVALID_PAYLOAD', false, ['events[1].payload.extra']],
        [3, 'INVALID_PAYLOAD', false, ['events[3].location[0]']],
        [5, 'INVALID_PAYLOAD', false, ['events[5].payload.extra']],
      ]);
      const outcome: BatchOutcome = await settled(admin, accepted.batchId);
      expect(outcome.counts).toMatchObject({ total: 6, applied: 3, rejected: 3, failed: 0 });
      if (key) {
        const replay = await pushDeep({ deviceId: `deep-${round}`, events }, { 'idempotency-key': key });
        expect(replay.status).toBe(202);
        expect(replay.body).toEqual(accepted);
      }
    }
  });

  it('answers 400 with a path when the push envelope itself is too deep', async () => {
    const response = await pushDeep({
      deviceId: 'deep-2',
      deviceInfo: { platform: nested(7000) },
      events: [note(t.wellId)],
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ errors: [{ path: 'deviceInfo.platform' }] });
  });

  it('answers 400 (not 500) on every other JSON route', async () => {
    const cases: { handler: typeof putWell; params: Record<string, string>; json: object; path: string }[] = [
      {
        handler: putWell,
        params: { id: 'well-deep' },
        json: { ...wellInput(), lease: nested(7000) },
        path: 'lease[0]',
      },
      {
        handler: putEquipment,
        params: { id: 'eq-deep' },
        json: { ...equipmentInput(t.wellId), notes: nested(MAX_JSON_DEPTH) },
        path: 'notes[0]',
      },
      {
        handler: resolveConflictHandler,
        params: { id: randomUUID() },
        json: { resolution: 'MERGED', merged: { oilVolume: nested(7000) } },
        path: 'merged.oilVolume',
      },
      {
        handler: putConflictStrategies,
        params: {},
        json: { strategies: nested(7000) },
        path: 'strategies[0]',
      },
      { handler: photoUploadUrls, params: {}, json: { photos: [nested(7000)] }, path: 'photos[0]' },
      { handler: retrySync, params: {}, json: { eventIds: nested(7000) }, path: 'eventIds[0]' },
    ];
    for (const { handler, params, json, path } of cases) {
      const response = await call(handler, {
        method: 'POST',
        params,
        token: admin,
        headers: { 'content-type': 'application/json' },
        body: deepJson(json),
      });
      expect(response.status, response.text.slice(0, 200)).toBe(400);
      expect(response.body).toMatchObject({ errors: [{ path }] });
    }
  });
});
