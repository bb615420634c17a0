import { createHash } from 'node:crypto';
import type { HttpRequest } from '@azure/functions';
import type { App } from '../../app.js';
import type { Principal } from '../../auth/principal.js';
import type { PullResponse } from '../../contracts/pull.js';
import { ForbiddenError, GoneError, NotFoundError, ValidationError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { LogPosition, SyncPointHolder } from '../../usecases/ports/pull.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import { decodeCursor, encodeCursor } from '../../sync/cursor.js';
import { EMPTY_HASH } from '../../sync/held-set.js';
import { positionAtTime, pullPage } from '../../usecases/pull.js';
import { checkDeviceAccess } from '../../usecases/device-access.js';
import { pushBatch } from '../../usecases/push.js';
import { getDeviceStatus } from '../../usecases/sync-status.js';
import { waitForOriginalOutcomes } from '../../usecases/wait-for-batch.js';
import { entryEventId, entryToEvent, lastSyncOf, pushResponse, toUser, toWell } from './map.js';
import {
  lastSyncInstant,
  TENANT_SUBDOMAIN_HEADER,
  type WellpulsePullResponse,
  type WellpulsePushBody,
  type WellpulsePushResponse,
  type WellpulseStatusResponse,
} from './wire.js';

/*
 * Document 001's three routes as calls of the v1 use cases (pull.ts, push.ts + wait-for-batch.ts,
 * sync-status.ts): nothing here stores or merges anything itself.
 */

/**
 * `X-Tenant-Subdomain` (document "Headers"), when sent, must name the token's tenant: this deployment's
 * subdomain of a tenant is its id (compared case-insensitively, as host names are). ForbiddenError otherwise.
 */
export function checkTenantSubdomain(request: HttpRequest, tenant: Tenant): void {
  const subdomain = request.headers.get(TENANT_SUBDOMAIN_HEADER);
  if (subdomain !== null && subdomain.trim().toLowerCase() !== tenant.id.toLowerCase()) {
    throw new ForbiddenError('X-Tenant-Subdomain does not match the tenant of the token');
  }
}

/** How long a push waits for its entries to be processed: v1's longest `Prefer: wait` (SPEC "Push"). */
export const PUSH_WAIT_MS = 30_000;
/** v1 pull pages are read this large while a compat pull gathers everything (the v1 maximum). */
const PAGE = 1000;

/**
 * The device id a pull that names none is read with: one per user, never recorded (pull.ts `record: false`),
 * so no device appears for it.
 */
const anonymousDevice = (principal: Principal) =>
  `wellpulse-${createHash('sha256').update(`${principal.tenantId}|${principal.userId}`).digest('hex').slice(0, 32)}`;

/**
 * Where a pull with this `lastSync` starts: the position of the sync point issued to this holder at that
 * instant (exactly where its answer ended); for an instant never issued (client-made, or pruned), the
 * position of that time (usecases/pull.ts positionAtTime: before every change begun up to its overlap before
 * it); undefined — the full set — without `lastSync`, or for one older than the change history kept.
 */
async function startOf(
  app: App,
  tenant: Tenant,
  holder: SyncPointHolder,
  lastSync: string | undefined,
): Promise<LogPosition | undefined> {
  if (lastSync === undefined) return undefined;
  const instant = lastSyncInstant(lastSync);
  // The query schema lets only what lastSyncInstant reads through; this is its type's other half.
  if (!instant) {
    throw new ValidationError('the query is invalid', [
      { path: 'lastSync', message: 'must be an ISO 8601 date-time with Z or an offset' },
    ]);
  }
  const point = instant.exact ? await app.pull.findSyncPoint(tenant, holder, instant.ms) : undefined;
  return point ?? positionAtTime(app, tenant, instant.ms);
}

/**
 * GET /sync/pull (document "Pull Data"): every page of the v1 pull gathered into one answer — without
 * `lastSync`, the snapshot (ACTIVE wells, users); with one, the changes since (wells and users that changed,
 * a well that left ACTIVE with its new status). Records of collections are not asked for (`collections: []`).
 * `lastSyncTimestamp` is a plain ISO 8601 time to the millisecond (when the pull began; the next free
 * millisecond when this user's device already has a point there) standing for the position the answer
 * reached, kept server-side (compat_sync_points): sent back as `lastSync`, in any form of the same instant, it
 * resumes exactly there, so no change is skipped while others write. A `lastSync` never issued is read as
 * a time (startOf); one older than the change history (v1's 410) gets the full set again: the document's
 * client knows no 410, and a full set skips nothing.
 */
export async function wellpulsePull(
  app: App,
  log: Logger,
  tenant: Tenant,
  principal: Principal,
  query: { lastSync?: string | undefined; deviceId?: string | undefined },
): Promise<WellpulsePullResponse> {
  const startedAt = Date.now();
  const holder = { dialect: 'wellpulse', userId: principal.userId, deviceId: query.deviceId ?? '' };
  const key = await app.pull.cursorKey(tenant);
  const since = await startOf(app, tenant, holder, query.lastSync);
  const deps = { ...app, log };
  const base = {
    deviceId: query.deviceId ?? anonymousDevice(principal),
    record: query.deviceId !== undefined,
    limit: PAGE,
    collections: [] as string[],
  };
  const gather = async (cursor: string | undefined) => {
    const pages: PullResponse[] = [];
    for (let next = cursor; ;) {
      const page = await pullPage(deps, tenant, principal, { ...base, cursor: next });
      pages.push(page);
      if (!page.hasMore) return pages;
      next = page.nextCursor;
    }
  };
  const fromPosition = (p: LogPosition) =>
    encodeCursor({ v: 1, t: tenant.id, m: 'd', x: p.xid, s: p.seq, h: EMPTY_HASH }, key);
  let pages: PullResponse[];
  try {
    pages = await gather(since ? fromPosition(since) : undefined);
  } catch (error) {
    if (!(since && error instanceof GoneError)) throw error;
    pages = await gather(undefined);
  }
  const wells = new Map<string, WellpulsePullResponse['wells'][number]>();
  const users = new Map<string, WellpulsePullResponse['users'][number]>();
  for (const page of pages) {
    // A later page has the later state of an entity that changed twice.
    for (const well of page.wells) wells.set(well.id, toWell(well));
    for (const user of page.users) users.set(user.id, toUser(user));
  }
  const last = pages.at(-1);
  const reached = last ? decodeCursor(last.nextCursor, key) : undefined;
  // The last page's cursor is a plain delta cursor (no records held); anything else would be a change of the
  // v1 pull itself — then a time no point stands for, read as a time next time (an overlap, never a skip).
  const issued =
    reached?.m === 'd' && reached.o === undefined
      ? await app.pull.issueSyncPoint(tenant, holder, startedAt, { xid: reached.x, seq: reached.s })
      : startedAt;
  return {
    wells: [...wells.values()],
    users: [...users.values()],
    lastSyncTimestamp: new Date(issued).toISOString(),
    tenantId: tenant.id,
  };
}

/**
 * POST /sync/push (document "Push Data"): the entries become v1 events with stable ids (map.ts
 * entryEventId), go through the push use case like any batch, and the answer waits for their processing (the
 * document answers synchronously) up to {@link PUSH_WAIT_MS}; entries not processed by then are counted in
 * neither `succeeded` nor `failed` (they are stored; a re-push answers them as duplicates).
 */
export async function wellpulsePush(
  app: App,
  tenant: Tenant,
  principal: Principal,
  body: WellpulsePushBody,
  waitMillis = PUSH_WAIT_MS,
): Promise<WellpulsePushResponse> {
  if (body.entries.length === 0) {
    // An empty push is still checked as a push: another user's device is 403 (as v1 and WellOS).
    await checkDeviceAccess(app.devices, tenant, principal, body.deviceId, 'act');
    return { succeeded: 0, failed: 0, conflicts: [], errors: [], syncedAt: new Date().toISOString() };
  }
  const ids = body.entries.map((entry) => entryEventId(tenant.id, body.deviceId, entry));
  const events = body.entries.map((entry, index) => entryToEvent(ids[index] ?? '', entry));
  const result = await pushBatch(app, { tenant, principal, body: { deviceId: body.deviceId, events } });
  if (result.kind !== 'accepted') throw new Error('a push without Idempotency-Key was replayed');
  const { batchId } = result.response;
  // A re-pushed entry answers its original outcome (a refused one is refused again, not counted succeeded).
  const outcome = await waitForOriginalOutcomes(app, tenant, principal, body.deviceId, batchId, waitMillis);
  return pushResponse(body.entries, ids, outcome, new Date().toISOString());
}

/**
 * GET /sync/status (document "Sync Status"): `lastSyncAt` is the device's last pull or processed push
 * (map.ts lastSyncOf: a device that only pulled has synced), `pendingEntries`
 * the changes it has not pulled yet (v1 `pendingPull`; 0 until it pulls with its `deviceId`). A device the
 * server has never seen has not synced: `lastSyncAt` null (the document's type allows it), not a 404.
 */
export async function wellpulseStatus(
  app: App,
  tenant: Tenant,
  principal: Principal,
  deviceId: string,
): Promise<WellpulseStatusResponse> {
  try {
    const status = await getDeviceStatus(app, tenant, principal, deviceId);
    return { deviceId, lastSyncAt: lastSyncOf(status), pendingEntries: status.pendingPull ?? 0 };
  } catch (error) {
    if (error instanceof NotFoundError) return { deviceId, lastSyncAt: null, pendingEntries: 0 };
    throw error;
  }
}
