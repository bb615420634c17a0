/**
 * Ports: the managers' console reads: a device's activity, a conflict's events.
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
import type { ActivityEvent, DeviceActivity, PhotoSummary } from '../../contracts/activity.js';
import type { Tenant } from './tenancy.js';

/** Reads of the managers' console (shared/contracts/activity.ts) over a tenant's event log. Read-only. */
export interface ActivityStore {
  /** The device's newest `limit` batches, failed (or retryable rejected) events and photos. */
  deviceActivity(tenant: Tenant, deviceId: string, limit: number): Promise<DeviceActivity>;
  /** These events of the log (ids it does not have are absent). */
  events(tenant: Tenant, ids: string[]): Promise<ActivityEvent[]>;
  /**
   * Photos attached to a target, newest first: `type` and `id` as a conflict names its record (a RECORD is
   * `collection/id`, a PRODUCTION record `wellId|productionDate`).
   */
  photosOf(tenant: Tenant, target: { type: string; id: string }, limit: number): Promise<PhotoSummary[]>;
}
