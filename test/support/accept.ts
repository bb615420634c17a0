import { randomUUID } from 'node:crypto';
import { getApp } from '../../shared/app.js';
import type { AcceptedEvent, CheckedPart } from '../../shared/usecases/ports/event-log.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { eventHash } from '../../shared/usecases/push.js';
import { checkEvent } from '../../shared/sync/validate-event.js';
import type { RawEvent } from './events.js';

/** An event checked and hashed as a push does, at `index`; a refusal throws (naming it) instead. */
export function acceptedEvent(raw: RawEvent, index: number): AcceptedEvent {
  const check = checkEvent(raw, index, new Date());
  if (!check.ok) throw new Error(JSON.stringify(check.rejection));
  return { event: check.event, hash: eventHash(check.event), index };
}

/** Parts for EventLog.acceptBatch, given in one go. */
async function* partsOf(...parts: CheckedPart[]): AsyncGenerator<CheckedPart> {
  yield* parts;
}

/** Records events PENDING in the event log, as an accepted push does, without enqueueing them. */
export async function acceptEvents(
  tenant: Tenant,
  events: RawEvent[],
  deviceId: string,
  userId = 'u-op',
): Promise<{ batchId: string; ids: string[] }> {
  const batchId = randomUUID();
  const result = await getApp().eventLog.acceptBatch(
    tenant,
    { id: batchId, deviceId, userId, receivedAt: new Date().toISOString(), total: events.length },
    partsOf({ accepted: events.map(acceptedEvent), rejected: [] }),
    () => [],
  );
  return { batchId, ids: result.accepted };
}
