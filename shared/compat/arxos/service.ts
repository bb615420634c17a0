import type { Principal } from '../../auth/principal.js';
import type { BatchOutcome, ConflictReport, EventError } from '../../contracts/sync.js';
import type { RecordEntity } from '../../contracts/pull.js';
import { type FieldError, ForbiddenError, GoneError, NotFoundError, ValidationError } from '../../errors.js';
import type { EventLog } from '../../usecases/ports/event-log.js';
import type { StoredRecord } from '../../usecases/ports/pull.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import { canonicalJson } from '../../sync/canonical.js';
import { pushBatch, type PushDeps } from '../../usecases/push.js';
import { positionAtTime, pullPage, type PullDeps } from '../../usecases/pull.js';
import { encodeCursor } from '../../sync/cursor.js';
import { heldSet, heldSetHash } from '../../sync/held-set.js';
import { liveRecordsIn, readableScopes, readRecords, type RecordReadDeps } from '../../usecases/records.js';
import { waitForOriginalOutcomes } from '../../usecases/wait-for-batch.js';
import {
  COLLECTION_OF,
  docFields,
  docPath,
  type EntityType,
  eventIdFor,
  fromDocument,
  type MappedPayload,
  type Operation,
  type Since,
  toDocument,
} from './mapping.js';

/** What the arxos translators need of the app: the push, batch-outcome and record-read use cases' ports. */
export type ArxosDeps = PushDeps & RecordReadDeps & { eventLog: EventLog };

/** One of the document's operations (a sync_queue row, or a per-entity request). */
export interface OperationInput {
  entity: EntityType;
  entityId: string;
  operation: Operation;
  payload: Record<string, unknown>;
  /** `local_time` (RFC 3339, UTC): when the client made the change. */
  localTime?: string | undefined;
  /** JSON path prefix of the payload in the request, for error paths ('' when the body is the payload). */
  path: string;
}

/** How one operation ended, in the document's terms. */
export type OperationResult =
  | { kind: 'success'; record?: StoredRecord | undefined }
  | {
      kind: 'conflict';
      /** The document's names of the fields in conflict. */
      fields: string[];
      resolution: 'server_wins' | 'merged' | 'pending_review';
      /** The server's record now (absent when the caller may not read it, or it is gone). */
      server?: StoredRecord | undefined;
    }
  | { kind: 'error'; code: string; message: string; retryable: boolean; errors?: FieldError[] }
  /** Not processed within the wait: in none of the document's lists; sent again, it comes back as a duplicate. */
  | { kind: 'pending' };

const key = (entity: EntityType, id: string) => `${COLLECTION_OF[entity]}/${id}`;

const RESOLUTION = {
  SERVER_WINS: 'server_wins',
  MERGED: 'merged',
  PENDING_REVIEW: 'pending_review',
} as const;

interface Planned {
  input: OperationInput;
  mapped?: MappedPayload;
  event?: { id: string; type: string; occurredAt: string; payload: Record<string, unknown> };
  result?: OperationResult;
}

/**
 * Runs the document's operations through the push use case as RECORD_CREATED / RECORD_UPDATED /
 * RECORD_DELETED events of the facilities pack, waits up to `waitMillis` for their outcome (wait-for-batch) and
 * maps each outcome back, in order. Rules (docs/compat/arxos.md):
 * - an update is based on the payload's `version`; without one, on the server's current version. Fields equal
 *   to the server's current values are left out (the client sends its whole cached row);
 * - `force: true`: based on the current version and stamped with the server's time, so it wins every field it
 *   names (LWW by time, SPEC "Conflicts");
 * - the time of an edit is `local_time`, else the payload's `updated_at`, else now;
 * - each event's id is derived from what was sent (mapping.ts `eventIdFor`), so a re-sent operation is a
 *   duplicate, never applied twice, and answered with the outcome of the first time;
 * - a conflict the client's values won (CLIENT_WINS) is a success; SERVER_WINS, MERGED and PENDING_REVIEW (a
 *   MANUAL collection) are conflicts carrying the server's record as it is now.
 * A payload the mapping refuses, or the engine rejects, is an error with the document's paths. ForbiddenError
 * DEVICE_NOT_OWNED when the device is another user's (push use case).
 */
export async function runOperations(
  deps: ArxosDeps,
  tenant: Tenant,
  principal: Principal,
  deviceId: string,
  inputs: OperationInput[],
  waitMillis: number,
): Promise<OperationResult[]> {
  const now = new Date();
  const plans: Planned[] = inputs.map((input) => {
    const mapped = fromDocument(
      input.entity,
      input.payload,
      input.operation === 'create' ? 'create' : 'update',
      input.path,
    );
    return mapped.ok
      ? { input, mapped: mapped.value }
      : {
          input,
          result: {
            kind: 'error',
            code: 'INVALID_PAYLOAD',
            message: 'the payload is not valid',
            retryable: false,
            errors: mapped.errors,
          },
        };
  });
  const current = await readRecords(
    deps,
    tenant,
    principal,
    plans
      .filter((p) => p.mapped && p.input.operation !== 'create')
      .map((p) => ({ collection: COLLECTION_OF[p.input.entity], id: p.input.entityId })),
  );
  const createdHere = new Set<string>();
  for (const plan of plans) {
    if (plan.mapped) plan.event = planEvent(plan, current, createdHere, principal, deviceId, now);
  }

  const events = plans.flatMap((p) => (p.event ? [p.event] : []));
  const outcomes = new Map<string, { status: string; conflict?: ConflictReport; error?: EventError }>();
  if (events.length) {
    const pushed = await pushBatch(deps, { tenant, principal, body: { deviceId, events } });
    // A replay needs an Idempotency-Key, which these routes never send: the answer is always 'accepted'.
    if (pushed.kind !== 'accepted') throw new Error('unexpected replayed push');
    const { response } = pushed;
    for (const rejection of response.rejected) {
      if (rejection.eventId) {
        outcomes.set(rejection.eventId, {
          status: 'REJECTED',
          error: {
            code: rejection.code,
            message: rejection.message,
            retryable: rejection.retryable ?? false,
            ...(rejection.errors ? { errors: rejection.errors } : {}),
          },
        });
      }
    }
    // An operation sent again is a DUPLICATE of the event it made the first time: answer that event's outcome
    // (a re-sent operation that was refused stays refused).
    const outcome: BatchOutcome = await waitForOriginalOutcomes(
      deps,
      tenant,
      principal,
      deviceId,
      response.batchId,
      waitMillis,
    );
    for (const e of outcome.events) if (e.eventId) outcomes.set(e.eventId, e);
  }

  for (const plan of plans) {
    if (plan.result || !plan.event) continue;
    plan.result = resultOf(plan.input, outcomes.get(plan.event.id));
  }
  // The server's records now, for conflicts (their server version) and successes (the routes' answer).
  const after = await readRecords(
    deps,
    tenant,
    principal,
    plans.map((p) => ({ collection: COLLECTION_OF[p.input.entity], id: p.input.entityId })),
  );
  return plans.map(({ input, result }): OperationResult => {
    const record = after.get(key(input.entity, input.entityId));
    if (result?.kind === 'conflict') return { ...result, server: record };
    if (result?.kind === 'success') return { kind: 'success', record };
    return result ?? { kind: 'pending' };
  });
}

/** The event of one mapped operation, or none when there is nothing to change (then `plan.result` is set). */
function planEvent(
  plan: Planned,
  current: Map<string, StoredRecord>,
  createdHere: Set<string>,
  principal: Principal,
  deviceId: string,
  now: Date,
): Planned['event'] {
  const { input } = plan;
  const mapped = plan.mapped as MappedPayload;
  const collection = COLLECTION_OF[input.entity];
  const here = key(input.entity, input.entityId);
  const server = current.get(here);
  const live = server && server.deletedAt === null ? server : undefined;
  // force: stamped now, so LWW gives it every field it names; else the client's own time of the edit.
  const occurredAt = mapped.force
    ? now.toISOString()
    : (input.localTime ??
      (mapped.updatedAt !== undefined ? new Date(mapped.updatedAt).toISOString() : now.toISOString()));
  let type: string;
  let payload: Record<string, unknown>;
  if (input.operation === 'create') {
    createdHere.add(here);
    type = 'RECORD_CREATED';
    payload = { collection, recordId: input.entityId, data: mapped.fields };
  } else {
    const baseVersion = mapped.force
      ? (server?.version ?? mapped.version ?? 0)
      : (mapped.version ?? (createdHere.has(here) ? 1 : (server?.version ?? 0)));
    if (input.operation === 'delete') {
      if (server && server.deletedAt !== null) {
        plan.result = { kind: 'success' };
        return undefined;
      }
      type = 'RECORD_DELETED';
      payload = { collection, recordId: input.entityId, baseVersion };
    } else {
      // Fields equal to the server's current values change nothing: leaving them out keeps a whole cached
      // row from conflicting on fields this client never edited.
      const changes = Object.fromEntries(
        Object.entries(mapped.fields).filter(
          ([field, value]) =>
            !live || canonicalJson(value ?? null) !== canonicalJson(live.data[field] ?? null),
        ),
      );
      if (live && Object.keys(changes).length === 0) {
        plan.result = { kind: 'success' };
        return undefined;
      }
      type = 'RECORD_UPDATED';
      payload = { collection, recordId: input.entityId, baseVersion, changes };
    }
  }
  const id = eventIdFor({ userId: principal.userId, deviceId, type, occurredAt, payload });
  return { id, type, occurredAt, payload };
}

/** One event's outcome in the document's terms. */
function resultOf(
  input: OperationInput,
  outcome: { status: string; conflict?: ConflictReport; error?: EventError } | undefined,
): OperationResult {
  if (!outcome) return { kind: 'pending' };
  switch (outcome.status) {
    case 'APPLIED':
    case 'DUPLICATE':
      return { kind: 'success' };
    case 'CONFLICT': {
      const conflict = outcome.conflict;
      if (!conflict || conflict.resolution === 'CLIENT_WINS') return { kind: 'success' };
      return {
        kind: 'conflict',
        fields: docFields(input.entity, conflict.fields),
        resolution: RESOLUTION[conflict.resolution],
      };
    }
    case 'REJECTED':
    case 'FAILED': {
      const error = outcome.error ?? { code: 'PROCESSING_FAILED', message: 'failed', retryable: true };
      return {
        kind: 'error',
        code: error.code,
        message: error.message,
        retryable: error.retryable,
        ...(error.errors
          ? {
              errors: error.errors.map((e) => ({
                path: docPath(input.entity, e.path, input.path),
                message: e.message,
              })),
            }
          : {}),
      };
    }
    default:
      return { kind: 'pending' };
  }
}

/** The document's IncrementalUpdatesResponse. */
export interface EquipmentUpdates {
  updates: { equipment: Record<string, unknown>; updated_at: string }[];
  deletes: string[];
  last_sync: string;
}

/** Records per pull page, and the most one answer gathers before handing back `last_sync` to go on from. */
const PAGE = 500;
const MOST = 5000;
/** Pages one answer reads at most (a busy tenant's changes to other collections move the cursor too). */
const MOST_PAGES = 40;

/**
 * The equipment of one building changed since `since` (the document's incremental updates), read with the v1.1
 * pull use case for collections=equipment and scopes=<building>: every pull page is followed until none is
 * left (or MOST records are gathered), and `last_sync` is the pull cursor to go on from — so a client that
 * sends it back as `since` gets every change committed since, whatever the order in which concurrent
 * transactions commit, and a unit moved to another building or deleted comes in `deletes`. A plain time as
 * `since` (what the client sends from `building.synced_at`) is mapped to a log position as document 001's
 * never-issued `lastSync` is (usecases/pull.ts positionAtTime): the delta from there gives every update and
 * deletion committed after that time, concurrent writers included (some earlier ones again); a time older
 * than the change history gets the whole building (docs/compat/arxos.md). ForbiddenError SCOPE_NOT_GRANTED
 * for an OPERATOR without the building; ValidationError for a `since` this server did not give; GoneError RESYNC_REQUIRED
 * for one older than the change history.
 */
export async function equipmentUpdates(
  deps: PullDeps & RecordReadDeps,
  tenant: Tenant,
  principal: Principal,
  buildingId: string,
  since: Since,
  deviceId: string,
): Promise<EquipmentUpdates> {
  const readable = await readableScopes(deps, tenant, principal);
  if (readable !== null && !readable.has(buildingId)) {
    throw new ForbiddenError(`building ${buildingId} is not granted to you`, 'SCOPE_NOT_GRANTED');
  }
  const updates = new Map<string, RecordEntity>();
  const deletes = new Set<string>();
  let cursor = since.kind === 'cursor' ? since.cursor : undefined;
  if (since.kind === 'time') {
    const position = await positionAtTime(deps, tenant, since.at.getTime());
    // A delta cursor from that position, naming the set this route pulls (equipment of the building) as held:
    // the pull goes on as a plain delta, with no snapshot. Older than the history: undefined, the whole building.
    if (position) {
      const held = heldSetHash(heldSet(['equipment'], [buildingId]));
      const key = await deps.pull.cursorKey(tenant);
      cursor = encodeCursor({ v: 1, t: tenant.id, m: 'd', x: position.xid, s: position.seq, h: held }, key);
    }
  }
  let gathered = 0;
  for (let pages = 1; ; pages += 1) {
    const query = (from: string | undefined) => ({
      deviceId,
      cursor: from,
      limit: PAGE,
      collections: ['equipment'],
      scopes: [buildingId],
    });
    const page = await pullPage(deps, tenant, principal, query(cursor))
      .catch((error: unknown) => {
        if (error instanceof ValidationError && error.errors.some((e) => e.path === 'cursor')) {
          throw new ValidationError('since is not a last_sync this server gave', [
            {
              path: 'since',
              message: 'send a last_sync this server returned, a Unix time, or 0 for a first sync',
            },
          ]);
        }
        throw error;
      })
      .catch((error: unknown) => {
        // A time whose position the history no longer holds (pruned meanwhile): the full answer, as documented.
        if (since.kind === 'time' && pages === 1 && cursor !== undefined && error instanceof GoneError) {
          cursor = undefined;
          return pullPage(deps, tenant, principal, query(undefined));
        }
        throw error;
      });
    for (const record of page.records) {
      if (record.collection !== 'equipment') continue;
      updates.set(record.id, record);
      deletes.delete(record.id);
    }
    for (const gone of page.deleted) {
      if (gone.type !== 'RECORD' || gone.collection !== 'equipment') continue;
      updates.delete(gone.id);
      deletes.add(gone.id);
    }
    cursor = page.nextCursor;
    gathered += page.records.length + page.deleted.length;
    if (!page.hasMore || gathered >= MOST || pages >= MOST_PAGES) break;
  }
  const changed = [...updates.values()];
  // The client's equipment table needs created_at (NOT NULL), which pulled records do not carry: one lookup.
  const created = new Map(
    changed.length === 0
      ? []
      : (
          await deps.pull.findRecords(
            tenant,
            changed.map((r) => ({ collection: 'equipment', id: r.id })),
          )
        ).map((s) => [s.id, s.createdAt]),
  );
  return {
    updates: changed.map((r) => {
      const createdAt = created.get(r.id);
      return {
        equipment: toDocument('equipment', createdAt ? { ...r, createdAt } : r),
        updated_at: r.updatedAt,
      };
    }),
    deletes: [...deletes],
    last_sync: cursor ?? '',
  };
}

/**
 * The building a read of the document's "Initial Sync (Download)" names, as stored: ForbiddenError
 * SCOPE_NOT_GRANTED when the caller is an OPERATOR without it (checked first, as the other arxos routes do, so
 * an OPERATOR learns nothing of buildings not granted); NotFoundError RECORD_NOT_FOUND when no live building
 * has this id.
 */
async function grantedBuilding(
  deps: RecordReadDeps,
  tenant: Tenant,
  principal: Principal,
  buildingId: string,
): Promise<StoredRecord> {
  const readable = await readableScopes(deps, tenant, principal);
  if (readable !== null && !readable.has(buildingId)) {
    throw new ForbiddenError(`building ${buildingId} is not granted to you`, 'SCOPE_NOT_GRANTED');
  }
  const found = await readRecords(deps, tenant, principal, [{ collection: 'buildings', id: buildingId }]);
  const building = found.get(`buildings/${buildingId}`);
  if (!building || building.deletedAt !== null) {
    throw new NotFoundError(`no building ${buildingId}`, 'RECORD_NOT_FOUND');
  }
  return building;
}

/** The document's `api.getBuilding(id)`: the building in its `buildings` columns (grantedBuilding's errors). */
export async function getBuilding(
  deps: RecordReadDeps,
  tenant: Tenant,
  principal: Principal,
  buildingId: string,
): Promise<Record<string, unknown>> {
  return toDocument('building', await grantedBuilding(deps, tenant, principal, buildingId));
}

/**
 * The document's `api.getEquipmentByBuilding(id)` (entity `equipment`) and `api.getSpatialAnchors(id)`
 * (entity `anchor`): every live record of the building, by id, in the document's columns with `created_at`
 * (its tables require it). grantedBuilding's errors.
 */
export async function entitiesOfBuilding(
  deps: RecordReadDeps,
  tenant: Tenant,
  principal: Principal,
  entity: 'equipment' | 'anchor',
  buildingId: string,
): Promise<Record<string, unknown>[]> {
  await grantedBuilding(deps, tenant, principal, buildingId);
  const records = await liveRecordsIn(deps, tenant, COLLECTION_OF[entity], buildingId);
  return records.map((r) => toDocument(entity, r));
}
