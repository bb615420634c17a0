import { randomBytes, randomUUID } from 'node:crypto';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { BatchOutcome, PushAccepted } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { daysAgo, note, production, reading } from '../support/events.js';
import { type SeededTenant, freshTenant, seededTenant } from '../support/tenants.js';
import { waitFor } from '../support/wait.js';
import { holdProcessing } from '../support/hold.js';

/**
 * The OpenAPI document against the served API: real requests to every operation of the document (good and
 * bad ones) at the local Functions host, each answer checked against the document with a JSON Schema
 * validator (Ajv, draft 2020-12 as OpenAPI 3.1 uses): its status must be documented for the operation, its
 * content type and body must match, its documented headers must be there and valid. GET operations are
 * also asked with HEAD (same status and headers, no body). The last test fails when an operation, or a
 * documented status that can be provoked here, was never seen.
 */

const hostUrl = inject('hostUrl'); // http://127.0.0.1:<port>/api
const origin = new URL(hostUrl).origin;

interface HeaderDoc {
  required?: boolean;
  schema: object;
}
interface MediaDoc {
  schema?: object;
}
interface ResponseDoc {
  description: string;
  headers?: Record<string, HeaderDoc>;
  content?: Record<string, MediaDoc>;
}
interface OperationDoc {
  operationId: string;
  responses: Record<string, ResponseDoc>;
}
interface OpenApiDoc {
  openapi: string;
  servers: { url: string }[];
  paths: Record<string, Record<string, OperationDoc>>;
  components: { responses: Record<string, ResponseDoc> };
}

interface Operation {
  id: string;
  method: string;
  path: string;
  doc: OperationDoc;
}

/**
 * Documented answers that cannot be provoked against the shared local host, each with the reason (and where
 * it is covered instead). Everything else the document lists must be seen here.
 */
const NOT_PROVOKED: Record<string, string> = {
  '*:500': 'an unexpected error: none is known (host-http.test.ts checks the host turns a throw into 500)',
  '*:503': 'a dependency down: push-dependency-down / tenant-database-down / health tests stop one',
  '*:429': 'the run sets rate limits far above any test (rate-limit.test.ts sets low ones)',
  'arxosDeleteEquipment:409':
    'a delete is based on the current version: only a write landing between its read and its processing conflicts',
};

let doc: OpenApiDoc;
let base: string;
const operations = new Map<string, Operation>();
const seen = new Set<string>();
const ajv = new Ajv2020({ strict: false, allErrors: true });
// ajv-formats is CommonJS; its plugin is also its own `.default`, which types and runtime agree on.
formats.default(ajv);
const validators = new WeakMap<object, ValidateFunction>();
const validatorOf = (schema: object): ValidateFunction => {
  const known = validators.get(schema);
  if (known) return known;
  const validate = ajv.compile(schema);
  validators.set(schema, validate);
  return validate;
};

interface Exchange {
  status: number;
  headers: Headers;
  text: string;
  body: unknown;
}

const mediaType = (value: string | null) => (value ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

/** Checks one answer against a documented response: content type, body, headers. */
function checkAgainst(where: string, response: ResponseDoc, exchange: Exchange, head = false): void {
  const documented = Object.keys(response.content ?? {});
  if (documented.length === 0 || head) {
    expect(exchange.text, `${where}: no body documented`).toBe('');
  }
  if (documented.length > 0) {
    const type = mediaType(exchange.headers.get('content-type'));
    expect(documented, `${where}: content type ${type} is documented`).toContain(type);
    const schema = response.content?.[type]?.schema;
    if (schema && !head) {
      const validate = validatorOf(schema);
      const ok = validate(exchange.body);
      expect(
        ok,
        `${where}: body matches the document: ${ajv.errorsText(validate.errors)}\n${exchange.text.slice(0, 800)}`,
      ).toBe(true);
    }
  }
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const value = exchange.headers.get(name);
    if (value === null) {
      expect(header.required ?? false, `${where}: required header ${name} is missing`).toBe(false);
      continue;
    }
    const validate = validatorOf(header.schema);
    expect(validate(value), `${where}: header ${name}: ${value}: ${ajv.errorsText(validate.errors)}`).toBe(
      true,
    );
  }
}

interface Send {
  params?: Record<string, string>;
  query?: Record<string, string>;
  token?: string;
  headers?: Record<string, string>;
  json?: unknown;
  body?: string | Buffer;
}

/**
 * Calls an operation of the document at the host and checks the answer; a GET is asked again with HEAD.
 * Returns the (GET) answer.
 */
async function send(operationId: string, options: Send = {}): Promise<Exchange> {
  const op = operations.get(operationId);
  if (!op) throw new Error(`no operation ${operationId} in the document`);
  const path = op.path.replace(/\{(\w+)\}/g, (_m, name: string) => {
    const value = options.params?.[name];
    if (value === undefined) throw new Error(`${operationId}: no value for {${name}}`);
    return encodeURIComponent(value);
  });
  const url = new URL(`${base}${path}`);
  for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | Buffer | undefined = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    headers['content-type'] ??= 'application/json';
  }
  const ask = async (method: string): Promise<Exchange> => {
    const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  };
  const exchange = await ask(op.method.toUpperCase());
  const where = `${op.method.toUpperCase()} ${op.path} (${operationId}) → ${exchange.status}`;
  const response = op.doc.responses[String(exchange.status)];
  expect(response, `${where}: status not documented; body: ${exchange.text.slice(0, 500)}`).toBeDefined();
  if (!response) return exchange;
  checkAgainst(where, response, exchange);
  seen.add(`${operationId}:${exchange.status}`);
  if (op.method === 'get') {
    const head = await ask('HEAD');
    expect(head.status, `HEAD ${op.path}: same status as GET`).toBe(exchange.status);
    checkAgainst(`HEAD ${op.path} → ${head.status}`, response, head, true);
    expect(head.headers.get('content-type')).toBe(exchange.headers.get('content-type'));
  }
  return exchange;
}

let t: SeededTenant;
let operator: string;
let operator2: string;
let manager: string;
let strangerTenant: string;
const bigBody = `{"pad":"${'x'.repeat(4 * 1024 * 1024)}"}`;

beforeAll(async () => {
  const response = await fetch(`${hostUrl}/openapi.json`);
  expect(response.status).toBe(200);
  doc = (await response.json()) as OpenApiDoc;
  expect(doc.openapi).toMatch(/^3\.1\./);
  expect(doc.servers[0]?.url).toBe('/api');
  base = `${origin}${doc.servers[0]?.url ?? ''}`;
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      operations.set(operation.operationId, { id: operation.operationId, method, path, doc: operation });
    }
  }
  t = await seededTenant('oas');
  operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-oas-op');
  operator2 = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-oas-op2');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-oas-mgr');
  strangerTenant = 'not-this-tenant';
});
afterAll(() => closeApp());

/** 401 (no token, and a bad one), 403 (X-Tenant-Id of another tenant; the role when given), of any route. */
async function authFailures(operationId: string, options: Send, wrongRole?: string): Promise<void> {
  const { token: _token, ...rest } = options;
  expect((await send(operationId, rest)).status).toBe(401);
  expect((await send(operationId, { ...rest, token: 'not.a.token' })).status).toBe(401);
  expect(
    (await send(operationId, { ...options, headers: { ...options.headers, 'x-tenant-id': strangerTenant } }))
      .status,
  ).toBe(403);
  if (wrongRole) expect((await send(operationId, { ...options, token: wrongRole })).status).toBe(403);
}

/** 413 (over 4 MiB) and 415 (not JSON) of a route that takes a body. */
async function bodyFailures(operationId: string, options: Send): Promise<void> {
  const { json: _json, ...rest } = options;
  expect(
    (await send(operationId, { ...rest, body: bigBody, headers: { 'content-type': 'application/json' } }))
      .status,
  ).toBe(413);
  expect(
    (await send(operationId, { ...rest, body: 'a=1', headers: { 'content-type': 'text/plain' } })).status,
  ).toBe(415);
  expect(
    (
      await send(operationId, {
        ...rest,
        body: '{}',
        headers: { 'content-type': 'application/json', 'content-encoding': 'br' },
      })
    ).status,
  ).toBe(415);
}

/**
 * Pushes with `Prefer: wait=30` and returns the batch outcome. The host's processor is shared by every e2e
 * file running at the same time (50 devices × 1000 events among them), so processing may outlast the wait:
 * the answer is then the documented fallback, 202 (checked against the document like every answer), and
 * the outcome is read from GET /v1/sync/batches/{batchId} once COMPLETED — waiting on that, not on time.
 * (200 with `Prefer: wait` is provoked deterministically below: a batch with nothing to process.)
 */
async function pushWaiting(options: Send): Promise<BatchOutcome> {
  const answer = await send('pushBatch', { ...options, headers: { ...options.headers, prefer: 'wait=30' } });
  if (answer.status === 200) {
    expect(answer.headers.get('preference-applied')).toBe('wait=30');
    return answer.body as BatchOutcome;
  }
  expect(answer.status, answer.text).toBe(202);
  const { batchId } = answer.body as PushAccepted;
  return waitFor(
    async () => {
      const batch = await send('getBatch', { params: { batchId }, token: options.token });
      const outcome = batch.body as BatchOutcome;
      return outcome.status === 'COMPLETED' ? outcome : undefined;
    },
    { what: `batch ${batchId} to settle`, timeoutMs: 120_000, intervalMs: 250 },
  );
}

describe('every operation of the OpenAPI document, served as documented', () => {
  it('ops: health and the document itself', async () => {
    expect((await send('health')).status).toBe(200);
    expect((await send('openapi')).status).toBe(200);
  });

  it('reference data: putWell, putEquipment, deleteEquipment', async () => {
    const well = {
      name: 'OAS 1',
      apiNumber: `42-${randomBytes(4).toString('hex')}`,
      latitude: 31,
      longitude: -102,
      status: 'ACTIVE',
    };
    const id = `oas-well-${randomBytes(3).toString('hex')}`;
    const put = (json: unknown, wellId = id) => ({ params: { id: wellId }, token: manager, json });
    expect((await send('putWell', put(well))).status).toBe(201);
    expect((await send('putWell', put({ ...well, name: 'OAS 1 renamed' }))).status).toBe(200);
    expect((await send('putWell', put(well, `${id}-twin`))).status).toBe(409);
    expect((await send('putWell', put({ ...well, latitude: 91 }))).status).toBe(400);
    expect((await send('putWell', put(well, 'bad id!'))).status).toBe(400);
    await authFailures('putWell', put(well), operator);
    await bodyFailures('putWell', put(well));

    const equipment = {
      wellId: id,
      equipmentType: 'PUMP_JACK',
      serialNumber: 'SN-OAS',
      status: 'OPERATIONAL',
    };
    const eqId = `oas-eq-${randomBytes(3).toString('hex')}`;
    const putEq = (json: unknown, equipmentId = eqId) => ({
      params: { id: equipmentId },
      token: manager,
      json,
    });
    expect((await send('putEquipment', putEq(equipment))).status).toBe(201);
    expect((await send('putEquipment', putEq({ ...equipment, serialNumber: 'SN-OAS-2' }))).status).toBe(200);
    expect((await send('putEquipment', putEq({ ...equipment, wellId: 'no-such-well' }))).status).toBe(400);
    await authFailures('putEquipment', putEq(equipment), operator);
    await bodyFailures('putEquipment', putEq(equipment));

    const del = (equipmentId: string) => ({ params: { id: equipmentId }, token: manager });
    expect((await send('deleteEquipment', del(eqId))).status).toBe(204);
    expect((await send('deleteEquipment', del('no-such-equipment'))).status).toBe(404);
    expect((await send('deleteEquipment', del('bad id!'))).status).toBe(400);
    await authFailures('deleteEquipment', del(eqId), operator);
  });

  it('scopes: putScopeMember (201, 200), listScopeGrants, deleteScopeMember (204, 404)', async () => {
    const member = (scope: string, userId = 'u-oas-op') => ({ params: { scope, userId }, token: manager });
    expect((await send('putScopeMember', member('oas-site'))).status).toBe(201);
    expect((await send('putScopeMember', member('oas-site'))).status).toBe(200);
    expect((await send('putScopeMember', member('a,b'))).status).toBe(400);
    await authFailures('putScopeMember', member('oas-site'), operator);
    const list = (query: Record<string, string> = {}) => ({ query, token: manager });
    expect((await send('listScopeGrants', list({ userId: 'u-oas-op' }))).status).toBe(200);
    expect((await send('listScopeGrants', list({ userId: '' }))).status).toBe(400);
    await authFailures('listScopeGrants', list(), operator);
    expect((await send('deleteScopeMember', member('oas-site'))).status).toBe(204);
    expect((await send('deleteScopeMember', member('oas-site'))).status).toBe(404);
    expect((await send('deleteScopeMember', member('a,b'))).status).toBe(400);
    await authFailures('deleteScopeMember', member('oas-site'), operator);
  });

  it('sync: pushBatch (202, replay, 200 with Prefer: wait, all rejected or duplicates, 409, 422), getBatch, syncStatus, retry', async () => {
    const pushOf = (json: unknown, headers: Record<string, string> = {}, token = operator) => ({
      token,
      json,
      headers,
    });
    const body = { deviceId: 'oas-dev-1', events: [reading(t.wellId), note(t.wellId)] };
    const accepted = await send('pushBatch', pushOf(body));
    expect(accepted.status).toBe(202);
    const batchId = (accepted.body as { batchId: string }).batchId;

    const key = randomUUID();
    const keyed = { deviceId: 'oas-dev-1', events: [reading(t.wellId, 901)] };
    expect((await send('pushBatch', pushOf(keyed, { 'idempotency-key': key }))).status).toBe(202);
    const replay = await send('pushBatch', pushOf(keyed, { 'idempotency-key': key }));
    expect(replay.status).toBe(202);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    const other = { deviceId: 'oas-dev-1', events: [reading(t.wellId, 902)] };
    expect((await send('pushBatch', pushOf(other, { 'idempotency-key': key }))).status).toBe(422);
    // Two requests with one new key at once: one is in flight when the other arrives.
    const raceKey = randomUUID();
    const race = { deviceId: 'oas-dev-1', events: Array.from({ length: 200 }, () => note(t.wellId)) };
    const racing = await Promise.all([
      send('pushBatch', pushOf(race, { 'idempotency-key': raceKey })),
      send('pushBatch', pushOf(race, { 'idempotency-key': raceKey })),
    ]);
    expect(racing.map((r) => r.status).sort()).toEqual([202, 409]);

    const waited = await pushWaiting(pushOf({ deviceId: 'oas-dev-1', events: [reading(t.wellId, 903)] }));
    expect(waited).toMatchObject({ status: 'COMPLETED', counts: { applied: 1 } });
    // Nothing to process: every event rejected, or every event a duplicate — COMPLETED at once, so 200.
    const rejectedOnly = await send(
      'pushBatch',
      pushOf(
        { deviceId: 'oas-dev-1', events: [{ ...reading(t.wellId), payload: {} }] },
        { prefer: 'wait=20' },
      ),
    );
    expect(rejectedOnly.status).toBe(200);
    expect(rejectedOnly.headers.get('preference-applied')).toBe('wait=20');
    expect(rejectedOnly.body).toMatchObject({ status: 'COMPLETED', counts: { rejected: 1, total: 1 } });
    const duplicatesOnly = await send('pushBatch', pushOf(body, { prefer: 'wait=20' }));
    expect(duplicatesOnly.status).toBe(200);
    expect(duplicatesOnly.body).toMatchObject({ status: 'COMPLETED', counts: { duplicate: 2, total: 2 } });

    expect((await send('pushBatch', pushOf({ events: [] }))).status).toBe(400);
    expect(
      (
        await send(
          'pushBatch',
          pushOf({ deviceId: 'oas-dev-1', events: Array.from({ length: 1001 }, () => note(t.wellId)) }),
        )
      ).status,
    ).toBe(413);
    await authFailures('pushBatch', pushOf(body));
    await bodyFailures('pushBatch', pushOf(body));

    const batch = (id: string, token = operator) => ({ params: { batchId: id }, token });
    expect((await send('getBatch', batch(batchId))).status).toBe(200);
    expect((await send('getBatch', batch(randomUUID()))).status).toBe(404);
    expect((await send('getBatch', batch('not-a-uuid'))).status).toBe(400);
    await authFailures('getBatch', batch(batchId));

    const status = (deviceId: string | undefined, token = operator): Send => ({
      token,
      query: deviceId === undefined ? {} : { deviceId },
    });
    expect((await send('syncStatus', status('oas-dev-1'))).status).toBe(200);
    expect((await send('syncStatus', status('never-seen'))).status).toBe(404);
    expect((await send('syncStatus', status(undefined))).status).toBe(400);
    await authFailures('syncStatus', status('oas-dev-1'));

    const retry = (json: unknown) => ({ token: operator, json });
    expect((await send('retryFailed', retry({ deviceId: 'oas-dev-1' }))).status).toBe(202);
    expect((await send('retryFailed', retry({ eventIds: ['nope'] }))).status).toBe(400);
    await authFailures('retryFailed', retry({}));
    await bodyFailures('retryFailed', retry({}));
  });

  it('sync: pull (200, 400, 410)', async () => {
    const pull = (query: Record<string, string>, token = operator) => ({
      token,
      query: { deviceId: 'oas-dev-1', ...query },
    });
    let cursor: string | undefined;
    for (let page = 0; page < 100; page += 1) {
      const response = await send('pull', pull(cursor ? { cursor } : {}));
      expect(response.status).toBe(200);
      const body = response.body as { nextCursor: string; hasMore: boolean };
      cursor = body.nextCursor;
      if (!body.hasMore) break;
    }
    expect((await send('pull', pull({ cursor: 'garbage' }))).status).toBe(400);
    await authFailures('pull', pull({}));
    // A cursor older than the change history kept: a change, then a prune with 0 days of retention.
    await getApp().referenceData.upsertWell(t.tenant, 'oas-pruned', {
      name: 'P',
      apiNumber: `42-${randomBytes(4).toString('hex')}`,
      latitude: 1,
      longitude: 1,
      status: 'ACTIVE',
    });
    expect(await getApp().pull.prune(t.tenant, 0)).toBeGreaterThan(0);
    expect((await send('pull', pull({ cursor: cursor ?? '' }))).status).toBe(410);
  });

  it('photos: photoUploadUrls, then an upload, PHOTO_ATTACHED and getPhoto', async () => {
    const photoId = randomUUID();
    const bytes = randomBytes(256);
    Buffer.from([0xff, 0xd8, 0xff, 0xe0]).copy(bytes);
    const ask = (json: unknown, token = operator) => ({ token, json });
    const urls = await send(
      'photoUploadUrls',
      ask({
        deviceId: 'oas-dev-1',
        photos: [{ photoId, contentType: 'image/jpeg', sizeBytes: bytes.length }],
      }),
    );
    expect(urls.status).toBe(200);
    const upload = (urls.body as { uploads: { uploadUrl: string; blobName: string }[] }).uploads[0];
    if (!upload) throw new Error('no upload URL');
    const put = await fetch(upload.uploadUrl, {
      method: 'PUT',
      headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'image/jpeg' },
      body: bytes,
    });
    expect(put.status).toBe(201);
    const attach = {
      id: randomUUID(),
      type: 'PHOTO_ATTACHED',
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      payload: {
        photoId,
        blobName: upload.blobName,
        contentType: 'image/jpeg',
        sizeBytes: bytes.length,
        target: { type: 'WELL', id: t.wellId },
        takenAt: new Date(Date.now() - 120_000).toISOString(),
      },
    };
    const pushed = await pushWaiting({ token: operator, json: { deviceId: 'oas-dev-1', events: [attach] } });
    expect(pushed).toMatchObject({ events: [{ status: 'APPLIED' }] });
    expect((await send('photoUploadUrls', ask({ photos: [] }))).status).toBe(400);
    await authFailures(
      'photoUploadUrls',
      ask({ photos: [{ photoId: randomUUID(), contentType: 'image/jpeg', sizeBytes: 1 }] }),
    );
    await bodyFailures('photoUploadUrls', ask({}));

    const get = (id: string, token = manager) => ({ params: { photoId: id }, token });
    expect((await send('getPhoto', get(photoId))).status).toBe(200);
    expect((await send('getPhoto', get(randomUUID()))).status).toBe(404);
    expect((await send('getPhoto', get('not-a-uuid'))).status).toBe(400);
    await authFailures('getPhoto', get(photoId), operator);
  });

  it('conflicts: strategies, a MANUAL conflict listed and resolved (200, 404, 409), devices and stats', async () => {
    const strategies = (json: unknown, token = manager) => ({ token, json });
    expect(
      (await send('putConflictStrategies', strategies({ strategies: { PRODUCTION_LOGGED: 'MANUAL' } })))
        .status,
    ).toBe(200);
    expect(
      (await send('putConflictStrategies', strategies({ strategies: { PRODUCTION_LOGGED: 'MAYBE' } })))
        .status,
    ).toBe(400);
    await authFailures('putConflictStrategies', strategies({ strategies: {} }), operator);
    await bodyFailures('putConflictStrategies', strategies({ strategies: {} }));
    expect((await send('getConflictStrategies', { token: manager })).status).toBe(200);
    await authFailures('getConflictStrategies', { token: manager }, operator);

    const date = daysAgo(3);
    const first = production(
      t.wellId,
      { oilVolume: 10 },
      { productionDate: date, occurredAt: new Date(Date.now() - 120_000).toISOString() },
    );
    const second = production(
      t.wellId,
      { oilVolume: 20 },
      { productionDate: date, occurredAt: new Date(Date.now() - 60_000).toISOString() },
    );
    expect(
      await pushWaiting({ token: operator, json: { deviceId: 'oas-dev-1', events: [first] } }),
    ).toMatchObject({ events: [{ status: 'APPLIED' }] });
    const held = await pushWaiting({ token: operator2, json: { deviceId: 'oas-dev-2', events: [second] } });
    expect(held).toMatchObject({ events: [{ status: 'CONFLICT' }] });

    const list = await send('listConflicts', { token: manager, query: { status: 'OPEN' } });
    expect(list.status).toBe(200);
    const conflict = (list.body as { conflicts: { id: string; eventId: string }[] }).conflicts.find(
      (c) => c.eventId === second.id,
    );
    if (!conflict) throw new Error('the conflict is not listed');
    expect((await send('listConflicts', { token: manager, query: { limit: '0' } })).status).toBe(400);
    await authFailures('listConflicts', { token: manager }, operator);

    const resolve = (id: string, json: unknown, token = manager) => ({ params: { id }, token, json });
    expect((await send('resolveConflict', resolve(conflict.id, { resolution: 'SERVER_WINS' }))).status).toBe(
      200,
    );
    expect((await send('resolveConflict', resolve(conflict.id, { resolution: 'SERVER_WINS' }))).status).toBe(
      409,
    );
    expect((await send('resolveConflict', resolve(randomUUID(), { resolution: 'SERVER_WINS' }))).status).toBe(
      404,
    );
    expect((await send('resolveConflict', resolve(conflict.id, { resolution: 'MERGED' }))).status).toBe(400);
    await authFailures('resolveConflict', resolve(conflict.id, { resolution: 'SERVER_WINS' }), operator);
    await bodyFailures('resolveConflict', resolve(conflict.id, {}));
    // Review states (issue 16): a strategy-settled conflict (LWW) in the inbox, ACKNOWLEDGED (200), then 409;
    // each list status answers as documented.
    expect(
      (await send('putConflictStrategies', strategies({ strategies: { PRODUCTION_LOGGED: 'LWW' } }))).status,
    ).toBe(200);
    const reviewDate = daysAgo(4);
    const later = production(
      t.wellId,
      { oilVolume: 30 },
      { productionDate: reviewDate, occurredAt: new Date(Date.now() - 60_000).toISOString() },
    );
    const earlier = production(
      t.wellId,
      { oilVolume: 25 },
      { productionDate: reviewDate, occurredAt: new Date(Date.now() - 120_000).toISOString() },
    );
    await pushWaiting({ token: operator, json: { deviceId: 'oas-dev-1', events: [later] } });
    await pushWaiting({ token: operator2, json: { deviceId: 'oas-dev-2', events: [earlier] } });
    const inbox = await send('listConflicts', { token: manager, query: { status: 'OPEN', limit: '200' } });
    const settled = (inbox.body as { conflicts: { id: string; eventId: string }[] }).conflicts.find(
      (c) => c.eventId === earlier.id,
    );
    if (!settled) throw new Error('the strategy-settled conflict is not in the inbox');
    expect((await send('resolveConflict', resolve(settled.id, { resolution: 'ACKNOWLEDGED' }))).status).toBe(
      200,
    );
    expect((await send('resolveConflict', resolve(settled.id, { resolution: 'CLIENT_WINS' }))).status).toBe(
      409,
    );
    for (const status of ['RESOLVED', 'ACKNOWLEDGED']) {
      expect((await send('listConflicts', { token: manager, query: { status } })).status).toBe(200);
    }
    expect((await send('listConflicts', { token: manager, query: { status: 'DONE' } })).status).toBe(400);

    expect((await send('listDevices', { token: manager })).status).toBe(200);
    expect((await send('listDevices', { token: manager, query: { staleAfterHours: '-1' } })).status).toBe(
      400,
    );
    await authFailures('listDevices', { token: manager }, operator);
    expect((await send('syncStats', { token: manager })).status).toBe(200);
    expect((await send('syncStats', { token: manager, query: { from: 'yesterday' } })).status).toBe(400);
    // The bucketed form (issue 16) and its filters; the bucket cap and bad filters are 400.
    for (const query of [
      { bucket: 'hour' } as Record<string, string>,
      { bucket: 'day', eventType: 'PRODUCTION_LOGGED' },
      { bucket: 'hour', collection: 'production', deviceId: 'oas-dev-1', userId: 'u-oas-op' },
    ]) {
      const bucketed = await send('syncStats', { token: manager, query });
      expect(bucketed.status, bucketed.text).toBe(200);
      expect((bucketed.body as { series: unknown[] }).series.length).toBeGreaterThan(0);
    }
    const badStats: Record<string, string>[] = [
      { bucket: 'week' },
      { eventType: 'NOPE' },
      { collection: 'Bad-Name' },
    ];
    for (const query of badStats) {
      expect((await send('syncStats', { token: manager, query })).status).toBe(400);
    }
    await authFailures('syncStats', { token: manager }, operator);

    // The managers' console's reads (shared/contracts/activity.ts): a conflict with its events, a device's activity.
    const detail = await send('getConflict', { token: manager, params: { id: conflict.id } });
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      conflict: { id: conflict.id },
      events: expect.arrayContaining([
        expect.objectContaining({ eventId: second.id, side: 'CLIENT', deviceId: 'oas-dev-2' }),
        expect.objectContaining({ eventId: first.id, side: 'SERVER', deviceId: 'oas-dev-1' }),
      ]),
    });
    expect((await send('getConflict', { token: manager, params: { id: randomUUID() } })).status).toBe(404);
    expect((await send('getConflict', { token: manager, params: { id: 'not-a-uuid' } })).status).toBe(400);
    await authFailures('getConflict', { token: manager, params: { id: conflict.id } }, operator);
    const activity = await send('deviceActivity', { token: manager, params: { deviceId: 'oas-dev-1' } });
    expect(activity.status).toBe(200);
    // The device pushed in this file's earlier tests too: its batches, newest first.
    const batches = (activity.body as { deviceId: string; batches: { receivedAt: string }[] }).batches;
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.map((b) => b.receivedAt)).toEqual(
      batches
        .map((b) => b.receivedAt)
        .sort()
        .reverse(),
    );
    expect(
      (
        await send('deviceActivity', {
          token: manager,
          params: { deviceId: 'oas-dev-1' },
          query: { limit: '0' },
        })
      ).status,
    ).toBe(400);
    await authFailures('deviceActivity', { token: manager, params: { deviceId: 'oas-dev-1' } }, operator);
  });

  it('schema: getSchema, putCollection (201, 200, 400, 409 with reasons)', async () => {
    const admin = await tokenFor(t.tenant.id, ['ADMIN'], 'u-oas-admin');
    const definition = {
      schema: { type: 'object', properties: { siteId: { type: 'string' }, reading: { type: 'number' } } },
      scope: 'siteId',
    };
    const name = `oas_${randomBytes(3).toString('hex')}`;
    const put = (json: unknown, collection = name) => ({ params: { name: collection }, token: admin, json });
    expect((await send('putCollection', put(definition))).status).toBe(201);
    expect(
      (await send('putCollection', put({ ...definition, conflict: { strategy: 'MANUAL' } }))).status,
    ).toBe(200);
    const removed = { ...definition, schema: { type: 'object', properties: { siteId: { type: 'string' } } } };
    const refused = await send('putCollection', put(removed));
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({
      code: 'SCHEMA_INCOMPATIBLE',
      errors: [{ path: 'schema.properties.reading' }],
    });
    expect((await send('putCollection', put(definition, 'Bad-Name'))).status).toBe(400);
    expect((await send('putCollection', put({ schema: { type: 'array' } }))).status).toBe(400);
    await authFailures('putCollection', put(definition), manager);
    await bodyFailures('putCollection', put(definition));

    const schema = await send('getSchema', { token: operator });
    expect(schema.status).toBe(200);
    expect((schema.body as { collections: { name: string }[] }).collections.map((c) => c.name)).toContain(
      name,
    );
    await authFailures('getSchema', { token: operator });
  });

  it("compat wellos: compatWellosFieldDataSync (200, 400) and its errors in the dialect's body", async () => {
    const wellos = (json: unknown, token = operator) => ({
      token,
      json,
      headers: { 'x-device-id': 'oas-wellos' },
    });
    const event = { ...reading(t.wellId, 904), timestamp: new Date().toISOString() };
    const synced = await send(
      'compatWellosFieldDataSync',
      wellos({ tenantId: t.tenant.id, events: [event] }),
    );
    expect(synced.status).toBe(200);
    expect(synced.body).toMatchObject({ errors: [] });
    expect((await send('compatWellosFieldDataSync', wellos({ events: 'none' }))).status).toBe(400);
    await authFailures('compatWellosFieldDataSync', wellos({ events: [event] }));
    await bodyFailures('compatWellosFieldDataSync', wellos({ events: [event] }));
  });

  it('compat wellpulse (seed 001): wellpulsePull, wellpulsePush, wellpulseStatus in the document’s error body', async () => {
    const entry = {
      wellId: t.wellId,
      entryType: 'PRODUCTION',
      data: { oilVolume: 12 },
      recordedAt: new Date(Date.now() - 60_000).toISOString(),
    };
    const push = (json: unknown, headers: Record<string, string> = {}) => ({
      token: operator,
      json,
      headers,
    });
    expect((await send('wellpulsePush', push({ deviceId: 'oas-wp-1', entries: [entry] }))).status).toBe(200);
    expect(
      (
        await send(
          'wellpulsePush',
          push({ deviceId: 'oas-wp-1', entries: [{ ...entry, data: { oilVolume: -1 } }] }),
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await send(
          'wellpulsePush',
          push({ deviceId: 'oas-wp-1', entries: Array.from({ length: 1001 }, () => entry) }),
        )
      ).status,
    ).toBe(413);
    const wrongSubdomain = { 'x-tenant-subdomain': strangerTenant };
    expect(
      (await send('wellpulsePush', push({ deviceId: 'oas-wp-1', entries: [] }, wrongSubdomain))).status,
    ).toBe(403);
    await authFailures('wellpulsePush', push({ deviceId: 'oas-wp-1', entries: [entry] }));
    await bodyFailures('wellpulsePush', push({ deviceId: 'oas-wp-1', entries: [entry] }));

    const pull = (query: Record<string, string> = {}, headers: Record<string, string> = {}) => ({
      token: operator,
      query,
      headers,
    });
    const first = await send('wellpulsePull', pull({ deviceId: 'oas-wp-1' }));
    expect(first.status).toBe(200);
    const { lastSyncTimestamp } = first.body as { lastSyncTimestamp: string };
    expect((await send('wellpulsePull', pull({ lastSync: lastSyncTimestamp }))).status).toBe(200);
    expect((await send('wellpulsePull', pull({ lastSync: 'yesterday' }))).status).toBe(400);
    expect((await send('wellpulsePull', pull({}, wrongSubdomain))).status).toBe(403);
    await authFailures('wellpulsePull', pull());

    const status = (query: Record<string, string>, headers: Record<string, string> = {}) => ({
      token: operator,
      query,
      headers,
    });
    expect((await send('wellpulseStatus', status({ deviceId: 'oas-wp-1' }))).status).toBe(200);
    expect((await send('wellpulseStatus', status({}))).status).toBe(400);
    expect((await send('wellpulseStatus', status({ deviceId: 'oas-wp-1' }, wrongSubdomain))).status).toBe(
      403,
    );
    await authFailures('wellpulseStatus', status({ deviceId: 'oas-wp-1' }));
  });

  it('compat fieldops (document 003): compatFieldopsSyncBatch (200, 400, 413 over 32 MiB, 415), compatFieldopsUploadUrl (200, 400)', async () => {
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4]);
    const event = {
      id: 'oas-evt-1',
      eventType: 'PRODUCTION_CREATED',
      aggregateId: t.wellId,
      payload: { productionDate: new Date(Date.now() - 86_400_000).toISOString().slice(0, 10), oilVolume: 7 },
      timestamp: new Date(Date.now() - 60_000).toISOString(),
    };
    const photo = {
      eventId: event.id,
      filename: 'a.jpg',
      contentType: 'image/jpeg',
      base64Data: jpeg.toString('base64'),
    };
    const batch = { token: operator, json: { events: [event], photos: [photo] } };
    const synced = await send('compatFieldopsSyncBatch', batch);
    expect(synced.status, synced.text).toBe(200);
    expect(synced.body).toMatchObject({ synced: [event.id], failed: [] });
    expect((await send('compatFieldopsSyncBatch', { token: operator, json: { events: [] } })).status).toBe(
      400,
    );
    await authFailures('compatFieldopsSyncBatch', batch);
    // Its own limit is 32 MiB (the 4 MiB of v1 routes is not its limit): 413 past it, in the dialect's body.
    const over = `{"events":[],"photos":[{"base64Data":"${'A'.repeat(32 * 1024 * 1024)}"}]}`;
    const tooBig = await send('compatFieldopsSyncBatch', {
      token: operator,
      body: over,
      headers: { 'content-type': 'application/json' },
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    expect(
      (
        await send('compatFieldopsSyncBatch', {
          token: operator,
          body: 'a=1',
          headers: { 'content-type': 'text/plain' },
        })
      ).status,
    ).toBe(415);

    const url = await send('compatFieldopsUploadUrl', {
      token: operator,
      params: { id: t.equipmentId },
      query: { filename: 'belt.png' },
    });
    expect(url.status, url.text).toBe(200);
    expect(
      (
        await send('compatFieldopsUploadUrl', {
          token: operator,
          params: { id: t.equipmentId },
          query: { contentType: 'image/gif' },
        })
      ).status,
    ).toBe(400);
    await authFailures('compatFieldopsUploadUrl', { token: operator, params: { id: t.equipmentId } });
    // Unknown equipment: 404, no URL (s4-clinicfix).
    expect(
      (await send('compatFieldopsUploadUrl', { token: operator, params: { id: 'oas-no-such-pump' } })).status,
    ).toBe(404);
  });

  it('compat fieldops (document 003): compatFieldopsUpload (201, 400, 403, 409, 413, 415, 422)', async () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    const url = await send('compatFieldopsUploadUrl', {
      token: operator,
      params: { id: t.equipmentId },
      query: { filename: 'gauge.png' },
    });
    expect(url.status, url.text).toBe(200);
    const issued = url.body as { uploadUrl: string; blobName: string };
    const token = decodeURIComponent(new URL(issued.uploadUrl).pathname.split('/').pop() ?? '');
    const put = (body: Buffer, contentType = 'image/png', which = token) =>
      send('compatFieldopsUpload', {
        params: { token: which },
        headers: { 'content-type': contentType },
        body,
      });
    expect((await put(png, 'image/jpeg')).status).toBe(415);
    expect((await put(Buffer.from('not a png at all'))).status).toBe(422);
    expect((await put(Buffer.alloc(0))).status).toBe(400);
    expect((await put(Buffer.concat([png, Buffer.alloc(10 * 1024 * 1024)]))).status).toBe(413);
    expect((await put(png, 'image/png', `${token}x`)).status).toBe(403);
    expect((await put(png)).status).toBe(201);
    // Attached by a maintenance event naming the blob: the URL can no longer change it.
    const event = {
      id: 'oas-evt-upload',
      eventType: 'EQUIPMENT_MAINTENANCE_LOGGED',
      aggregateId: t.equipmentId,
      payload: { maintenanceType: 'ROUTINE', description: 'gauge', photoUrls: [issued.blobName] },
      timestamp: new Date(Date.now() - 60_000).toISOString(),
    };
    const synced = await send('compatFieldopsSyncBatch', { token: operator, json: { events: [event] } });
    expect(synced.body).toMatchObject({ synced: [event.id], failed: [] });
    expect((await put(png)).status).toBe(409);
  });

  it('compat arxos (seed 002): batch, updates (200, 400, 403, 410), equipment create/update/delete, initial-sync reads', async () => {
    const tenant = await freshTenant('oas-arx', ['facilities']);
    const tech = await tokenFor(tenant.id, ['OPERATOR'], 'u-oas-arx');
    const boss = await tokenFor(tenant.id, ['MANAGER'], 'u-oas-arx-mgr');
    expect(
      (await send('putScopeMember', { params: { scope: 'ob1', userId: 'u-oas-arx' }, token: boss })).status,
    ).toBe(201);
    const unit = (id: string, extra: Record<string, unknown> = {}) => ({
      id,
      building_id: 'ob1',
      name: `Unit ${id}`,
      type: 'HVAC',
      location_x: 1,
      location_y: 2,
      location_z: 3,
      ...extra,
    });

    const batch = (json: unknown) => ({ token: tech, json });
    const ops = {
      operations: [
        { entity_type: 'equipment', entity_id: 'oas-u1', operation: 'create', payload: unit('oas-u1') },
        { entity_type: 'anchor', entity_id: 'oas-a1', operation: 'create', payload: { building_id: 'ob1' } },
      ],
    };
    const batched = await send('arxosSyncBatch', batch(ops));
    expect(batched.status).toBe(200);
    expect(batched.body).toMatchObject({
      success: ['oas-u1'],
      errors: [{ index: 1, code: 'INVALID_PAYLOAD' }],
    });
    expect((await send('arxosSyncBatch', batch({ operations: [] }))).status).toBe(400);
    const tooMany = { operations: Array.from({ length: 1001 }, () => ops.operations[0]) };
    expect((await send('arxosSyncBatch', batch(tooMany))).status).toBe(413);
    await authFailures('arxosSyncBatch', batch(ops));
    await bodyFailures('arxosSyncBatch', batch(ops));

    const updates = (since?: string, token = tech, id = 'ob1'): Send => ({
      token,
      params: { id },
      query: since === undefined ? {} : { since },
    });
    const first = await send('arxosEquipmentUpdates', updates());
    expect(first.status).toBe(200);
    const lastSync = (first.body as { last_sync: string }).last_sync;
    expect((await send('arxosEquipmentUpdates', updates(lastSync))).status).toBe(200);
    expect((await send('arxosEquipmentUpdates', updates('soon'))).status).toBe(400);
    expect((await send('arxosEquipmentUpdates', updates(undefined, tech, 'ob2'))).status).toBe(403);
    await authFailures('arxosEquipmentUpdates', updates());

    const create = (json: unknown, device = 'oas-arx-phone') => ({
      token: tech,
      json,
      headers: { 'x-device-id': device },
    });
    expect((await send('arxosCreateEquipment', create(unit('oas-u2')))).status).toBe(201);
    // The same id again from another device, with other values edited earlier: the server's version wins.
    const older = unit('oas-u2', { name: 'Older', updated_at: Date.now() - 3_600_000 });
    expect((await send('arxosCreateEquipment', create(older, 'oas-arx-tablet'))).status).toBe(409);
    expect((await send('arxosCreateEquipment', create({ ...unit('oas-u3'), colour: 'red' }))).status).toBe(
      400,
    );
    expect((await send('arxosCreateEquipment', create(unit('oas-u4', { building_id: 'ob2' })))).status).toBe(
      403,
    );
    await authFailures('arxosCreateEquipment', create(unit('oas-u5')));
    await bodyFailures('arxosCreateEquipment', create(unit('oas-u5')));

    const update = (id: string, json: unknown, device = 'oas-arx-phone') => ({
      token: tech,
      params: { id },
      json,
      headers: { 'x-device-id': device },
    });
    const renamed = { status: 'MAINTENANCE', version: 1, updated_at: Date.now() };
    expect((await send('arxosUpdateEquipment', update('oas-u2', renamed))).status).toBe(200);
    const stale = { status: 'FAILED', version: 1, updated_at: Date.now() - 3_600_000 };
    const conflict = await send('arxosUpdateEquipment', update('oas-u2', stale, 'oas-arx-tablet'));
    expect(conflict.status).toBe(409);
    expect(conflict.body).toMatchObject({ serverVersion: { status: 'MAINTENANCE', version: 2 } });
    expect((await send('arxosUpdateEquipment', update('oas-u2', { ...stale, force: true }))).status).toBe(
      200,
    );
    expect((await send('arxosUpdateEquipment', update('oas-none', renamed))).status).toBe(404);
    expect((await send('arxosUpdateEquipment', update('oas-u2', { colour: 'red' }))).status).toBe(400);
    await authFailures('arxosUpdateEquipment', update('oas-u2', renamed));
    await bodyFailures('arxosUpdateEquipment', update('oas-u2', renamed));

    const del = (id: string) => ({ token: tech, params: { id } });
    expect((await send('arxosDeleteEquipment', del('oas-u1'))).status).toBe(204);
    expect((await send('arxosDeleteEquipment', del('oas-none'))).status).toBe(404);
    expect((await send('arxosDeleteEquipment', del(' padded'))).status).toBe(400);
    await authFailures('arxosDeleteEquipment', del('oas-u1'));

    // The initial-sync reads (getBuilding, getEquipmentByBuilding, getSpatialAnchors): 200, 403, 404, 400.
    const seeded = await send('arxosSyncBatch', {
      token: boss,
      json: {
        operations: [
          { entity_type: 'building', entity_id: 'ob1', operation: 'create', payload: { name: 'OB 1' } },
          {
            entity_type: 'anchor',
            entity_id: 'oas-a2',
            operation: 'create',
            payload: { building_id: 'ob1', position_x: 0, position_y: 1, position_z: 2 },
          },
        ],
      },
    });
    expect(seeded.body).toMatchObject({ success: ['ob1', 'oas-a2'], errors: [] });
    const read = (id: string, token = tech): Send => ({ token, params: { id } });
    for (const name of ['arxosGetBuilding', 'arxosEquipmentByBuilding', 'arxosSpatialAnchors']) {
      const ok = await send(name, read('ob1'));
      expect(ok.status, `${name} ${ok.text}`).toBe(200);
      expect((await send(name, read('ob2'))).status, name).toBe(403);
      expect((await send(name, read('ob-none', boss))).status, name).toBe(404);
      expect((await send(name, read(' padded'))).status, name).toBe(400);
      await authFailures(name, read('ob1'));
    }
    expect((await send('arxosSpatialAnchors', read('ob1'))).body).toMatchObject([{ id: 'oas-a2' }]);

    // A last_sync older than the change history kept: 410 RESYNC_REQUIRED.
    expect(await getApp().pull.prune(tenant, 0)).toBeGreaterThan(0);
    const gone = await send('arxosEquipmentUpdates', updates(lastSync));
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ code: 'RESYNC_REQUIRED' });
  });

  it('405 with Allow as components.responses.MethodNotAllowed documents it; OPTIONS with Allow', async () => {
    const response = await fetch(`${base}/v1/sync/batches`, { method: 'DELETE' });
    const text = await response.text();
    const exchange = {
      status: response.status,
      headers: response.headers,
      text,
      body: JSON.parse(text) as unknown,
    };
    expect(exchange.status).toBe(405);
    const documented = doc.components.responses.MethodNotAllowed;
    if (!documented) throw new Error('MethodNotAllowed is not documented');
    checkAgainst('DELETE /v1/sync/batches → 405', documented, exchange);
    expect(response.headers.get('allow')).toBe('OPTIONS, POST');
    const options = await fetch(`${base}/health`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('compat/clinic (document 004): clinicQueue, clinicPending, clinicProcess, clinicResolve, clinicRetry, clinicStats', async () => {
    const clinic = await freshTenant('oas-clinic', ['clinic']);
    const nurse = await tokenFor(clinic.id, ['OPERATOR'], 'u-oas-nurse');
    const nurse2 = await tokenFor(clinic.id, ['OPERATOR'], 'u-oas-nurse2');
    const boss = await tokenFor(clinic.id, ['MANAGER'], 'u-oas-boss');
    for (const userId of ['u-oas-nurse', 'u-oas-nurse2']) {
      const grant = await send('putScopeMember', { params: { scope: 'clinic-o', userId }, token: boss });
      expect(grant.status).toBe(201);
    }
    const queuedAt = new Date(Date.now() - 600_000).toISOString();
    const op = (over: Record<string, unknown> = {}) => ({
      deviceId: 'oas-tab',
      operation: 'CREATE',
      resourceType: 'patient',
      data: { clinicId: 'clinic-o', name: 'Wanjiru' },
      createdAtClient: queuedAt,
      ...over,
    });
    const queue = (json: unknown, token = nurse) => send('clinicQueue', { token, json });
    expect((await queue(op({ id: 'oas-p-1' }))).status).toBe(201);
    expect((await queue(op({ id: 'oas-p-1' }))).status).toBe(200);
    expect((await queue(op({ id: 'oas-p-1', data: { clinicId: 'clinic-o', name: 'X' } }))).status).toBe(409);
    expect((await queue(op({ operation: 'UPDATE' }))).status).toBe(400);
    expect((await queue(op({ id: 'oas-p-9' }), nurse2)).status).toBe(403);
    await authFailures('clinicQueue', { token: nurse, json: op() });
    await bodyFailures('clinicQueue', { token: nurse, json: op() });

    const processOf = (id: string, token = nurse, headers: Record<string, string> = {}) =>
      send('clinicProcess', { params: { id }, token, headers });
    const created = await processOf('oas-p-1');
    expect(created.status).toBe(200);
    // The record's id: the document's `result.id` (the item's event id for a CREATE without resourceId).
    const patientId = (created.body as { result: { id: string } }).result.id;
    expect((await processOf('no-such-item')).status).toBe(404);
    expect((await processOf('bad id!')).status).toBe(400);
    const update = (id: string, device: string, name: string, minutes: number, resourceId = patientId) =>
      op({
        id,
        deviceId: device,
        operation: 'UPDATE',
        resourceId,
        version: 1,
        data: { name },
        createdAtClient: new Date(Date.now() - minutes * 60_000).toISOString(),
      });
    expect((await queue(update('oas-u-0', 'oas-tab', 'x', 5, 'no-such-patient'))).status).toBe(201);
    expect((await processOf('oas-u-0')).status).toBe(422);
    expect((await queue(update('oas-u-a', 'oas-tab', 'Wanjiru A', 4))).status).toBe(201);
    const updatedA = await processOf('oas-u-a');
    expect(updatedA.status, updatedA.text).toBe(200);
    expect((await queue(update('oas-u-b', 'oas-tab2', 'Wanjiru B', 8), nurse2)).status).toBe(201);
    expect((await processOf('oas-u-b', nurse2)).status).toBe(409);
    const hold = await holdProcessing(clinic);
    try {
      expect((await queue(op({ id: 'oas-p-2' }))).status).toBe(201);
      await hold.waiting();
      expect((await processOf('oas-p-2', nurse, { prefer: 'wait=1' })).status).toBe(202);
    } finally {
      await hold.release();
    }
    await authFailures('clinicProcess', { params: { id: 'oas-p-1' }, token: nurse });

    const pendingOf = (deviceId: string, token = nurse) =>
      send('clinicPending', { query: { deviceId, userId: 'u-oas-nurse' }, token });
    expect((await pendingOf('oas-tab')).status).toBe(200);
    expect((await pendingOf('bad id!')).status).toBe(400);
    expect((await pendingOf('oas-tab', nurse2)).status).toBe(403);
    await authFailures('clinicPending', { query: { deviceId: 'oas-tab' }, token: nurse });

    const resolve = (id: string, resolution: string, token = nurse2) =>
      send('clinicResolve', { params: { id }, query: { resolution }, token });
    // A nurse's CLIENT_WINS awaits approval (200, CONFLICT); a manager's overrides the strategy (200); after
    // that, anything but what holds is 409.
    expect((await resolve('oas-u-b', 'CLIENT_WINS')).status).toBe(200);
    expect((await resolve('oas-u-b', 'SERVER_WINS')).status).toBe(200);
    expect((await resolve('oas-u-b', 'CLIENT_WINS', boss)).status).toBe(200);
    expect((await resolve('oas-u-b', 'MANUAL', nurse2)).status).toBe(409);
    expect((await resolve('oas-p-1', 'SERVER_WINS', nurse)).status).toBe(404);
    expect((await resolve('oas-u-b', 'LOUDEST_WINS')).status).toBe(400);
    await authFailures('clinicResolve', {
      params: { id: 'oas-u-b' },
      query: { resolution: 'SERVER_WINS' },
      token: nurse2,
    });

    const retry = (query: Record<string, string>) => send('clinicRetry', { query, token: nurse });
    expect((await retry({ deviceId: 'oas-tab', userId: 'u-oas-nurse' })).status).toBe(202);
    expect((await retry({ deviceId: 'bad id!' })).status).toBe(400);
    expect((await retry({ deviceId: 'oas-tab2' })).status).toBe(403);
    await authFailures('clinicRetry', { query: {}, token: nurse });

    const stats = (query: Record<string, string>) => send('clinicStats', { query, token: boss });
    expect((await stats({ userId: 'u-oas-nurse' })).status).toBe(200);
    expect((await stats({ from: 'yesterday' })).status).toBe(400);
    await authFailures('clinicStats', { query: {}, token: boss }, nurse);
  });

  it('saw every operation, and every documented status that can be provoked here', () => {
    const missing: string[] = [];
    for (const op of operations.values()) {
      for (const status of Object.keys(op.doc.responses)) {
        const key = `${op.id}:${status}`;
        if (seen.has(key) || NOT_PROVOKED[key] || NOT_PROVOKED[`*:${status}`]) continue;
        missing.push(key);
      }
      expect(
        [...seen].some((key) => key.startsWith(`${op.id}:`)),
        `${op.id} was exercised`,
      ).toBe(true);
    }
    expect(missing, 'documented answers never seen').toEqual([]);
    // The exemptions stay honest: each names a status the document lists somewhere.
    for (const key of Object.keys(NOT_PROVOKED)) {
      const [id, status] = key.split(':') as [string, string];
      const listed = [...operations.values()].some(
        (op) => (id === '*' || op.id === id) && op.doc.responses[status],
      );
      expect(listed, `exemption ${key} matches a documented status`).toBe(true);
    }
  });
});
