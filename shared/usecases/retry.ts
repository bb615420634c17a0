import { randomUUID } from 'node:crypto';
import { isManager, type Principal } from '../auth/principal.js';
import type { DeviceStatusStore, EventQueue, EventLog, Tenant } from '../ports.js';
import { checkDeviceAccess } from './device-access.js';
import { chunkMessages } from './push.js';

/**
 * Re-enqueues retryable events — FAILED ones, and REJECTED ones with `error.retryable` (PHOTO_NOT_UPLOADED,
 * TARGET_NOT_FOUND; docs/outcomes.md): a field user's own, or any for a manager. The events go back to
 * PENDING and onto the queue in one transaction; each retry's messages get fresh MessageIds (a retry is new
 * content for the queue's duplicate detection).
 * A `deviceId` must be the caller's own device, or any for a manager (ForbiddenError DEVICE_NOT_OWNED
 * otherwise, as on every route that takes a device id).
 */
export async function retryFailedEvents(
  deps: { eventLog: EventLog; queue: EventQueue; devices: Pick<DeviceStatusStore, 'get'> },
  tenant: Tenant,
  principal: Principal,
  request: { deviceId?: string | undefined; eventIds?: string[] | undefined },
): Promise<{ retried: number; eventIds: string[] }> {
  if (request.deviceId) {
    await checkDeviceAccess(deps.devices, tenant, principal, request.deviceId, 'read');
  }
  const retryId = randomUUID();
  const ids = await deps.eventLog.retryFailed(
    tenant,
    {
      ...(isManager(principal) ? {} : { userId: principal.userId }),
      ...(request.deviceId ? { deviceId: request.deviceId } : {}),
      ...(request.eventIds ? { eventIds: request.eventIds } : {}),
    },
    async (events) => {
      const byBatch = new Map<string, { deviceId: string; ids: string[] }>();
      for (const e of events) {
        const group = byBatch.get(e.batchId) ?? { deviceId: e.deviceId, ids: [] };
        group.ids.push(e.id);
        byBatch.set(e.batchId, group);
      }
      const messages = [...byBatch].flatMap(([batchId, group]) =>
        chunkMessages(
          { tenantId: tenant.id, batchId, deviceId: group.deviceId, reason: 'retry' },
          group.ids,
          retryId,
        ),
      );
      if (messages.length) await deps.queue.send(messages);
    },
  );
  return { retried: ids.length, eventIds: ids };
}
