import { isManager, type Principal } from '../auth/principal.js';
import type { PullResponse } from '../contracts/pull.js';
import { DependencyUnavailableError, GoneError, ValidationError } from '../errors.js';
import type { DeviceStatusStore } from './ports/devices.js';
import type { EventLog } from './ports/event-log.js';
import type { LogPosition, PullStore } from './ports/pull.js';
import type { ScopeGrantStore } from './ports/scopes.js';
import type { Tenant } from './ports/tenancy.js';
import { type Cursor, comparePositions, decodeCursor, encodeCursor } from '../sync/cursor.js';
import {
  EMPTY_HASH,
  EMPTY_SET,
  effectiveSet,
  type HeldSet,
  type HeldState,
  heldSetHash,
  interrupted,
  transition,
} from '../sync/held-set.js';
import type { Logger } from '../logger.js';
import { describeError } from '../redact.js';
import { checkDeviceAccess } from './device-access.js';
import type { RecordSchemas } from '../schema/validator.js';

export interface PullDeps {
  pull: PullStore;
  scopes: ScopeGrantStore;
  eventLog: EventLog;
  devices: DeviceStatusStore;
  log: Logger;
  config: { pull: { productionDays: number; retentionDays: number } };
  /** The tenant's compiled collections (to leave cleared fields out of pulled records); absent: sent as stored. */
  recordSchemas?: (tenant: Tenant) => Promise<RecordSchemas>;
}

export interface PullQuery {
  deviceId: string;
  cursor?: string | undefined;
  limit: number;
  /** Collections whose records the device holds (default: every collection of the tenant's schema). */
  collections?: string[] | undefined;
  /** Scopes the device holds (default: every scope the caller may read); unreadable ones are left out. */
  scopes?: string[] | undefined;
  /**
   * false: the page is served but not recorded on the device (no lastPullAt, no position) — for a compat
   * pull that names no device (docs/compat/wellpulse.md). Default true.
   */
  record?: boolean | undefined;
}

/**
 * How far before a client-sent time a pull starts: a change is stamped when its transaction begins, so a
 * transaction begun before the time may commit after it; one running longer than this (15 min) and
 * committing after the time is the only change a pull from a time can miss (docs/compat/wellpulse.md).
 */
export const TIME_SINCE_OVERLAP_MS = 15 * 60_000;

/**
 * The change-log position a pull "since a time" starts from, for a time the client holds rather than a cursor
 * (compat dialects whose clients send a time back: document 001's never-issued `lastSync`, document 002's
 * `since`): before every change of a transaction begun up to {@link TIME_SINCE_OVERLAP_MS} before `atMs` (a
 * time later than now counts as now), and before every transaction still running (PullStore.positionBefore).
 * A delta from it gives every change and deletion committed after `atMs` (some earlier ones again).
 * Undefined when that is older than the change history kept (`config.pull.retentionDays`): the caller
 * answers in full.
 */
export async function positionAtTime(
  deps: Pick<PullDeps, 'pull' | 'config'>,
  tenant: Tenant,
  atMs: number,
  now = Date.now(),
): Promise<LogPosition | undefined> {
  const from = Math.min(atMs, now) - TIME_SINCE_OVERLAP_MS;
  if (from < now - deps.config.pull.retentionDays * 86_400_000) return undefined;
  return deps.pull.positionBefore(tenant, new Date(from));
}

/**
 * A page of what the device should download. Without a cursor: a snapshot (ACTIVE wells, their equipment,
 * users, recent production, then the records of the device's held set), paged by entity; then, from the
 * position taken when the snapshot began, every change since — so a client following nextCursor until
 * hasMore is false has every change committed before its first call, and none is skipped.
 *
 * Records (SPEC v1.1 "Scopes"): the held set is `collections` × (`scopes` ∩ what the caller may read), computed
 * on every page; when it differs from the one the cursor names, the records that left it come as deletions and
 * those that joined as a snapshot before the delta goes on (docs/selective-sync.md). ValidationError for an
 * unknown collection; GoneError RESYNC_REQUIRED for a cursor older than the change history.
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

  // What this device is to hold now: its request, narrowed to what the caller may read at this moment.
  const [schema, readable] = await Promise.all([
    deps.pull.syncSchema(tenant),
    isManager(principal) ? Promise.resolve(null) : deps.scopes.scopesOf(tenant, principal.userId),
  ]);
  const known = new Set(schema.collections.map((c) => c.name));
  const unknown = (query.collections ?? []).filter((c) => !known.has(c));
  if (unknown.length) {
    throw new ValidationError('unknown collections', [
      { path: 'collections', message: `not a collection of this tenant: ${unknown.join(', ')}` },
    ]);
  }
  const target = effectiveSet({
    requestedCollections: query.collections,
    requestedScopes: query.scopes,
    tenantCollections: [...known],
    readable,
  });
  const targetHash = heldSetHash(target);

  type Body<C> = C extends Cursor ? Omit<C, 'v' | 't'> : never;
  // The last cursor issued names the set the device's next delta watches: recorded with the position, so
  // device status counts only the changes that delta would send (pendingPull).
  let issued: Body<Cursor> | undefined;
  const seal = (c: Body<Cursor>) => {
    issued = c;
    return encodeCursor({ v: 1, t: tenant.id, ...c } as Cursor, key);
  };
  const sets = new HeldSets(deps.pull, tenant, { hash: targetHash, set: target });
  let body: Omit<PullResponse, 'tenantId' | 'serverTime' | 'pendingEvents' | 'schemaVersion'>;
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
    if (next) {
      body = {
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
      };
    } else {
      // The v1 entities are done: the records of the held set follow as a snapshot (a change of held set
      // from nothing), then the delta from the boundary.
      const taken = page.wells.length + page.equipment.length + page.users.length + page.production.length;
      const rest = await reconcilePage(
        deps,
        tenant,
        sets,
        {
          position: boundary,
          target: sets.target,
          state: { sure: EMPTY, maybe: EMPTY },
          phase: 'add',
          after: START,
        },
        query.limit - taken,
        seal,
      );
      body = {
        ...page,
        records: rest.records,
        deleted: rest.deleted,
        nextCursor: rest.nextCursor,
        hasMore: rest.hasMore,
      };
    }
  } else {
    const position = { xid: cursor.x, seq: cursor.s };
    const change = await heldSetChange(cursor, sets);
    if (change) {
      reached = position;
      body = { ...EMPTY_PAGE, ...(await reconcilePage(deps, tenant, sets, change, query.limit, seal)) };
    } else {
      // heldSetChange answers every reconciliation cursor: only a delta cursor holding its target is left.
      if (cursor.m !== 'd') throw new Error('a reconciliation cursor without its change');
      const [watch] = await sets.load([cursor.o ?? targetHash] as const);
      const [page] = await Promise.all([
        deps.pull.changesPage(tenant, position, query.limit, { target, watch: watch.set }),
        sets.touch(),
      ]);
      const { position: next, hasMore, ...entities } = page;
      reached = next;
      // The wider watch ends once every transaction that ran while the change settled is behind the cursor.
      const keep = cursor.o !== undefined && cursor.u !== undefined && BigInt(next.xid) < BigInt(cursor.u);
      body = {
        ...entities,
        nextCursor: seal({
          m: 'd',
          x: next.xid,
          s: next.seq,
          h: targetHash,
          ...(keep ? { o: cursor.o, u: cursor.u } : {}),
        }),
        hasMore,
      };
    }
  }

  const [counts] = await Promise.all([
    deps.eventLog.deviceCounts(tenant, query.deviceId),
    access.owns &&
      query.record !== false &&
      deps.devices
        .recordPull(tenant.id, {
          deviceId: query.deviceId,
          userId: principal.userId,
          at: new Date().toISOString(),
          position: reached,
          schemaVersion: schema.schemaVersion,
          heldSet: watchedBy(issued) ?? targetHash,
        })
        // Status is derived data: a pull must not fail because its bookkeeping did.
        .catch((error: unknown) => deps.log.warn({ err: describeError(error) }, 'could not record the pull')),
  ]);
  // A field an update cleared (null, where its schema does not accept null) is not sent: the record stays
  // valid for the schema the device is told about.
  if (body.records.length > 0 && deps.recordSchemas) {
    const schemas = await deps.recordSchemas(tenant);
    body.records = body.records.map((r) => {
      const found = schemas.lookup(r.collection);
      return found.kind === 'collection' ? { ...r, data: found.validator.present(r.data) } : r;
    });
  }
  return {
    tenantId: tenant.id,
    ...body,
    schemaVersion: schema.schemaVersion,
    serverTime: new Date().toISOString(),
    pendingEvents: counts.pending,
  };
}

/**
 * The set a delta from this cursor's position watches: a delta cursor's wider set while a change settles,
 * else its own; undefined for a snapshot or a change of set (those head for the target).
 */
function watchedBy(cursor: { m: string; h?: string; o?: string } | undefined): string | undefined {
  if (cursor?.m !== 'd') return undefined;
  return cursor.o ?? cursor.h ?? EMPTY_HASH;
}

const EMPTY = { hash: EMPTY_HASH, set: EMPTY_SET };
const named = (state: HeldState) => ({
  sure: { hash: heldSetHash(state.sure), set: state.sure },
  maybe: { hash: heldSetHash(state.maybe), set: state.maybe },
});
const START = { collection: '', id: '' };

interface NamedSet {
  hash: string;
  set: HeldSet;
}

/** Held sets by hash for one pull: the target is known, the empty set needs no lookup, others are loaded. */
class HeldSets {
  constructor(
    private readonly store: PullStore,
    private readonly tenant: Tenant,
    readonly target: NamedSet,
  ) {}

  /** The sets of these hashes; 410 RESYNC_REQUIRED when one was pruned (its cursor is too old). */
  async load<T extends readonly string[]>(hashes: T): Promise<{ [K in keyof T]: NamedSet }> {
    const missing = hashes.filter((h) => h !== EMPTY_HASH && h !== this.target.hash);
    const found = await this.store.loadHeldSets(this.tenant, [...new Set(missing)]);
    return hashes.map((hash): NamedSet => {
      if (hash === EMPTY_HASH) return EMPTY;
      if (hash === this.target.hash) return this.target;
      const set = found.get(hash);
      if (!set) {
        throw new GoneError(
          'the cursor names a selection of collections and scopes no longer kept; pull again without a cursor',
          'RESYNC_REQUIRED',
        );
      }
      return { hash, set };
    }) as { [K in keyof T]: NamedSet };
  }

  /** Stores sets a cursor is about to name. */
  save(named: NamedSet[]): Promise<void> {
    return this.store.saveHeldSets(
      this.tenant,
      named.filter((n) => n.hash !== EMPTY_HASH),
    );
  }

  /** Keeps the target from being pruned while cursors still name it (a write at most daily). */
  touch(): Promise<void> {
    return this.target.hash === EMPTY_HASH ? Promise.resolve() : this.save([this.target]);
  }
}

const EMPTY_PAGE = { wells: [], equipment: [], users: [], production: [], records: [], deleted: [] };

/**
 * The change of held set a delta or reconciliation cursor is in, or undefined when the device holds the
 * target already (a plain delta page). A reconciliation cursor asked for another set than its target starts
 * again towards the new one, from what the device surely and possibly has by now.
 */
async function heldSetChange(
  cursor: Extract<Cursor, { m: 'r' | 'd' }>,
  sets: HeldSets,
): Promise<Reconciliation | undefined> {
  const position = { xid: cursor.x, seq: cursor.s };
  if (cursor.m === 'r') {
    const [held, sure, maybe] = await sets.load([cursor.h, cursor.k, cursor.o] as const);
    const resumed = cursor.h === sets.target.hash;
    return {
      position,
      target: sets.target,
      state: resumed ? { sure, maybe } : named(interrupted({ sure: sure.set, maybe: maybe.set }, held.set)),
      phase: resumed ? cursor.f : 'del',
      after: resumed ? { collection: cursor.c, id: cursor.a } : START,
    };
  }
  const heldHash = cursor.h ?? EMPTY_HASH;
  if (heldHash === sets.target.hash) return undefined;
  // The device surely has its set; while an earlier change settles it may also have some of the wider one.
  const [held, watched] = await sets.load([heldHash, cursor.o ?? heldHash] as const);
  return { position, target: sets.target, state: { sure: held, maybe: watched }, phase: 'del', after: START };
}

interface Reconciliation {
  /** The delta resumes here once the change is through. */
  position: LogPosition;
  target: NamedSet;
  state: { sure: NamedSet; maybe: NamedSet };
  phase: 'del' | 'add';
  after: { collection: string; id: string };
}

/**
 * A page of a change of held set (docs/selective-sync.md): first the records of `maybe` that are not in the
 * target, as deletions, then the records of the target that are not in `sure`, as a snapshot — each paged by
 * (collection, id) and read as they are now — then the delta from the cursor's position, watching the hull
 * of both sets until every transaction that ran meanwhile is behind it.
 */
async function reconcilePage(
  deps: PullDeps,
  tenant: Tenant,
  sets: HeldSets,
  r: Reconciliation,
  limit: number,
  seal: (
    c: Omit<Extract<Cursor, { m: 'r' }>, 'v' | 't'> | Omit<Extract<Cursor, { m: 'd' }>, 'v' | 't'>,
  ) => string,
): Promise<Pick<PullResponse, 'records' | 'deleted' | 'nextCursor' | 'hasMore'>> {
  const state: HeldState = { sure: r.state.sure.set, maybe: r.state.maybe.set };
  const plan = transition(state, r.target.set);
  const records: PullResponse['records'] = [];
  const deleted: PullResponse['deleted'] = [];
  let remaining = Math.max(limit, 0);
  let phase = r.phase;
  let after = r.after;
  const pause = async () => {
    await sets.save([r.target, r.state.sure, r.state.maybe]);
    return {
      records,
      deleted,
      nextCursor: seal({
        m: 'r',
        x: r.position.xid,
        s: r.position.seq,
        h: r.target.hash,
        k: r.state.sure.hash,
        o: r.state.maybe.hash,
        f: phase,
        c: after.collection,
        a: after.id,
      }),
      hasMore: true,
    };
  };
  if (phase === 'del') {
    const rows = await deps.pull.recordsPage(tenant, plan.remove, after, remaining + 1);
    const taken = rows.slice(0, remaining);
    for (const row of taken) deleted.push({ type: 'RECORD', collection: row.collection, id: row.id });
    const last = taken.at(-1);
    if (last) after = { collection: last.collection, id: last.id };
    if (rows.length > taken.length) return pause();
    remaining -= taken.length;
    phase = 'add';
    after = START;
  }
  const rows = await deps.pull.recordsPage(tenant, plan.add, after, remaining + 1);
  const taken = rows.slice(0, remaining);
  records.push(...taken);
  const last = taken.at(-1);
  if (last) after = { collection: last.collection, id: last.id };
  if (rows.length > taken.length) return pause();

  const watch = { hash: heldSetHash(plan.watch), set: plan.watch };
  const widened = watch.hash !== r.target.hash;
  const [until] = await Promise.all([
    widened ? deps.pull.nextXid(tenant) : Promise.resolve(undefined),
    sets.save(widened ? [r.target, watch] : [r.target]),
  ]);
  return {
    records,
    deleted,
    nextCursor: seal({
      m: 'd',
      x: r.position.xid,
      s: r.position.seq,
      h: r.target.hash,
      ...(widened && until ? { o: watch.hash, u: until } : {}),
    }),
    hasMore: (await deps.pull.countChangesAfter(tenant, r.position, 1)) > 0,
  };
}
