/**
 * Ports: device status documents (Cosmos) and the counts derived from Postgres.
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
export interface DeviceRecord {
  tenantId: string;
  deviceId: string;
  userId: string;
  platform: string | null;
  appVersion: string | null;
  lastPushAt: string | null;
  lastPullAt: string | null;
  lastSyncAt: string | null;
  /** Where the device's last pull ended in the change log (for pendingPull). */
  pullPosition: { xid: string; seq: string } | null;
  /**
   * The hash of the held set (collections × scopes, shared/sync/held-set.ts) the device's next delta from
   * `pullPosition` watches: pendingPull counts only the record changes that delta would send. Null for a
   * pull recorded before it was kept (pendingPull then counts every change-log row).
   */
  heldSet: string | null;
  /** The tenant's sync-schema version served on the device's last pull (SPEC v1.1 "Collections"); null before one. */
  schemaVersion: number | null;
}

/**
 * Device sync status (Cosmos DB): one document per (tenant, device). recordPush/recordPull set `userId`, the
 * device's owner: callers check ownership first (usecases/device-access.ts).
 */
/** A pull page served to a device, as its status records it. */
export interface RecordedPull {
  deviceId: string;
  userId: string;
  at: string;
  position: { xid: string; seq: string };
  /** The schema version the page was served with (absent: left as it was). */
  schemaVersion?: number;
  /** The hash of the held set the next delta from `position` watches (absent: stored as null). */
  heldSet?: string;
}

export interface DeviceStatusStore {
  recordPush(
    tenantId: string,
    push: { deviceId: string; userId: string; platform?: string; appVersion?: string; at: string },
  ): Promise<void>;
  recordPull(tenantId: string, pull: RecordedPull): Promise<void>;
  /** The device's pushed events have all been settled (lastSyncAt). */
  recordSynced(tenantId: string, deviceId: string, at: string): Promise<void>;
  get(tenantId: string, deviceId: string): Promise<DeviceRecord | undefined>;
  list(tenantId: string): Promise<DeviceRecord[]>;
}

/** Per-device counts from the tenant database, for device status. */
export interface DeviceCounts {
  pendingEvents: number;
  failedEvents: number;
  /**
   * OPEN conflicts (the managers' inbox: held, or settled by a strategy and not reviewed) in which one of the
   * device's events is either side (the event that lost or was held, or the event the record kept).
   */
  openConflicts: number;
  /** openConflicts split by where the device stands (they add up to it); see deviceCountsSql. */
  openConflictsBySide: { lost: number; won: number; held: number };
  photos: { awaitingUpload: number; attached: number };
}
