import { randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSyncBatch } from '../../functions/sync-batch.js';
import { pushSyncBatch } from '../../functions/sync-push.js';
import { getSyncStatus } from '../../functions/sync-status.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { BatchOutcome, DeviceStatus, PushAccepted } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { inspection, maintenance, note, production, reading } from '../support/events.js';
import { call } from '../support/http.js';
import { ownSyncProcessor } from '../support/processor.js';
import { push, pushAccepted, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// This file's own queue and processor: `Prefer: wait` measures this file's work, not the run's backlog.
ownSyncProcessor('push');

let t: SeededTenant;
let operator: string;
let otherOperator: string;
let manager: string;

beforeAll(async () => {
  t = await seededTenant('push');
  operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-op-1');
  otherOperator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-op-2');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-mgr');
});
afterAll(() => closeApp());

const count = async (sql: string, params: unknown[] = []) =>
  Number((await getApp().tenantPool(t.tenant).query<{ n: number }>(sql, params)).rows[0]?.n);

describe('POST /v1/sync/batches', () => {
  it('accepts valid events, rejects bad ones on their own, and applies every accepted event', async () => {
    // Prepare
    const good = [
      production(t.wellId, { oilVolume: 120.5, gasVolume: 300 }),
      reading(t.wellId),
      maintenance(t.equipmentId),
      inspection(t.wellId, t.equipmentId),
      note(t.wellId),
    ];
    const bad = [
      { ...production(t.wellId), payload: { wellId: t.wellId, productionDate: '2020-01-01', oilVolume: -5 } },
      { ...reading(t.wellId), occurredAt: new Date(Date.now() + 3_600_000).toISOString() },
      { id: 'not-a-uuid', type: 'NOPE', occurredAt: 'yesterday', payload: {} },
    ];
    // Act
    const accepted = await pushAccepted(operator, {
      deviceId: 'laptop-1',
      deviceInfo: { platform: 'electron', appVersion: '1.4.2' },
      events: [good[0], bad[0], good[1], bad[1], good[2], good[3], bad[2], good[4]],
    });
    const outcome = await settled(operator, accepted.batchId);
    // Assess
    expect(accepted).toMatchObject({
      accepted: 5,
      duplicates: [],
      statusUrl: `/api/v1/sync/batches/${accepted.batchId}`,
    });
    expect(accepted.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'INVALID_PAYLOAD'],
      [3, 'CLOCK_SKEW'],
      [6, 'INVALID_PAYLOAD'],
    ]);
    expect(accepted.rejected[0]?.errors).toEqual([
      { path: 'events[1].payload.oilVolume', message: expect.any(String) },
    ]);
    expect(accepted.rejected[2]?.eventId).toBe('not-a-uuid');
    expect(outcome.counts).toEqual({
      total: 8,
      pending: 0,
      applied: 5,
      duplicate: 0,
      conflict: 0,
      rejected: 3,
      failed: 0,
    });
    expect(await count('select count(*) as n from well_readings where event_id = $1', [good[1]?.id])).toBe(1);
    expect(
      await count('select count(*) as n from maintenance_logs where equipment_id = $1', [t.equipmentId]),
    ).toBeGreaterThan(0);
    expect(await count('select count(*) as n from sync_events where batch_id = $1', [accepted.batchId])).toBe(
      5,
    );
  });

  it('applies business rules as REJECTED outcomes without blocking the rest', async () => {
    const events = [
      production('no-such-well'),
      reading(t.inactiveWellId),
      maintenance(t.deletedEquipmentId),
      maintenance('no-such-equipment'),
      note(t.wellId, 'still fine'),
    ];
    const accepted = await pushAccepted(operator, { deviceId: 'laptop-1', events });
    const outcome = await settled(operator, accepted.batchId);
    const byId = new Map(outcome.events.map((e) => [e.eventId, e]));
    expect(events.map((e) => byId.get(e.id)?.error?.code ?? byId.get(e.id)?.status)).toEqual([
      'WELL_NOT_FOUND',
      'WELL_INACTIVE',
      'EQUIPMENT_DELETED',
      'EQUIPMENT_NOT_FOUND',
      'APPLIED',
    ]);
  });

  it('reports events the server already has as duplicates, and a reused id with another body as EVENT_ID_REUSED', async () => {
    const original = reading(t.wellId, 901);
    const first = await pushAccepted(operator, { deviceId: 'phone-1', events: [original] });
    await settled(operator, first.batchId);
    const again = await pushAccepted(operator, {
      deviceId: 'phone-1',
      events: [original, { ...original, payload: { ...original.payload, value: 999 } }],
    });
    expect(again.accepted).toBe(0);
    expect(again.duplicates).toEqual([original.id]);
    expect(again.rejected).toEqual([
      expect.objectContaining({ eventId: original.id, code: 'EVENT_ID_REUSED', index: 1 }),
    ]);
    expect(await count('select count(*) as n from well_readings where event_id = $1', [original.id])).toBe(1);
    const outcome = await settled(operator, again.batchId);
    expect(outcome.counts).toMatchObject({ total: 2, duplicate: 1, rejected: 1, pending: 0 });
  });

  it('treats the same reading from the same device under a new event id as a duplicate', async () => {
    const first = reading(t.wellId, 777, new Date(Date.now() - 3_600_000).toISOString());
    const copy = { ...first, id: randomUUID() };
    const a = await pushAccepted(operator, { deviceId: 'phone-dup', events: [first] });
    await settled(operator, a.batchId);
    const b = await pushAccepted(operator, { deviceId: 'phone-dup', events: [copy] });
    expect((await settled(operator, b.batchId)).events[0]).toMatchObject({
      eventId: copy.id,
      status: 'DUPLICATE',
    });
    expect(
      await count("select count(*) as n from well_readings where value = 777 and device_id = 'phone-dup'"),
    ).toBe(1);
  });

  it('replays the first answer for a repeated Idempotency-Key, 422 for another body, and enqueues nothing again', async () => {
    const key = randomUUID();
    const body = { deviceId: 'laptop-2', events: [note(t.wellId, 'idempotent')] };
    const first = await push(operator, body, { 'idempotency-key': key });
    const second = await push(operator, body, { 'idempotency-key': key });
    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.body).toEqual(first.body);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.headers.location).toBe(first.headers.location); // the replay reads as the first answer
    expect(
      await count('select count(*) as n from sync_batches where id = $1', [
        (first.body as PushAccepted).batchId,
      ]),
    ).toBe(1);
    expect(await count("select count(*) as n from sync_batches where device_id = 'laptop-2'")).toBe(1);
    const other = await push(operator, { ...body, deviceId: 'laptop-3' }, { 'idempotency-key': key });
    expect(other.status).toBe(422);
    // The key is the user's own: another user's request with it (from that user's own device: laptop-2 is
    // not theirs) is a new push, not a 422.
    const otherUser = await push(
      otherOperator,
      { ...body, deviceId: 'laptop-2b' },
      { 'idempotency-key': key },
    );
    expect(otherUser.status).toBe(202);
    expect((otherUser.body as PushAccepted).duplicates).toHaveLength(1);
  });

  it('answers 409 while a request with the same Idempotency-Key is still in flight', async () => {
    const key = randomUUID();
    const events = Array.from({ length: 400 }, (_, i) => note(t.wellId, `burst ${i}`));
    const body = { deviceId: 'laptop-4', events };
    const [a, b] = await Promise.all([
      push(operator, body, { 'idempotency-key': key }),
      push(operator, body, { 'idempotency-key': key }),
    ]);
    expect([a.status, b.status].sort()).toEqual([202, 409]);
    const conflict = a.status === 409 ? a : b;
    expect(conflict.headers['retry-after']).toBeDefined();
    expect(await count("select count(*) as n from sync_batches where device_id = 'laptop-4'")).toBe(1);
  });

  it('with Prefer: wait=N answers 200 with the outcome once processing ends', async () => {
    const response = await push(
      operator,
      { deviceId: 'laptop-5', events: [reading(t.wellId, 5)] },
      { prefer: 'wait=10' },
    );
    expect(response.status).toBe(200);
    expect(response.headers['preference-applied']).toBe('wait=10');
    expect(response.body).toMatchObject({ status: 'COMPLETED', counts: { applied: 1, pending: 0 } });
  });

  it('with Prefer: wait=N answers 200 at once for a batch with nothing to process (all rejected, all duplicates)', async () => {
    const applied = reading(t.wellId, 6);
    expect(
      (await push(operator, { deviceId: 'laptop-6', events: [applied] }, { prefer: 'wait=10' })).status,
    ).toBe(200);
    const cases = [
      {
        events: [
          { ...reading(t.wellId), payload: {} },
          { ...note(t.wellId), occurredAt: 'yesterday' },
        ],
        counts: { rejected: 2, duplicate: 0 },
      },
      { events: [applied], counts: { rejected: 0, duplicate: 1 } },
      { events: [applied, { ...note(t.wellId), payload: {} }], counts: { rejected: 1, duplicate: 1 } },
    ];
    for (const { events, counts } of cases) {
      const started = Date.now();
      const response = await push(operator, { deviceId: 'laptop-6', events }, { prefer: 'wait=30' });
      expect(response.status, response.text).toBe(200);
      expect(Date.now() - started).toBeLessThan(10_000); // answered at once, not after the wait
      expect(response.headers['preference-applied']).toBe('wait=30');
      expect(response.body).toMatchObject({
        status: 'COMPLETED',
        counts: { ...counts, pending: 0, total: events.length },
      });
    }
    // Without Prefer: still 202 with Location, as before.
    const plain = await push(operator, { deviceId: 'laptop-6', events: [applied] });
    expect(plain.status).toBe(202);
    expect(plain.headers.location).toBe((plain.body as PushAccepted).statusUrl);
  });

  it('checks the envelope first: 400, 413 and 415, keeping nothing', async () => {
    const before = await count('select count(*) as n from sync_batches');
    expect((await push(operator, { events: [note(t.wellId)] })).status).toBe(400);
    expect((await push(operator, { deviceId: 'd', events: [] })).status).toBe(400);
    const tooMany = await push(operator, {
      deviceId: 'd',
      events: Array.from({ length: 1001 }, () => note(t.wellId)),
    });
    expect(tooMany.status).toBe(413);
    const form = await call(pushSyncBatch, {
      method: 'POST',
      token: operator,
      body: 'deviceId=d',
      headers: { 'content-type': 'text/plain' },
    });
    expect(form.status).toBe(415);
    expect(await count('select count(*) as n from sync_batches')).toBe(before);
  });

  it('accepts a gzip body', async () => {
    const body = gzipSync(
      Buffer.from(JSON.stringify({ deviceId: 'laptop-gz', events: [note(t.wellId, 'zipped')] })),
    );
    const response = await call(pushSyncBatch, {
      method: 'POST',
      token: operator,
      body,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    expect(response.status).toBe(202);
    expect((response.body as PushAccepted).accepted).toBe(1);
  });
});

describe('GET /v1/sync/batches/{batchId} and /v1/sync/status', () => {
  it('shows a batch to its own user and managers only, and a device status with live counts', async () => {
    const accepted = await pushAccepted(operator, {
      deviceId: 'tablet-9',
      deviceInfo: { platform: 'android', appVersion: '2.0.0' },
      events: [note(t.wellId, 'status')],
    });
    await settled(operator, accepted.batchId);
    const asOther = await call(getSyncBatch, { params: { batchId: accepted.batchId }, token: otherOperator });
    expect(asOther.status).toBe(404);
    const asManager = await call(getSyncBatch, { params: { batchId: accepted.batchId }, token: manager });
    expect((asManager.body as BatchOutcome).deviceId).toBe('tablet-9');
    expect((await call(getSyncBatch, { params: { batchId: randomUUID() }, token: manager })).status).toBe(
      404,
    );

    const status = await call(getSyncStatus, {
      url: 'http://localhost/api/v1/sync/status?deviceId=tablet-9',
      token: operator,
    });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      deviceId: 'tablet-9',
      userId: 'u-op-1',
      platform: 'android',
      appVersion: '2.0.0',
      pendingEvents: 0,
      failedEvents: 0,
      lastPushAt: accepted.receivedAt,
    });
    expect((status.body as DeviceStatus).lastSyncAt).not.toBeNull();
    const foreign = await call(getSyncStatus, {
      url: 'http://localhost/api/v1/sync/status?deviceId=tablet-9',
      token: otherOperator,
    });
    expect(foreign.status).toBe(403);
    const missing = await call(getSyncStatus, {
      url: 'http://localhost/api/v1/sync/status',
      token: operator,
    });
    expect(missing.status).toBe(400);
  });
});
