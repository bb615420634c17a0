import type { Principal } from '../auth/principal.js';
import type { PullResponse } from '../contracts/pull.js';
import { DependencyUnavailableError, GoneError, ValidationError } from '../errors.js';
import type { DeviceStatusStore, EventLog, LogPosition, PullStore, Tenant } from '../ports.js';
import { type Cursor, comparePositions, decodeCursor, encodeCursor } from '../sync/cursor.js';
import type { Logger } from '../logger.js';
import { describeError } from '../redact.js';
import { checkDeviceAccess } from './device-access.js';

export interface PullDeps {
  pull: PullStore;
  eventLog: EventLog;
  devices: DeviceStatusStore;
  log: Logger;
  config: { pull: { productionDays: number; retentionDays: number } };
}

export interface PullQuery {
  deviceId: string;
  cursor?: string | undefined;
  limit: number;
}

/**
 * A page of what the device should download. Without a cursor: a snapshot (ACTIVE wells, their equipment,
 * users, recent production), paged by entity; then, from the position taken when the snapshot began,
 * every change since — so a client following nextCursor until hasMore is false has every change
 * committed before its first call, and none is skipped.
 *
 * The device must be the caller's (or not known yet); a manager may pull with another user's device id but
 * does not move that device's recorded position (device-access.ts). ForbiddenError otherwise.
 */
export async function pullPage(
  deps: PullDeps,
  tenant: Tenant,
  principal: Principal,
  query: PullQuery,
): Promise<PullResponse> {
  // First: another operator's pull must neither be served nor touch the device's lastPullAt/position.
  // With the device store down the owner is unknown: the page is still served (device status is derived
  // data, as below) but nothing is recorded, so no device can be moved by someone else.
  const access = await checkDeviceAccess(deps.devices, tenant, principal, query.deviceId, 'read').catch(
    (error: unknown) => {
      if (!(error instanceof DependencyUnavailableError)) throw error;
      deps.log.warn({ err: describeError(error) }, 'device owner unknown: the pull is not recorded');
      return { record: undefined, owns: false };
    },
  );
  const key = await deps.pull.cursorKey(tenant);
  const cursor = query.cursor === undefined ? undefined : decodeCursor(query.cursor, key);
  if (query.cursor !== undefined && (!cursor || cursor.t !== tenant.id)) {
    throw new ValidationError('the cursor is not valid for this tenant', [
      { path: 'cursor', message: 'not a cursor this server issued to this tenant (start again without one)' },
    ]);
  }
  if (cursor) {
    const pruned = await deps.pull.prunedThrough(tenant);
    if (comparePositions({ xid: cursor.x, seq: cursor.s }, pruned) < 0) {
      throw new GoneError(
        `the cursor is older than the ${deps.config.pull.retentionDays}-day change history; pull again without a cursor`,
        'RESYNC_REQUIRED',
      );
    }
  }

  type Body<C> = C extends Cursor ? Omit<C, 'v' | 't'> : never;
  const seal = (c: Body<Cursor>) => encodeCursor({ v: 1, t: tenant.id, ...c } as Cursor, key);
  let body: Omit<PullResponse, 'tenantId' | 'serverTime' | 'pendingEvents'>;
  let reached: LogPosition;
  if (!cursor || cursor.m === 's') {
    const boundary = cursor ? { xid: cursor.x, seq: cursor.s } : await deps.pull.snapshotBoundary(tenant);
    const since =
      cursor?.p ??
      new Date(Date.now() - deps.config.pull.productionDays * 86_400_000).toISOString().slice(0, 10);
    const { page, next } = await deps.pull.snapshotPage(
      tenant,
      cursor ? { typeIndex: cursor.i, afterId: cursor.a } : { typeIndex: 0, afterId: '' },
      query.limit,
      since,
    );
    reached = boundary;
    body = next
      ? {
          ...page,
          nextCursor: seal({
            m: 's',
            x: boundary.xid,
            s: boundary.seq,
            i: next.typeIndex,
            a: next.afterId,
            p: since,
          }),
          hasMore: true,
        }
      : {
          ...page,
          nextCursor: seal({ m: 'd', x: boundary.xid, s: boundary.seq }),
          hasMore: (await deps.pull.countChangesAfter(tenant, boundary, 1)) > 0,
        };
  } else {
    const page = await deps.pull.changesPage(tenant, { xid: cursor.x, seq: cursor.s }, query.limit);
    const { position, hasMore, ...entities } = page;
    reached = position;
    body = { ...entities, nextCursor: seal({ m: 'd', x: position.xid, s: position.seq }), hasMore };
  }

  const [counts] = await Promise.all([
    deps.eventLog.deviceCounts(tenant, query.deviceId),
    access.owns &&
      deps.devices
        .recordPull(tenant.id, {
          deviceId: query.deviceId,
          userId: principal.userId,
          at: new Date().toISOString(),
          position: reached,
        })
        // Status is derived data: a pull must not fail because its bookkeeping did.
        .catch((error: unknown) => deps.log.warn({ err: describeError(error) }, 'could not record the pull')),
  ]);
  return {
    tenantId: tenant.id,
    ...body,
    serverTime: new Date().toISOString(),
    pendingEvents: counts.pending,
  };
}
