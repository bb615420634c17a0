import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import type { BatchOutcome, PushAccepted } from '../../shared/contracts/sync.js';
import { api, until } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { inspection, note, type RawEvent, reading } from '../support/events.js';
import { holdProcessing } from '../support/hold.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// SPEC "Push" (`Prefer: wait=N`, N ≤ 30 s) and "Batch outcome" (PENDING | PROCESSING | COMPLETED), over HTTP
// against the local Functions host. Processing is held deterministically (test/support/hold.ts) where a test
// needs a batch that is not finished; each test owns its tenant, so holding it blocks no other file's events.
let t: SeededTenant;
let operator: string;

beforeAll(async () => {
  t = await seededTenant('wait');
  operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-wait');
});
afterAll(() => closeApp());

const push = (events: RawEvent[], prefer?: string, deviceId = 'tab-wait') =>
  api(operator, 'POST', 'v1/sync/batches', { deviceId, events }, prefer ? { prefer } : {});
const batch = async (batchId: string) => {
  const response = await api(operator, 'GET', `v1/sync/batches/${batchId}`);
  expect(response.status, response.text).toBe(200);
  return response.body as BatchOutcome;
};
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

describe('Prefer: wait=N', () => {
  it('caps N at 30 s: a larger N is applied as wait=30 (a batch that finishes quickly, so nothing waits 30 s)', async () => {
    // Prepare
    const events = [reading(t.wellId, 31)];
    // Act
    const response = await push(events, 'wait=3600');
    // Assess
    expect(response.status, response.text).toBe(200);
    expect(response.headers['preference-applied']).toBe('wait=30');
    expect(response.body).toMatchObject({ status: 'COMPLETED', counts: { applied: 1, pending: 0 } });
    // N under the cap is applied as asked, and other preferences beside it are ignored.
    const asked = await push([reading(t.wellId, 32)], 'respond-async, wait=7');
    expect(asked.status, asked.text).toBe(200);
    expect(asked.headers['preference-applied']).toBe('wait=7');
  });

  it('answers 202 with Location when processing does not finish within N; the batch completes later', async () => {
    // Prepare: the tenant's processing is held.
    const hold = await holdProcessing(t.tenant);
    try {
      const event = reading(t.wellId, 33);
      // Act
      const started = Date.now();
      const response = await push([event], 'wait=1');
      const elapsed = Date.now() - started;
      // Assess: the accepted answer, after waiting about N seconds, not the (unfinished) outcome.
      expect(response.status, response.text).toBe(202);
      const accepted = response.body as PushAccepted;
      expect(accepted).toMatchObject({ accepted: 1, duplicates: [], rejected: [] });
      expect(response.headers.location).toBe(accepted.statusUrl);
      expect(response.headers['preference-applied']).toBeUndefined();
      expect(elapsed).toBeGreaterThanOrEqual(900);
      // The processor has the chunk and is blocked: the batch is PENDING, nothing settled yet.
      await hold.waiting();
      expect(await batch(accepted.batchId)).toMatchObject({
        status: 'PENDING',
        counts: { total: 1, pending: 1, applied: 0 },
        events: [{ eventId: event.id, status: 'PENDING' }],
      });
      expect((await batch(accepted.batchId)).completedAt).toBeUndefined();
      // Released, the same batch completes.
      await hold.release();
      let outcome: BatchOutcome | undefined;
      await until('the batch to complete', async () => {
        outcome = await batch(accepted.batchId);
        return outcome.status === 'COMPLETED';
      });
      expect(outcome).toMatchObject({ counts: { total: 1, pending: 0, applied: 1 } });
    } finally {
      await hold.release();
    }
  });
});

describe('batch status PROCESSING', () => {
  it('is PROCESSING while some of its events are settled and others not, then COMPLETED', async () => {
    // Prepare: a batch of two notes; one names an inspection that is not recorded yet (TARGET_NOT_FOUND,
    // retryable), the other is applied.
    const later = inspection(t.wellId);
    const onWell = note(t.wellId, `applied ${randomUUID()}`);
    const onInspection: RawEvent = {
      id: randomUUID(),
      type: 'NOTES_ADDED',
      occurredAt: minutesAgo(4),
      payload: { target: { type: 'INSPECTION', id: later.id }, text: 'belt guard missing' },
    };
    const first = await push([onWell, onInspection], 'wait=20');
    expect(first.status, first.text).toBe(200);
    const batchId = (first.body as BatchOutcome).batchId;
    expect((first.body as BatchOutcome).events).toEqual(
      expect.arrayContaining([
        { eventId: onWell.id, status: 'APPLIED' },
        expect.objectContaining({
          eventId: onInspection.id,
          status: 'REJECTED',
          error: expect.objectContaining({ code: 'TARGET_NOT_FOUND', retryable: true }),
        }),
      ]),
    );
    expect((await push([later], 'wait=20')).status).toBe(200);
    const hold = await holdProcessing(t.tenant);
    try {
      // Act: the refused note is retried into its own batch while processing is held.
      const retry = await api(operator, 'POST', 'v1/sync/retry', { eventIds: [onInspection.id] });
      expect(retry.status, retry.text).toBe(202);
      expect(retry.body).toEqual({ retried: 1, eventIds: [onInspection.id] });
      await hold.waiting();
      // Assess: one event settled, one pending.
      const processing = await batch(batchId);
      expect(processing).toMatchObject({
        status: 'PROCESSING',
        counts: { total: 2, pending: 1, applied: 1, rejected: 0 },
      });
      expect(processing.completedAt).toBeUndefined();
      expect(processing.events).toEqual(
        expect.arrayContaining([
          { eventId: onWell.id, status: 'APPLIED' },
          { eventId: onInspection.id, status: 'PENDING' },
        ]),
      );
    } finally {
      await hold.release();
    }
    let outcome: BatchOutcome | undefined;
    await until('the batch to complete', async () => {
      outcome = await batch(batchId);
      return outcome.status === 'COMPLETED';
    });
    expect(outcome).toMatchObject({ counts: { total: 2, pending: 0, applied: 2 } });
    expect(outcome?.completedAt).toEqual(expect.any(String));
  });
});
