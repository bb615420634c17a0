import { isManager, type Principal } from '../auth/principal.js';
import type { BatchOutcome, DeviceStatus } from '../contracts/sync.js';
import { NotFoundError } from '../errors.js';
import type { ConflictStore, DeviceStatusStore, EventLog, Tenant } from '../ports.js';

/**
 * A batch's outcome, for its own user or a manager. Someone else's batch is "not found", not "forbidden":
 * a batch id says nothing about whether it exists to those who may not see it.
 */
export async function getBatchOutcome(
  deps: { eventLog: EventLog },
  tenant: Tenant,
  principal: Principal,
  batchId: string,
): Promise<BatchOutcome> {
  const outcome = await deps.eventLog.batchOutcome(tenant, batchId);
  if (!outcome || (!isManager(principal) && outcome.userId !== principal.userId)) {
    throw new NotFoundError(`no batch ${batchId}`);
  }
  const { userId: _userId, ...rest } = outcome;
  return rest;
}

/** One device's sync status: identity and timestamps from Cosmos, live counts from the event log. */
export async function getDeviceStatus(
  deps: { devices: DeviceStatusStore; eventLog: EventLog; conflicts: ConflictStore },
  tenant: Tenant,
  principal: Principal,
  deviceId: string,
): Promise<DeviceStatus> {
  const [record, counts, openConflicts] = await Promise.all([
    deps.devices.get(tenant.id, deviceId),
    deps.eventLog.deviceCounts(tenant, deviceId),
    deps.conflicts.openForDevice(tenant, deviceId),
  ]);
  if (!record || (!isManager(principal) && record.userId !== principal.userId)) {
    throw new NotFoundError(`no device ${deviceId}`);
  }
  return {
    deviceId,
    userId: record.userId,
    platform: record.platform,
    appVersion: record.appVersion,
    lastPushAt: record.lastPushAt,
    lastPullAt: record.lastPullAt,
    lastSyncAt: record.lastSyncAt,
    pendingEvents: counts.pending,
    failedEvents: counts.failed,
    openConflicts,
    pendingPull: null,
    photos: { awaitingUpload: 0, attached: 0 },
  };
}
