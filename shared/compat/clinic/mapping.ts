/**
 * The clinic dialect (source document 004, "Offline Sync System Documentation"), pure mapping only: the
 * document's queue requests → RECORD_* events for the push use case, event-log rows and use-case results →
 * the document's response shapes, and its error body. No I/O; functions/compat/clinic/*.ts call the use cases.
 * docs/compat/clinic.md tells what maps to what and the decisions where the document is silent.
 */
import type { Conflict } from '../../contracts/conflicts.js';
import type { Problem } from '../../contracts/common.js';
import type { SyncStats } from '../../contracts/manager.js';
import type { FieldError } from '../../errors.js';
import type { RecordEventRow } from '../../usecases/ports/event-log.js';
import { canonicalJson } from '../../sync/canonical.js';
import type { EventRejection } from '../../sync/validate-event.js';
import { uuidV5 as uuidV5In } from '../../sync/uuid.js';

/** The document's operations (its `SyncOperation.operation`) and the record events they become. */
export const OPERATIONS = ['CREATE', 'UPDATE', 'DELETE'] as const;
export type Operation = (typeof OPERATIONS)[number];
const EVENT_TYPE_OF = {
  CREATE: 'RECORD_CREATED',
  UPDATE: 'RECORD_UPDATED',
  DELETE: 'RECORD_DELETED',
} as const satisfies Record<Operation, string>;
const OPERATION_OF: Record<RecordEventRow['type'], Operation> = {
  RECORD_CREATED: 'CREATE',
  RECORD_UPDATED: 'UPDATE',
  RECORD_DELETED: 'DELETE',
};

/** Document §3 "Conflict Response": the choices it offers, exactly as it writes them. */
export const RESOLUTION_OPTIONS = ['CLIENT_WINS', 'SERVER_WINS', 'MANUAL'] as const;
export type DocumentResolution = (typeof RESOLUTION_OPTIONS)[number];

/** The queue request as validated (shared/compat/clinic/routes.ts `queueBodySchema`). */
export interface QueueRequest {
  id?: string | undefined;
  userId?: string | undefined;
  deviceId: string;
  operation: Operation;
  resourceType: string;
  resourceId?: string | undefined;
  data?: Record<string, unknown> | undefined;
  createdAtClient: string;
  version?: number | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The UUIDv5 namespace of this dialect's derived ids (a fixed random UUID: ids never clash with another's). */
const NAMESPACE = '5b0c6a6e3f8d4f2a9a7e0d61c2b4e8f1';

/** RFC 9562 UUIDv5 (SHA-1, name-based) of `name` in this dialect's namespace. */
const uuidV5 = (name: string): string => uuidV5In(NAMESPACE, name);

/**
 * The event id of a queue item id as the document's paths carry it (`/sync/process/{id}`, `/sync/resolve/{id}`):
 * a UUID is the event id itself (lower case); anything else (a Mongo ObjectId, a local counter…) maps to a
 * stable UUIDv5 of it, so the same id always names the same event.
 */
export const eventIdOfItem = (itemId: string): string =>
  UUID.test(itemId) ? itemId.toLowerCase() : uuidV5(`item:${itemId}`);

/**
 * The event id of a queue request: from its `id` when the client sends one (eventIdOfItem), else a UUIDv5 of
 * the request's content (device, operation, resource, data, createdAtClient, version). The document's client
 * re-sends the same request after a failure: the content id makes that re-send a duplicate of the first, never a
 * second record.
 */
export function eventIdOfRequest(request: QueueRequest): string {
  if (request.id !== undefined) return eventIdOfItem(request.id);
  const { userId: _userId, ...content } = request;
  return uuidV5(`content:${canonicalJson(content)}`);
}

/**
 * The collection a `resourceType` names in this tenant: the name itself when the tenant has it, else its plural
 * (the document writes `encounter`, `patient`; the clinic pack's collections are `encounters`, `patients`).
 * Neither known: the name as given (the push refuses it UNKNOWN_COLLECTION).
 */
export function collectionOf(resourceType: string, has: (name: string) => boolean): string {
  const name = resourceType.trim().toLowerCase();
  if (has(name)) return name;
  if (has(`${name}s`)) return `${name}s`;
  return name;
}

/** The document's `resourceType` of a collection: the singular the document writes (`encounters` → `encounter`). */
export const resourceTypeOf = (collection: string): string =>
  collection.endsWith('s') && collection.length > 1 ? collection.slice(0, -1) : collection;

/** Keys of the document's `data` that name the resource, not one of its fields (Mongo's `_id`, an `id`). */
const ID_KEYS = ['id', '_id'] as const;

/**
 * Fields the document's request carries outside `data` that the pack's records hold: an encounter's
 * `encounteredAt` is the operation's `createdAtClient` when `data` has none (the document's encounter has no date).
 */
function withPackDefaults(
  collection: string,
  data: Record<string, unknown>,
  createdAtClient: string,
): Record<string, unknown> {
  if (collection === 'encounters' && data.encounteredAt === undefined) {
    return { ...data, encounteredAt: createdAtClient };
  }
  return data;
}

const withoutIdKeys = (data: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(data).filter(([key]) => !(ID_KEYS as readonly string[]).includes(key)));

/**
 * The record event of a queue request (SPEC v1.1 "Record events"): CREATE → RECORD_CREATED of `resourceId`
 * (else `data.id`/`data._id`, else the event id), UPDATE → RECORD_UPDATED with `baseVersion: version` and
 * `changes: data`, DELETE → RECORD_DELETED with `baseVersion: version`; `occurredAt` is `createdAtClient`.
 * Throws nothing: what is missing for the operation is answered by `missingFields` before.
 */
export function toRecordEvent(
  request: QueueRequest,
  eventId: string,
  collection: string,
  /** The scope a CREATE takes when its data has no scope field (usecases/scopes.ts defaultScopeOf). */
  defaultScope?: { field: string; value: string },
): { id: string; type: string; occurredAt: string; payload: Record<string, unknown> } {
  const given = request.data ?? {};
  const data =
    request.operation === 'CREATE' && defaultScope && given[defaultScope.field] === undefined
      ? { ...given, [defaultScope.field]: defaultScope.value }
      : given;
  const idInData = ID_KEYS.map((key) => data[key]).find((v): v is string => typeof v === 'string');
  const recordId = request.resourceId ?? idInData ?? eventId;
  const base = { id: eventId, type: EVENT_TYPE_OF[request.operation], occurredAt: request.createdAtClient };
  if (request.operation === 'CREATE') {
    return {
      ...base,
      payload: {
        collection,
        recordId,
        data: withPackDefaults(collection, withoutIdKeys(data), request.createdAtClient),
      },
    };
  }
  if (request.operation === 'UPDATE') {
    return {
      ...base,
      payload: { collection, recordId, baseVersion: request.version ?? 0, changes: withoutIdKeys(data) },
    };
  }
  return { ...base, payload: { collection, recordId, baseVersion: request.version ?? 0 } };
}

/** What the operation needs beyond the common fields: UPDATE and DELETE name the resource and its version. */
export function missingFields(request: QueueRequest): FieldError[] {
  const errors: FieldError[] = [];
  if (request.operation !== 'CREATE') {
    if (request.resourceId === undefined) {
      errors.push({ path: 'resourceId', message: `required for ${request.operation}` });
    }
    if (request.version === undefined) {
      errors.push({
        path: 'version',
        message: `required for ${request.operation}: the version of the resource the change was made on`,
      });
    }
  }
  if (request.operation !== 'DELETE' && request.data === undefined) {
    errors.push({ path: 'data', message: `required for ${request.operation}` });
  }
  return errors;
}

/** A push path of the one event (`events[0].payload.changes.diagnosis`) → the document's (`data.diagnosis`). */
export function documentPath(path: string): string {
  const inner = path.replace(/^events\[0\]\.?/, '');
  const rules: [RegExp, string][] = [
    [/^payload\.(data|changes)/, 'data'],
    [/^payload\.baseVersion/, 'version'],
    [/^payload\.recordId/, 'resourceId'],
    [/^payload\.collection/, 'resourceType'],
    [/^occurredAt/, 'createdAtClient'],
    [/^id$/, 'id'],
  ];
  for (const [pattern, name] of rules) if (pattern.test(inner)) return inner.replace(pattern, name);
  return inner || '$';
}

/** A push-time refusal of the queued event, in the document's terms (paths, message). */
export const rejectionErrors = (
  rejection: Pick<EventRejection, 'message'> & { errors?: FieldError[] | undefined },
): FieldError[] =>
  (rejection.errors ?? [{ path: 'events[0]', message: rejection.message }]).map((e) => ({
    path: documentPath(e.path),
    message: e.message,
  }));

/** The document's statuses of a queue item (its `SyncOperation.status`, and CONFLICT of §3). */
export type ItemStatus = 'PENDING' | 'SYNCED' | 'FAILED' | 'CONFLICT';

/**
 * The document's status of a record event: PENDING while the processor has not settled it; SYNCED when its data
 * is in (APPLIED, DUPLICATE) or its conflict's values are settled (by a strategy or a manager); CONFLICT while MANUAL
 * holds its conflict for a manager; FAILED when refused (REJECTED) or given up on (FAILED).
 */
export function itemStatus(row: Pick<RecordEventRow, 'status' | 'conflictStatus'>): ItemStatus {
  switch (row.status) {
    case 'PENDING':
      return 'PENDING';
    case 'APPLIED':
    case 'DUPLICATE':
      return 'SYNCED';
    case 'CONFLICT':
      return row.conflictStatus === 'HELD' ? 'CONFLICT' : 'SYNCED';
    default:
      return 'FAILED';
  }
}

/** A queue item as `GET /sync/pending` lists it (document §2), plus `resourceId`, `version` and `error`. */
export interface PendingItem {
  id: string;
  operation: Operation;
  resourceType: string;
  resourceId: string;
  data: Record<string, unknown>;
  status: ItemStatus;
  retryCount: number;
  createdAtClient: string;
  version: number | null;
  error?: { code: string; message: string; retryable: boolean };
}

const stringOf = (value: unknown) => (typeof value === 'string' ? value : '');

/** An event-log row → the document's queue item. */
export function toPendingItem(row: RecordEventRow): PendingItem {
  const payload = row.payload;
  const data = (payload.data ?? payload.changes ?? {}) as Record<string, unknown>;
  return {
    id: row.id,
    operation: OPERATION_OF[row.type],
    resourceType: resourceTypeOf(stringOf(payload.collection)),
    resourceId: stringOf(payload.recordId),
    data,
    status: itemStatus(row),
    retryCount: row.attempts,
    createdAtClient: row.occurredAt,
    // A CREATE makes version 1, which is also what the document's client sends with every operation
    // (`version: 1`); UPDATE and DELETE keep the version they were made on (trial 14: CREATE showed null).
    version:
      typeof payload.baseVersion === 'number'
        ? payload.baseVersion
        : row.type === 'RECORD_CREATED'
          ? 1
          : null,
    ...(row.error
      ? { error: { code: row.error.code, message: row.error.message, retryable: row.error.retryable } }
      : {}),
  };
}

/**
 * Whether process answers CONFLICT for an item: its event is CONFLICT and no person has decided the conflict
 * (held OPEN for review, or settled by the tenant's strategy and not reviewed since).
 */
export const awaitsDecision = (
  row: Pick<RecordEventRow, 'status'>,
  conflict: Pick<Conflict, 'status'> | undefined,
): boolean => row.status === 'CONFLICT' && (conflict?.status ?? 'OPEN') === 'OPEN';

/**
 * The item a resolve means when its id names no item of the tenant (the document's client resolves by its
 * *local* id, which it never sends): the one item of the caller's most recent queue request — the client's flow
 * is strictly queue → process → conflict dialog → resolve, so nothing of its own is queued in between — when
 * that request named exactly one event and it is a CONFLICT (the caller then checks it still awaits a decision,
 * awaitsDecision). Undefined — "not found" — when the caller never queued, their latest request was tied with
 * another (two devices at the same instant), named several events (a v1 batch) or none of theirs, or its item is
 * not in conflict: then the client has moved on (or another device of theirs queued since), and guessing could
 * settle a conflict the person never saw (docs/compat/clinic.md "Item ids").
 */
export function itemOfLastQueue(
  latest: { events: RecordEventRow[]; eventCount: number; tied: boolean } | undefined,
): RecordEventRow | undefined {
  if (!latest || latest.tied || latest.eventCount !== 1 || latest.events.length !== 1) return undefined;
  const [item] = latest.events;
  return item?.status === 'CONFLICT' ? item : undefined;
}

/**
 * Whether the item's own user accepted what already holds: SERVER_WINS over a conflict the tenant's strategy
 * settled against this event (resolve answered SYNCED). The item is then done for that client — process answers
 * SYNCED too, so the two never disagree — while the conflict stays OPEN in the managers' inbox for review
 * (trial 14, item 7; docs/compat/clinic.md "Who may resolve").
 */
export const acceptedByItsUser = (
  row: Pick<RecordEventRow, 'userId'>,
  conflict: Pick<Conflict, 'resolution' | 'requestedResolution' | 'requestedBy'> | undefined,
): boolean =>
  conflict !== undefined &&
  conflict.resolution === 'SERVER_WINS' &&
  conflict.requestedResolution === 'SERVER_WINS' &&
  conflict.requestedBy === row.userId;

/** The answer of `POST /sync/process/{id}` (document §3): its status code and body. */
export interface ProcessAnswer {
  status: 200 | 202 | 409 | 422;
  body: Record<string, unknown>;
}

/**
 * A processed (or still pending) item → the document's answer. SYNCED (200) carries `result`, the resource
 * (`id`, `resourceType`, `version` now, the fields sent); CONFLICT (409) the document's `message`, `error` and
 * `resolutionOptions`, plus `conflict` (fields, both sides' values, what the tenant's strategy did); FAILED (422)
 * the refusal; PENDING (202) when the outcome did not come within the wait. An event is a CONFLICT here while no
 * manager has handled its conflict (status OPEN): held for review, or settled by the tenant's strategy (LWW: the
 * document's "Resource was modified on server") and neither resolved nor acknowledged since.
 */
export function processAnswer(row: RecordEventRow, conflict: Conflict | undefined): ProcessAnswer {
  const undecided = awaitsDecision(row, conflict) && !acceptedByItsUser(row, conflict);
  const status = undecided ? 'CONFLICT' : itemStatus(row);
  const item = toPendingItem(row);
  if (status === 'SYNCED') {
    return {
      status: 200,
      body: {
        status: 'SYNCED',
        message: 'Operation synced successfully',
        result: {
          ...item.data,
          id: item.resourceId,
          resourceType: item.resourceType,
          version: row.recordVersion,
          ...(row.type === 'RECORD_DELETED' ? { deleted: true } : {}),
        },
        ...(conflict ? { resolution: conflict.resolution } : {}),
      },
    };
  }
  if (status === 'CONFLICT') {
    return {
      status: 409,
      body: {
        status: 'CONFLICT',
        message: 'Version conflict detected',
        error: 'Resource was modified on server',
        resolutionOptions: [...RESOLUTION_OPTIONS],
        conflict: {
          conflictId: row.conflict?.conflictId ?? conflict?.id ?? null,
          fields: row.conflict?.fields ?? conflict?.fields ?? [],
          resolution: conflict?.resolution ?? row.conflict?.resolution ?? 'PENDING_REVIEW',
          serverValue: conflict?.serverValue ?? row.conflict?.serverValue ?? {},
          clientValue: conflict?.clientValue ?? row.conflict?.clientValue ?? {},
          serverVersion: row.recordVersion,
        },
      },
    };
  }
  if (status === 'PENDING') {
    return { status: 202, body: { status: 'PENDING', message: 'Operation is still being processed' } };
  }
  return {
    status: 422,
    body: {
      status: 'FAILED',
      message: row.error?.message ?? 'Operation failed',
      error: row.error?.code ?? 'FAILED',
      retryable: row.error?.retryable ?? row.status === 'FAILED',
      ...(row.error?.errors
        ? { errors: row.error.errors.map((e) => ({ path: documentPath(e.path), message: e.message })) }
        : {}),
    },
  };
}

/**
 * What a resolve asks of the conflict use case (document §4 "Resolution Strategies"), by who asks:
 * - MANUAL ("flag for manual review by admin") changes nothing: the conflict stays OPEN in the managers' inbox.
 * - A manager's SERVER_WINS / CLIENT_WINS is a decision (on a strategy-settled conflict, an override).
 * - A field user's SERVER_WINS on a conflict MANUAL holds discards their offline change: a decision that is theirs.
 * - A field user's ask that matches what already holds (the strategy's result) is 'kept': answered resolved.
 * - Any other field user's ask (CLIENT_WINS, which the document says "requires admin approval", or undoing a
 *   strategy's result) is 'requested': recorded on the conflict, which stays OPEN for a manager to approve.
 * Once a manager handled the conflict (RESOLVED, ACKNOWLEDGED): asking what holds is 'kept', the rest 'refused'
 * (409 CONFLICT_RESOLVED).
 */
export function resolutionFor(
  resolution: DocumentResolution,
  conflict: Pick<Conflict, 'status' | 'resolution'>,
  manager: boolean,
): 'kept' | 'refused' | 'flagged' | 'requested' | 'SERVER_WINS' | 'CLIENT_WINS' {
  const holds = resolution !== 'MANUAL' && resolution === conflict.resolution;
  if (conflict.status !== 'OPEN') return holds ? 'kept' : 'refused';
  if (resolution === 'MANUAL') return 'flagged';
  if (manager) return resolution;
  if (conflict.resolution === 'PENDING_REVIEW')
    return resolution === 'SERVER_WINS' ? resolution : 'requested';
  return holds ? 'kept' : 'requested';
}

/**
 * The document's answer to a resolve (it shows none): the resolution asked, whether the item is settled (SYNCED)
 * or still waits for a manager (CONFLICT: flagged, or a request awaiting approval), and the conflict's state.
 */
export function resolveAnswer(
  itemId: string,
  asked: DocumentResolution,
  conflict: Conflict,
  outcome: 'decided' | 'kept' | 'flagged' | 'requested',
) {
  const waiting = outcome === 'flagged' || outcome === 'requested';
  const message =
    outcome === 'flagged'
      ? 'Conflict flagged for manual review by a manager'
      : outcome === 'requested'
        ? `${asked} requires admin approval: the request awaits a manager's review`
        : `Conflict resolved with ${asked}`;
  return {
    id: itemId,
    status: waiting ? 'CONFLICT' : 'SYNCED',
    resolution: asked,
    message,
    conflict: {
      conflictId: conflict.id,
      fields: conflict.fields,
      status: conflict.status,
      resolution: conflict.resolution,
      resolvedValue: conflict.resolvedValue,
      requestedResolution: conflict.requestedResolution,
    },
  };
}

/**
 * Sync statistics in the document's shape (§6): `synced` = applied + duplicate, `failed` = rejected + failed,
 * `conflicts`, and `syncRate` = synced / total as a percentage with two decimals ("93.33%"; "0.00%" with none) —
 * the document's own figures (140 of 150 → "93.33%"), not v1's rate over settled events.
 */
export function documentStats(stats: SyncStats) {
  const synced = stats.counts.applied + stats.counts.duplicate;
  return {
    total: stats.total,
    pending: stats.counts.pending,
    synced,
    failed: stats.counts.rejected + stats.counts.failed,
    conflicts: stats.counts.conflict,
    syncRate: `${(stats.total > 0 ? (synced / stats.total) * 100 : 0).toFixed(2)}%`,
    from: stats.from,
    to: stats.to,
  };
}

/**
 * The error body of this dialect. The document shows none; its answers all carry a string `status` and a
 * `message` (and `error` on a conflict), so an error answers the same way — `status: 'ERROR'`, which its client
 * treats as neither SYNCED nor CONFLICT — with the HTTP status as `statusCode`, and the product's `code` and
 * field `errors` when there are some. Status code and headers are problem+json's (endpoint.ts).
 */
export function renderClinicError(problem: Problem) {
  return {
    body: {
      status: 'ERROR',
      statusCode: problem.status,
      error: problem.title,
      message: problem.detail ?? problem.title,
      ...(problem.code ? { code: problem.code } : {}),
      ...(problem.errors ? { errors: problem.errors } : {}),
      ...(problem.requestId ? { requestId: problem.requestId } : {}),
    },
  };
}
