import { randomUUID } from 'node:crypto';
import { getApp } from '../../shared/app.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { eventHash } from '../../shared/usecases/push.js';
import { checkEvent } from '../../shared/sync/validate-event.js';
import type { RawEvent } from './events.js';

/** Records events PENDING in the event log, as an accepted push does, without enqueueing them. */
export async function acceptEvents(
  tenant: Tenant,
  events: RawEvent[],
  deviceId: string,
  userId = 'u-op',
): Promise<{ batchId: string; ids: string[] }> {
  const batchId = randomUUID();
  const valid = events.map((raw, i) => {
    const check = checkEvent(raw, i, new Date());
    if (!check.ok) throw new Error(JSON.stringify(check.rejection));
    return { event: check.event, hash: eventHash(check.event), index: i };
  });
  const result = await getApp().eventLog.acceptBatch(
    tenant,
    { id: batchId, deviceId, userId, receivedAt: new Date().toISOString(), total: events.length },
    [{ accepted: valid, rejected: [] }],
    () => [],
  );
  return { batchId, ids: result.accepted };
}
