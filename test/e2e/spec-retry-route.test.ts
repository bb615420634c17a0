import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import type { BatchOutcome, DeviceStatus, EventOutcome } from '../../shared/contracts/sync.js';
import { api, pushSettled, until } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { inspection, type RawEvent, reading } from '../support/events.js';
import { holdProcessing } from '../support/hold.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// SPEC "Routes": POST /v1/sync/retry (field: own; manager: any) with its `deviceId` and `eventIds` filters, and
// GET /v1/sync/status (field: own; manager: any), over HTTP against the local Functions host.
let t: SeededTenant;
let alice: string;
let bob: string;
let manager: string;

beforeAll(async () => {
  t = await seededTenant('retry');
  alice = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-alice');
  bob = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-bob');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-boss');
});
afterAll(() => closeApp());

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

/** A note on an inspection no one has recorded yet: REJECTED TARGET_NOT_FOUND, retryable (docs/outcomes.md). */
const noteOnInspection = (inspectionId: string): RawEvent => ({
  id: randomUUID(),
  type: 'NOTES_ADDED',
  occurredAt: minutesAgo(5),
  payload: { target: { type: 'INSPECTION', id: inspectionId }, text: `note ${randomUUID()}` },
});
const retry = (token: string | undefined, body: unknown) => api(token, 'POST', 'v1/sync/retry', body);
/** Each event's outcome, read by the manager from its batch. */
const outcomes = async (batchIds: string[]) => {
  const all = new Map<string | null, EventOutcome>();
  for (const id of batchIds) {
    const response = await api(manager, 'GET', `v1/sync/batches/${id}`);
    for (const e of (response.body as BatchOutcome).events) all.set(e.eventId, e);
  }
  return all;
};
const statusOf = (events: Map<string | null, EventOutcome>, e: RawEvent) =>
  events.get(e.id)?.status === 'REJECTED' ? events.get(e.id)?.error?.code : events.get(e.id)?.status;

describe('POST /v1/sync/retry', () => {
  it("retries a field user's own events only, honours eventIds and deviceId, and a manager's reach over everyone's", async () => {
    // Prepare: retryable refusals for alice (two devices) and bob; then their targets are recorded.
    // Distinct notes: the same inspection twice from one device is one inspection (a DUPLICATE), whose event
    // id then names nothing (docs/outcomes.md).
    const targets = Array.from({ length: 5 }, (_, i) => {
      const event = inspection(t.wellId);
      return { ...event, payload: { ...event.payload, notes: `inspection ${i}` } };
    });
    const [a1, a2, a3, b1, b2] = targets.map((i) => noteOnInspection(i.id)) as [
      RawEvent,
      RawEvent,
      RawEvent,
      RawEvent,
      RawEvent,
    ];
    const batches = [
      (await pushSettled(alice, 'tab-alice', [a1, a2])).batchId,
      (await pushSettled(alice, 'phone-alice', [a3])).batchId,
      (await pushSettled(bob, 'tab-bob', [b1, b2])).batchId,
    ];
    const before = await outcomes(batches);
    for (const e of [a1, a2, a3, b1, b2]) expect(statusOf(before, e)).toBe('TARGET_NOT_FOUND');
    await pushSettled(alice, 'tab-alice', targets);

    // Act + assess, step by step.
    // Another user's event id: nothing for a field user.
    expect((await retry(alice, { eventIds: [b1.id] })).body).toEqual({ retried: 0, eventIds: [] });
    // eventIds: only the one named.
    expect((await retry(alice, { eventIds: [a1.id] })).body).toEqual({ retried: 1, eventIds: [a1.id] });
    // deviceId: only that device's.
    expect((await retry(alice, { deviceId: 'phone-alice' })).body).toEqual({ retried: 1, eventIds: [a3.id] });
    // Another user's device: 403, nothing retried.
    const foreign = await retry(alice, { deviceId: 'tab-bob' });
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ code: 'DEVICE_NOT_OWNED' });
    // No filter: every retryable event of her own, none of bob's.
    expect((await retry(alice, {})).body).toEqual({ retried: 1, eventIds: [a2.id] });
    let now = await outcomes(batches);
    expect([b1, b2].map((e) => statusOf(now, e))).toEqual(['TARGET_NOT_FOUND', 'TARGET_NOT_FOUND']);
    // A manager: another user's event by id, then the rest of anyone's.
    expect((await retry(manager, { eventIds: [b1.id] })).body).toEqual({ retried: 1, eventIds: [b1.id] });
    expect((await retry(manager, {})).body).toEqual({ retried: 1, eventIds: [b2.id] });
    // Nothing retryable is left; what was retried is applied.
    expect((await retry(manager, {})).body).toEqual({ retried: 0, eventIds: [] });
    await until('every retried note applied', async () => {
      now = await outcomes(batches);
      return [a1, a2, a3, b1, b2].every((e) => statusOf(now, e) === 'APPLIED');
    });
  });

  it('answers 400 with paths for a bad body, and 401 without a token', async () => {
    const bad = await retry(alice, { eventIds: ['not-a-uuid'], extra: 1 });
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.body.errors.map((e: { path: string }) => e.path).sort()).toEqual(['$', 'eventIds[0]']);
    expect((await retry(undefined, {})).status).toBe(401);
  });
});

describe('GET /v1/sync/status', () => {
  it("shows a manager another user's device status, the same the owner sees; another operator gets 403", async () => {
    // Prepare: bob's device with one event not processed yet (the tenant's processing held).
    const pushed = await api(
      bob,
      'POST',
      'v1/sync/batches',
      {
        deviceId: 'tab-bob-2',
        deviceInfo: { platform: 'ios', appVersion: '3.1.0' },
        events: [reading(t.wellId, 11)],
      },
      { prefer: 'wait=20' },
    );
    expect(pushed.status).toBe(200);
    const hold = await holdProcessing(t.tenant);
    try {
      const held = await api(bob, 'POST', 'v1/sync/batches', {
        deviceId: 'tab-bob-2',
        events: [reading(t.wellId, 12)],
      });
      expect(held.status).toBe(202);
      await hold.waiting();
      // Act
      const asManager = await api(manager, 'GET', 'v1/sync/status?deviceId=tab-bob-2');
      const asOwner = await api(bob, 'GET', 'v1/sync/status?deviceId=tab-bob-2');
      const asOther = await api(alice, 'GET', 'v1/sync/status?deviceId=tab-bob-2');
      // Assess
      expect(asManager.status, asManager.text).toBe(200);
      expect(asManager.body).toMatchObject<Partial<DeviceStatus>>({
        deviceId: 'tab-bob-2',
        userId: 'u-bob',
        platform: 'ios',
        appVersion: '3.1.0',
        lastPushAt: held.body.receivedAt,
        pendingEvents: 1,
        failedEvents: 0,
        openConflicts: 0,
      });
      expect(asManager.body).toEqual(asOwner.body);
      expect(asOther.status).toBe(403);
      expect(asOther.body).toMatchObject({ code: 'DEVICE_NOT_OWNED' });
      expect((await api(manager, 'GET', 'v1/sync/status?deviceId=nobody-has-this')).status).toBe(404);
    } finally {
      await hold.release();
    }
  });
});
