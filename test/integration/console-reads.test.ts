import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import type { DeviceActivity } from '../../shared/contracts/activity.js';
import { api, pushSettled } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { inspection, production, type RawEvent, reading } from '../support/events.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';
import { waitFor } from '../support/wait.js';

// GET /v1/devices/{deviceId}/activity (the managers' console's device page, docs/console.md) over HTTP
// against the local Functions host: batch counts include what the push itself refused, failed events are
// the ones POST /v1/sync/retry takes again, and a retried event leaves the list once it is applied.
let t: SeededTenant;
let operator: string;
let manager: string;

beforeAll(async () => {
  t = await seededTenant('reads');
  operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-reads-op');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-reads-boss');
});
afterAll(() => closeApp());

const activity = async (deviceId: string, limit?: number) => {
  const response = await api(
    manager,
    'GET',
    `v1/devices/${deviceId}/activity${limit === undefined ? '' : `?limit=${limit}`}`,
  );
  expect(response.status, response.text).toBe(200);
  return response.body as DeviceActivity;
};

/** A note on an inspection not recorded yet: REJECTED TARGET_NOT_FOUND, retryable (docs/outcomes.md). */
const noteOn = (inspectionId: string): RawEvent => ({
  id: randomUUID(),
  type: 'NOTES_ADDED',
  occurredAt: new Date(Date.now() - 60_000).toISOString(),
  payload: { target: { type: 'INSPECTION', id: inspectionId }, text: 'gauge glass cracked' },
});

describe("a device's activity", () => {
  it('counts every event of a batch, lists retryable failures, and drops them once a retry applies them', async () => {
    // Prepare: one batch with an applied reading, a note on an inspection not recorded yet (retryable) and
    // an invalid production log (refused by the push itself).
    const target = inspection(t.wellId);
    const note = noteOn(target.id);
    const invalid = production(t.wellId, { oilVolume: -1 });
    const first = await pushSettled(operator, 'reads-tab', [reading(t.wellId), note, invalid]);
    expect(first.counts).toMatchObject({ total: 3, applied: 1, rejected: 2 });

    // Act + assess: the activity says the same, and names the note as a failure to retry.
    const seen = await activity('reads-tab');
    expect(seen.deviceId).toBe('reads-tab');
    expect(seen.batches).toEqual([
      expect.objectContaining({
        batchId: first.batchId,
        userId: 'u-reads-op',
        counts: { total: 3, pending: 0, applied: 1, duplicate: 0, conflict: 0, rejected: 2, failed: 0 },
      }),
    ]);
    expect(seen.failedEvents).toEqual([
      expect.objectContaining({
        eventId: note.id,
        batchId: first.batchId,
        status: 'REJECTED',
        type: 'NOTES_ADDED',
        error: expect.objectContaining({ code: 'TARGET_NOT_FOUND', retryable: true }),
        payload: note.payload,
      }),
    ]);

    // A second batch: newest first, and `limit` cuts the list.
    const second = await pushSettled(operator, 'reads-tab', [target]);
    expect((await activity('reads-tab')).batches.map((b) => b.batchId)).toEqual([
      second.batchId,
      first.batchId,
    ]);
    expect((await activity('reads-tab', 1)).batches.map((b) => b.batchId)).toEqual([second.batchId]);

    // The inspection exists now: the console's Retry (POST /v1/sync/retry) applies the note, which leaves the list.
    const retried = await api(manager, 'POST', 'v1/sync/retry', {
      deviceId: 'reads-tab',
      eventIds: [note.id],
    });
    expect(retried).toMatchObject({ status: 202, body: { retried: 1 } });
    // It leaves the list as soon as the retry makes it PENDING; wait until it is applied, too.
    await waitFor(
      async () => {
        const seen = await activity('reads-tab');
        return seen.failedEvents.length === 0 && seen.batches[1]?.counts.pending === 0;
      },
      { what: 'the retried note to be applied and leave the failed list' },
    );
    expect((await activity('reads-tab')).batches[1]?.counts).toMatchObject({ applied: 2, rejected: 1 });
  });

  it('answers empty lists for a device never seen, and refuses a bad limit', async () => {
    expect(await activity('never-seen')).toEqual({
      deviceId: 'never-seen',
      batches: [],
      failedEvents: [],
      photos: [],
    });
    const bad = await api(manager, 'GET', 'v1/devices/never-seen/activity?limit=101');
    expect(bad).toMatchObject({
      status: 400,
      body: { errors: [expect.objectContaining({ path: 'limit' })] },
    });
    expect((await api(operator, 'GET', 'v1/devices/reads-tab/activity')).status).toBe(403);
  });
});
