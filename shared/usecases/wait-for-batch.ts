import type { Principal } from '../auth/principal.js';
import type { BatchOutcome } from '../contracts/sync.js';
import type { EventLog, Tenant } from '../ports.js';
import { getBatchOutcome } from './sync-status.js';

/** Polls a batch until it is COMPLETED or the time is up; undefined when it did not finish in time. */
export async function waitForBatch(
  deps: { eventLog: EventLog },
  tenant: Tenant,
  principal: Principal,
  batchId: string,
  millis: number,
): Promise<BatchOutcome | undefined> {
  const deadline = Date.now() + millis;
  let pause = 25;
  for (;;) {
    const outcome = await getBatchOutcome(deps, tenant, principal, batchId);
    if (outcome.status === 'COMPLETED') return outcome;
    if (Date.now() + pause > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(250, pause * 2);
  }
}
