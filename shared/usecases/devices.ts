import type { DeviceList, DeviceListItem } from '../contracts/manager.js';
import type { DeviceCounts, DeviceRecord, DeviceStatusStore } from './ports/devices.js';
import type { SyncStatsStore } from './ports/stats.js';
import type { Tenant } from './ports/tenancy.js';

/** A device with no rows in the tenant database yet. */
export const NO_COUNTS: DeviceCounts = {
  pendingEvents: 0,
  failedEvents: 0,
  openConflicts: 0,
  openConflictsBySide: { lost: 0, won: 0, held: 0 },
  photos: { awaitingUpload: 0, attached: 0 },
};

/** Stale: the last sync (or, for a device that never finished one, its last push) is older than the cutoff. */
export const isStale = (device: Pick<DeviceRecord, 'lastSyncAt' | 'lastPushAt'>, cutoff: Date): boolean => {
  const last = device.lastSyncAt ?? device.lastPushAt;
  return last === null || new Date(last).getTime() < cutoff.getTime();
};

/**
 * Every device of the tenant: identity and timestamps from the device store (Cosmos), counts from the
 * tenant database in one grouped query for all devices, read side by side.
 */
export async function listDevices(
  deps: { devices: DeviceStatusStore; stats: SyncStatsStore },
  tenant: Tenant,
  options: { staleAfterHours: number; now?: Date },
): Promise<DeviceList> {
  const now = options.now ?? new Date();
  const cutoff = new Date(now.getTime() - options.staleAfterHours * 3_600_000);
  const [records, counts] = await Promise.all([
    deps.devices.list(tenant.id),
    deps.stats.deviceCounts(tenant),
  ]);
  const devices = records.map((record): DeviceListItem => {
    const c = counts.get(record.deviceId) ?? NO_COUNTS;
    return {
      deviceId: record.deviceId,
      userId: record.userId || null,
      platform: record.platform,
      appVersion: record.appVersion,
      lastPushAt: record.lastPushAt,
      lastPullAt: record.lastPullAt,
      lastSyncAt: record.lastSyncAt,
      schemaVersion: record.schemaVersion,
      pendingEvents: c.pendingEvents,
      failedEvents: c.failedEvents,
      openConflicts: c.openConflicts,
      openConflictsBySide: { ...c.openConflictsBySide },
      // Counting a device's unpulled changes is one change-log scan per device: left to GET /v1/sync/status.
      pendingPull: null,
      photos: { ...c.photos },
      stale: isStale(record, cutoff),
    };
  });
  return { devices, staleAfterHours: options.staleAfterHours, generatedAt: now.toISOString() };
}
