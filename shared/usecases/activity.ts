import type { ConflictDetail, DeviceActivity } from '../contracts/activity.js';
import { NotFoundError } from '../errors.js';
import type { ActivityStore } from './ports/activity.js';
import type { ConflictStore } from './ports/conflicts.js';
import type { Tenant } from './ports/tenancy.js';

/** Photos shown with a conflict's record (the newest). */
const CONFLICT_PHOTOS = 24;

/** A device's recent batches, failed events and photos (GET /v1/devices/{deviceId}/activity). */
export const deviceActivity = (
  deps: { activity: ActivityStore },
  tenant: Tenant,
  deviceId: string,
  limit: number,
): Promise<DeviceActivity> => deps.activity.deviceActivity(tenant, deviceId, limit);

/**
 * One conflict with both sides' events (the conflict's own event is the CLIENT side, the other event the
 * SERVER side) and the photos attached to its record (GET /v1/conflicts/{id}). Throws NotFoundError.
 */
export async function conflictDetail(
  deps: { activity: ActivityStore; conflicts: ConflictStore },
  tenant: Tenant,
  id: string,
): Promise<ConflictDetail> {
  const conflict = await deps.conflicts.get(tenant, id);
  if (!conflict) throw new NotFoundError(`no conflict ${id}`);
  const ids = [conflict.eventId, ...(conflict.otherEventId ? [conflict.otherEventId] : [])];
  const [events, photos] = await Promise.all([
    deps.activity.events(tenant, ids),
    deps.activity.photosOf(tenant, { type: conflict.recordType, id: conflict.recordKey }, CONFLICT_PHOTOS),
  ]);
  return {
    conflict,
    events: events.map((event) => ({
      ...event,
      side: event.eventId === conflict.eventId ? ('CLIENT' as const) : ('SERVER' as const),
    })),
    photos,
  };
}
