import type { Principal } from '../auth/principal.js';
import type { BatchOutcome } from '../contracts/sync.js';
import type { EventLog } from './ports/event-log.js';
import type { Tenant } from './ports/tenancy.js';
import { getBatchOutcome, withOriginalOutcomes } from './sync-status.js';

/**
 * Reads `read()` until `done` holds for what it read or `millis` is up (pauses of 25 ms doubling to 250 ms), and
 * returns the last value read. Reads at least once, even with no time left.
 */
async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, millis: number): Promise<T> {
  const deadline = Date.now() + millis;
  let pause = 25;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() + pause > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(250, pause * 2);
  }
}

/**
 * Polls a batch until it is COMPLETED or the time is up, and returns the last outcome read: COMPLETED, or as it
 * stands at the deadline (events still PENDING in it). For answers that report what is done so far (the compat
 * dialects' synchronous routes) without reading the batch once more.
 */
export function waitForOutcome(
  deps: { eventLog: EventLog },
  tenant: Tenant,
  principal: Principal,
  batchId: string,
  millis: number,
): Promise<BatchOutcome> {
  return pollUntil(
    () => getBatchOutcome(deps, tenant, principal, batchId),
    (outcome) => outcome.status === 'COMPLETED',
    millis,
  );
}

/**
 * waitForOutcome for one device's push, where each DUPLICATE stands for its original's outcome
 * (withOriginalOutcomes), and an original still PENDING is waited for within the same `millis`: a device that
 * sends again an event whose first push is not processed yet (it gave up waiting, or crashed) gets the outcome
 * as soon as the processor settles it, as the first push would have. What is still PENDING at the deadline is
 * answered PENDING. Used by the compat dialects' synchronous routes.
 */
export async function waitForOriginalOutcomes(
  deps: { eventLog: EventLog },
  tenant: Tenant,
  principal: Principal,
  deviceId: string,
  batchId: string,
  millis: number,
): Promise<BatchOutcome> {
  const deadline = Date.now() + millis;
  const outcome = await waitForOutcome(deps, tenant, principal, batchId, millis);
  return pollUntil(
    () => withOriginalOutcomes(deps, tenant, deviceId, outcome),
    (answered) => !answered.events.some((e) => e.status === 'PENDING'),
    deadline - Date.now(),
  );
}

/** Polls a batch until it is COMPLETED or the time is up; undefined when it did not finish in time. */
export async function waitForBatch(
  deps: { eventLog: EventLog },
  tenant: Tenant,
  principal: Principal,
  batchId: string,
  millis: number,
): Promise<BatchOutcome | undefined> {
  const outcome = await waitForOutcome(deps, tenant, principal, batchId, millis);
  return outcome.status === 'COMPLETED' ? outcome : undefined;
}
