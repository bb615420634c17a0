import { isManager, type Principal } from '../auth/principal.js';
import type { BatchOutcome, DeviceStatus } from '../contracts/sync.js';
import { NotFoundError } from '../errors.js';
import { checkDeviceAccess } from './device-access.js';
import { NO_COUNTS } from './devices.js';
import type { DeviceStatusStore } from './ports/devices.js';
import type { EventLog, RecordEventRow } from './ports/event-log.js';
import type { PullStore } from './ports/pull.js';
import type { SyncStatsStore } from './ports/stats.js';
import type { Tenant } from './ports/tenancy.js';

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

/**
 * One device's sync status, for its owner or a manager (anyone else: ForbiddenError DEVICE_NOT_OWNED; an
 * unknown device: NotFoundError). Identity and timestamps from Cosmos; counts from the tenant database in the
 * same single statement the devices list uses (stats.deviceCounts), so the two routes cannot disagree.
 */
export async function getDeviceStatus(
  deps: {
    devices: DeviceStatusStore;
    stats: SyncStatsStore;
    /** The change log; without it pendingPull is null. */
    pull?: PullStore;
  },
  tenant: Tenant,
  principal: Principal,
  deviceId: string,
): Promise<DeviceStatus> {
  const [{ record }, all] = await Promise.all([
    checkDeviceAccess(deps.devices, tenant, principal, deviceId, 'read'),
    deps.stats.deviceCounts(tenant, deviceId),
  ]);
  const counts = all.get(deviceId) ?? NO_COUNTS;
  if (!record) throw new NotFoundError(`no device ${deviceId}`);
  // Changes the device has not pulled yet, counted up to a cap (a device far behind just needs a sync):
  // only those its next delta would send — record changes of its own collections and scopes.
  const pendingPull =
    record.pullPosition && deps.pull
      ? await deps.pull.countChangesAfter(tenant, record.pullPosition, 10_000, record.heldSet ?? undefined)
      : null;
  return {
    deviceId,
    userId: record.userId,
    platform: record.platform,
    appVersion: record.appVersion,
    lastPushAt: record.lastPushAt,
    lastPullAt: record.lastPullAt,
    lastSyncAt: record.lastSyncAt,
    schemaVersion: record.schemaVersion,
    pendingEvents: counts.pendingEvents,
    failedEvents: counts.failedEvents,
    openConflicts: counts.openConflicts,
    openConflictsBySide: { ...counts.openConflictsBySide },
    pendingPull,
    photos: { ...counts.photos },
  };
}

/**
 * Record events (RECORD_*) not synced yet — PENDING, FAILED, REJECTED, or CONFLICT with an OPEN conflict —
 * of one device (its owner or a manager: ForbiddenError DEVICE_NOT_OWNED otherwise) or, without a device,
 * of the caller; a field user only ever sees their own events. At most `limit` (≤ 1000), oldest first.
 */
export async function listUnsettledRecordEvents(
  deps: { eventLog: EventLog; devices: DeviceStatusStore },
  tenant: Tenant,
  principal: Principal,
  request: { deviceId?: string | undefined; limit: number },
): Promise<RecordEventRow[]> {
  if (request.deviceId) await checkDeviceAccess(deps.devices, tenant, principal, request.deviceId, 'read');
  return deps.eventLog.recordEvents(tenant, {
    unsettledOnly: true,
    limit: request.limit,
    ...(request.deviceId ? { deviceId: request.deviceId } : {}),
    ...(!request.deviceId || !isManager(principal) ? { userId: principal.userId } : {}),
  });
}

/**
 * One record event by id, for its own user or a manager. Someone else's event is "not found" (NotFoundError),
 * as a batch is: an event id says nothing about whether it exists to those who may not see it.
 */
export async function getRecordEvent(
  deps: { eventLog: EventLog },
  tenant: Tenant,
  principal: Principal,
  eventId: string,
): Promise<RecordEventRow> {
  const row = await findRecordEvent(deps, tenant, principal, eventId);
  if (!row) throw new NotFoundError(`no queued operation ${eventId}`);
  return row;
}

/**
 * As getRecordEvent, but undefined when the tenant has no record event of that id at all (someone else's is
 * still NotFoundError): for a caller that treats an id the server never gave in its own way (compat/clinic's
 * resolve by a client's local id).
 */
export async function findRecordEvent(
  deps: { eventLog: EventLog },
  tenant: Tenant,
  principal: Principal,
  eventId: string,
): Promise<RecordEventRow | undefined> {
  const [row] = await deps.eventLog.recordEvents(tenant, { ids: [eventId], limit: 1 });
  if (!row) return undefined;
  if (!isManager(principal) && row.userId !== principal.userId) {
    throw new NotFoundError(`no queued operation ${eventId}`);
  }
  return row;
}

/**
 * The caller's own most recent push: the record events of theirs it named (recorded or duplicate), how many
 * events it named in all, and `tied` when another push of theirs was received at the same instant (then no
 * single push is the most recent). Undefined when they never pushed. Only ever the caller's own events, manager
 * or not. For compat/clinic's resolve by a local id (docs/compat/clinic.md "Item ids").
 */
export async function latestPushOf(
  deps: { eventLog: EventLog },
  tenant: Tenant,
  principal: Principal,
): Promise<{ events: RecordEventRow[]; eventCount: number; tied: boolean } | undefined> {
  const [latest, previous] = await deps.eventLog.latestPushes(tenant, principal.userId, 2);
  if (!latest) return undefined;
  const events = latest.eventIds.length
    ? await deps.eventLog.recordEvents(tenant, {
        ids: latest.eventIds,
        userId: principal.userId,
        limit: Math.min(latest.eventIds.length, 1000),
      })
    : [];
  return { events, eventCount: latest.eventIds.length, tied: previous?.receivedAt === latest.receivedAt };
}

/**
 * A batch outcome in which each DUPLICATE stands for what the processor made of the event it repeats (that
 * event of the same device, by id): APPLIED, CONFLICT with its report, REJECTED or FAILED with its error, or
 * PENDING while the first send is still being processed. A duplicate whose original the device does not have
 * (another device's event) stays DUPLICATE. For the compat routes whose documents answer a re-sent operation
 * with its original outcome — a re-sent conflicted event is a conflict again, a refused one refused again
 * (docs/compat.md "What every dialect shares"); v1 itself answers DUPLICATE (docs/outcomes.md).
 */
export async function withOriginalOutcomes<T extends Pick<BatchOutcome, 'events'>>(
  deps: { eventLog: EventLog },
  tenant: Tenant,
  deviceId: string,
  outcome: T,
): Promise<T> {
  const duplicates = [
    ...new Set(
      outcome.events.flatMap((e) => (e.status === 'DUPLICATE' && e.eventId ? [e.eventId.toLowerCase()] : [])),
    ),
  ];
  if (!duplicates.length) return outcome;
  const originals = await deps.eventLog.outcomesOf(tenant, deviceId, duplicates);
  const byId = new Map(originals.flatMap((o) => (o.eventId ? [[o.eventId.toLowerCase(), o] as const] : [])));
  return {
    ...outcome,
    events: outcome.events.map((e) =>
      e.status === 'DUPLICATE' && e.eventId
        ? { ...(byId.get(e.eventId.toLowerCase()) ?? e), eventId: e.eventId }
        : e,
    ),
  };
}
