import { afterAll, beforeAll, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { Principal } from '../../shared/auth/principal.js';
import { waitForOriginalOutcomes } from '../../shared/usecases/wait-for-batch.js';
import { tokenFor } from '../support/auth.js';
import { reading } from '../support/events.js';
import { holdProcessing } from '../support/hold.js';
import { pushAccepted } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// The compat dialects answer a re-sent event with its original's outcome (shared/usecases/wait-for-batch.ts).
// When the original is not processed yet, the answer waits for it within the same wait as the push's own
// events: all four synchronous routes (WellOS, WellPulse, FieldOps, ArxOS) go through this one use case.
let t: SeededTenant;
let token: string;
const principal: Principal = { userId: 'u-wfo', tenantId: '', roles: ['OPERATOR'] };

beforeAll(async () => {
  t = await seededTenant('wfo');
  principal.tenantId = t.tenant.id;
  token = await tokenFor(t.tenant.id, ['OPERATOR'], principal.userId);
});
afterAll(() => closeApp());

it('answers a re-sent event with its original outcome once the processor settles it, PENDING at the deadline', async () => {
  // Prepare: the first push is held unprocessed; the device sends the same event again.
  const event = reading(t.wellId, 7);
  const hold = await holdProcessing(t.tenant);
  let early;
  let late;
  try {
    await pushAccepted(token, { deviceId: 'tab-wfo', events: [event] });
    await hold.waiting();
    const again = await pushAccepted(token, { deviceId: 'tab-wfo', events: [event] });
    // Act: one wait ends while the original is held; another goes on past the release.
    early = await waitForOriginalOutcomes(getApp(), t.tenant, principal, 'tab-wfo', again.batchId, 300);
    late = waitForOriginalOutcomes(getApp(), t.tenant, principal, 'tab-wfo', again.batchId, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
  } finally {
    await hold.release();
  }
  // Assess: the re-sent event's own batch is complete at once (a DUPLICATE at accept); it stands for the
  // original, PENDING while held, then APPLIED.
  expect(early.status).toBe('COMPLETED');
  expect(early.events).toEqual([expect.objectContaining({ eventId: event.id, status: 'PENDING' })]);
  expect((await late).events).toEqual([expect.objectContaining({ eventId: event.id, status: 'APPLIED' })]);
});
