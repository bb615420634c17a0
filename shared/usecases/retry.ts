import { randomUUID } from 'node:crypto';
import { isManager, type Principal } from '../auth/principal.js';
import type { Logger } from '../logger.js';
import type { DeviceStatusStore } from './ports/devices.js';
import type { EventQueue } from './ports/queue.js';
import type { EventLog, OutboxStore } from './ports/event-log.js';
import type { Tenant } from './ports/tenancy.js';
import { checkDeviceAccess } from './device-access.js';
import { relayOutbox } from './outbox.js';
import { chunkMessages } from './push.js';

/**
 * Re-enqueues retryable events — FAILED ones, and REJECTED ones with `error.retryable` (PHOTO_NOT_UPLOADED,
 * TARGET_NOT_FOUND; docs/outcomes.md): a field user's own, or any for a manager. The events go back to
 * PENDING with their chunk messages in the outbox in one transaction; the relay sends them after the commit (a
 * failed send is left to the outbox sweep: the events are durably PENDING). Each retry's messages get fresh
 * MessageIds (a retry is new content for the queue's duplicate detection).
 * A `deviceId` must be the caller's own device, or any for a manager (ForbiddenError DEVICE_NOT_OWNED
 * otherwise, as on every route that takes a device id).
 */
export async function retryFailedEvents(
  deps: {
    eventLog: EventLog;
    queue: EventQueue;
    devices: Pick<DeviceStatusStore, 'get' | 'recordPush'>;
    outbox: OutboxStore;
    log?: Logger;
  },
  tenant: Tenant,
  principal: Principal,
  request: { deviceId?: string | undefined; eventIds?: string[] | undefined },
): Promise<{ retried: number; eventIds: string[] }> {
  if (request.deviceId) {
    await checkDeviceAccess(deps.devices, tenant, principal, request.deviceId, 'read');
  }
  const retryId = randomUUID();
  const result = await deps.eventLog.retryFailed(
    tenant,
    {
      ...(isManager(principal) ? {} : { userId: principal.userId }),
      ...(request.deviceId ? { deviceId: request.deviceId } : {}),
      ...(request.eventIds ? { eventIds: request.eventIds } : {}),
    },
    (events) => {
      const byBatch = new Map<string, { deviceId: string; ids: string[] }>();
      for (const e of events) {
        const group = byBatch.get(e.batchId) ?? { deviceId: e.deviceId, ids: [] };
        group.ids.push(e.id);
        byBatch.set(e.batchId, group);
      }
      return [...byBatch].flatMap(([batchId, group]) =>
        chunkMessages(
          { tenantId: tenant.id, batchId, deviceId: group.deviceId, reason: 'retry' },
          group.ids,
          retryId,
        ).map((message) => ({ kind: 'chunk' as const, message })),
      );
    },
  );
  await relayOutbox(deps, tenant, result.outbox, { deleteInBackground: true });
  return { retried: result.eventIds.length, eventIds: result.eventIds };
}
