import { isManager, type Principal } from '../auth/principal.js';
import type { BatchOutcome, DeviceStatus } from '../contracts/sync.js';
import { NotFoundError } from '../errors.js';
import type {
  ConflictStore,
  DeviceStatusStore,
  EventLog,
  PullStore,
  PhotoRecords,
  Tenant,
} from '../ports.js';

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
  deps: {
    devices: DeviceStatusStore;
    eventLog: EventLog;
    conflicts: ConflictStore;
    /** The tenant's photo rows; without it the photo counts are 0. */
    photoRecords?: PhotoRecords;
    /** The change log; without it pendingPull is null. */
    pull?: PullStore;
  },
  tenant: Tenant,
  principal: Principal,
  deviceId: string,
): Promise<DeviceStatus> {
  const [record, counts, openConflicts, photos] = await Promise.all([
    deps.devices.get(tenant.id, deviceId),
    deps.eventLog.deviceCounts(tenant, deviceId),
    deps.conflicts.openForDevice(tenant, deviceId),
    deps.photoRecords?.countsForDevice(tenant, deviceId) ?? { awaitingUpload: 0, attached: 0 },
  ]);
  if (!record || (!isManager(principal) && record.userId !== principal.userId)) {
    throw new NotFoundError(`no device ${deviceId}`);
  }
  // Changes the device has not pulled yet, counted up to a cap (a device far behind just needs a sync).
  const pendingPull =
    record.pullPosition && deps.pull
      ? await deps.pull.countChangesAfter(tenant, record.pullPosition, 10_000)
      : null;
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
    pendingPull,
    photos,
  };
}
