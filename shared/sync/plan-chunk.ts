/**
 * The processor's decisions for one chunk of events, as a pure function: given the pending events, the
 * reference data they name and the current mergeable records, it returns every effect to write and every
 * event's outcome. The use case (shared/usecases/apply-chunk.ts) locks and loads the inputs through the
 * ChunkStore port, calls this, and has the store write the plan, in one transaction.
 */
import { createHash } from 'node:crypto';
import {
  EQUIPMENT_UPDATE_FIELDS,
  type EventType,
  PRODUCTION_FIELDS,
  type PayloadOf,
  type SyncEvent,
} from '../contracts/events.js';
import type { ConflictReport, EventError } from '../contracts/sync.js';
import { canonicalJson } from './canonical.js';
import {
  applyWrite,
  type ApplyResult,
  compareStamps,
  isServerStamp,
  type FieldMeta,
  type Json,
  type MergeRecord,
  mergeVersioned,
  type Stamp,
  type Strategy,
  resolutionOf,
} from './merge.js';

export interface PendingEvent {
  event: SyncEvent;
  batchId: string;
  deviceId: string;
  userId: string;
  /**
   * The pusher's roles when the push was accepted (sync_events.roles): they decide which record scopes the
   * event may write. Absent (an event accepted before roles were stored): not restricted.
   */
  roles?: readonly string[] | undefined;
}

/** The rules of a collection the engine applies (sync_collections): its scope field and conflict strategies. */
export interface CollectionRule {
  /** The field whose value is the record's scope (null: an unscoped collection). */
  scopeField: string | null;
  /** The default strategy and per-field overrides. */
  conflict: { strategy: Strategy; fields?: Record<string, Strategy> | undefined };
}

/**
 * A record of a collection (table `records`). Its liveness is merged as one more field, `_deleted`
 * (DELETED_FIELD: false on create and with every update, true on delete), stamped in `fieldMeta` like the
 * others, so a delete and a concurrent edit settle by the same versioned merge as two edits.
 */
export interface RecordState {
  collection: string;
  id: string;
  version: number;
  data: Record<string, Json>;
  fieldMeta: Record<string, FieldMeta>;
  deleted: boolean;
  /** The stamp of the delete (`fieldMeta._deleted.stamp` while deleted), null when live. */
  deleteStamp: Stamp | null;
  /** String(value of the collection's scope field), null when unscoped or the value is null/absent. */
  scope: string | null;
}

/** The pseudo-field of a record's liveness in `fieldMeta` and in conflicts (`{_deleted: true}` = deleted). */
export const DELETED_FIELD = '_deleted';

/** The key of a record in plans, locks and conflicts: `${collection}/${id}` (a collection name has no '/'). */
export const recordKey = (collection: string, id: string) => `${collection}/${id}`;

export interface EquipmentState {
  id: string;
  wellId: string;
  deleted: boolean;
  version: number;
  values: Record<(typeof EQUIPMENT_UPDATE_FIELDS)[number], Json>;
  /** Per field: the version that last changed it and the stamp of that change. */
  fieldMeta: Record<string, { version: number; stamp: Stamp }>;
  /** Stamp for fields with no recorded change (set when the equipment was created or replaced). */
  baseStamp: Stamp;
}

export interface ChunkInput {
  events: PendingEvent[];
  wells: Map<string, { status: 'ACTIVE' | 'INACTIVE' | 'PLUGGED' }>;
  equipment: Map<string, EquipmentState>;
  /** Current production records by `${wellId}|${productionDate}`. */
  production: Map<string, MergeRecord>;
  strategies: Partial<Record<EventType, Strategy>>;
  /**
   * The targets of NOTES_ADDED / PHOTO_ATTACHED that exist in the database, by target type, ids in lower
   * case: INSPECTION and MAINTENANCE by the id of the event that recorded them (their only id a device
   * knows); PRODUCTION by the record's id (as pulled) or the id of a PRODUCTION_LOGGED event whose record
   * exists. WELL and EQUIPMENT targets are checked against `wells` / `equipment`. Absent: none exist.
   */
  targets?: Partial<Record<'INSPECTION' | 'MAINTENANCE' | 'PRODUCTION', Set<string>>>;
  /**
   * PHOTO_ATTACHED events of earlier chunks that attached (or lost to another attach of) the photos this
   * chunk attaches, by photo id in lower case: with this chunk's attaches they decide the photo's link.
   */
  photoAttaches?: Map<string, SettledAttach[]>;
  /** Outcomes decided before planning by checks outside the database (e.g. the photo is not in Blob Storage). */
  prechecked?: Map<string, Outcome>;
  /** The tenant's collections by name (absent: none). */
  collections?: Map<string, CollectionRule>;
  /** Current records that the chunk's record events and RECORD targets name, by `recordKey`. */
  records?: Map<string, RecordState>;
  /** Scopes granted to the chunk's users (scope_grants), by user id. */
  grants?: Map<string, ReadonlySet<string>>;
  /** Makes conflict ids; injected so plans are reproducible in tests. */
  newId: () => string;
}

/** A PHOTO_ATTACHED settled in an earlier chunk that passed its checks (APPLIED, DUPLICATE or ELSEWHERE). */
export interface SettledAttach {
  eventId: string;
  stamp: Stamp;
  target: Target;
  outcome: Outcome;
}

export interface Target {
  type: string;
  id: string;
  /** A RECORD target's collection. */
  collection?: string | undefined;
}

export interface Outcome {
  status: 'APPLIED' | 'DUPLICATE' | 'CONFLICT' | 'REJECTED';
  error?: EventError;
  conflict?: ConflictReport;
}

export interface ConflictRecord {
  id: string;
  recordType: 'PRODUCTION' | 'EQUIPMENT' | 'RECORD';
  recordKey: string;
  fields: string[];
  /** The event whose values did not (or not yet) make it into the record. */
  eventId: string;
  /** The event holding the record's values (null when the server's own value, e.g. a manager's edit). */
  otherEventId: string | null;
  serverValue: Record<string, Json>;
  clientValue: Record<string, Json>;
  resolution: ConflictReport['resolution'];
}

export interface AppendRow {
  eventId: string;
  deviceId: string;
  userId: string;
  /** Hash of the payload: the same device sending the same thing twice is a duplicate. */
  contentHash: string;
  payload: Record<string, unknown>;
  occurredAt: string;
}

export interface ChunkPlan {
  outcomes: Map<string, Outcome>;
  production: Map<string, { wellId: string; productionDate: string; record: MergeRecord }>;
  equipment: Map<
    string,
    { version: number; values: EquipmentState['values']; fieldMeta: EquipmentState['fieldMeta'] }
  >;
  /** Records to upsert (created, updated, deleted or resurrected), by `recordKey`. */
  records: Map<string, RecordState>;
  appends: {
    WELL_READING_RECORDED: AppendRow[];
    EQUIPMENT_INSPECTED: AppendRow[];
    MAINTENANCE_LOGGED: AppendRow[];
    NOTES_ADDED: AppendRow[];
    PHOTO_ATTACHED: AppendRow[];
  };
  conflicts: ConflictRecord[];
  /** Earlier events (possibly of other chunks) whose values a newer write has just beaten. */
  superseded: { eventId: string; conflict: ConflictReport }[];
  /** PHOTO_ATTACHED events of earlier chunks whose outcome a newer attach of the same photo changes. */
  relabelled: { eventId: string; outcome: Outcome }[];
}

const rejected = (code: string, message: string, retryable = false): Outcome => ({
  status: 'REJECTED',
  error: { code, message, retryable },
});

export const productionKey = (wellId: string, productionDate: string) => `${wellId}|${productionDate}`;

const contentHash = (deviceId: string, type: string, payload: unknown) =>
  createHash('sha256').update(canonicalJson({ deviceId, type, payload })).digest('hex');

/** Order of application inside a chunk: by stamp, so a chunk's own result does not depend on arrival order. */
const byStamp = (a: PendingEvent, b: PendingEvent) =>
  compareStamps(
    { occurredAt: a.event.occurredAt, deviceId: a.deviceId, eventId: a.event.id },
    { occurredAt: b.event.occurredAt, deviceId: b.deviceId, eventId: b.event.id },
  );

function wellRule(input: ChunkInput, wellId: string): Outcome | undefined {
  const well = input.wells.get(wellId);
  if (!well) return rejected('WELL_NOT_FOUND', `no well with id ${wellId}`);
  if (well.status !== 'ACTIVE') return rejected('WELL_INACTIVE', `well ${wellId} is ${well.status}`);
  return undefined;
}

function equipmentRule(input: ChunkInput, equipmentId: string): Outcome | undefined {
  const equipment = input.equipment.get(equipmentId);
  if (!equipment) return rejected('EQUIPMENT_NOT_FOUND', `no equipment with id ${equipmentId}`);
  if (equipment.deleted) {
    return rejected('EQUIPMENT_DELETED', `equipment ${equipmentId} was deleted on the server`);
  }
  return undefined;
}

/** Event types whose payload names a target (`{type, id}`) rather than a well or equipment field. */
const TARGETING: ReadonlySet<EventType> = new Set<EventType>(['NOTES_ADDED', 'PHOTO_ATTACHED']);
/** Target types created by events, and the event type that creates each. */
const CREATED_BY = {
  INSPECTION: 'EQUIPMENT_INSPECTED',
  MAINTENANCE: 'MAINTENANCE_LOGGED',
  PRODUCTION: 'PRODUCTION_LOGGED',
} as const satisfies Record<string, EventType>;

/**
 * The reference rules of a note's or photo's target, the same as for events naming `wellId` or
 * `equipmentId`: WELL_NOT_FOUND / WELL_INACTIVE, EQUIPMENT_NOT_FOUND / EQUIPMENT_DELETED; an inspection,
 * maintenance log or production record that does not exist (in the database, or created by a
 * not-rejected event of this chunk) is TARGET_NOT_FOUND, retryable: its own event may still be on its
 * way (another batch), and pushing or retrying the event once it is applied attaches it (docs/outcomes.md).
 */
function targetRule(
  input: ChunkInput,
  plan: ChunkPlan,
  chunkEvents: Map<string, PendingEvent>,
  target: Target,
  records: Map<string, RecordState>,
): Outcome | undefined {
  if (target.type === 'WELL') return wellRule(input, target.id);
  if (target.type === 'EQUIPMENT') return equipmentRule(input, target.id);
  if (target.type === 'RECORD') {
    // As planned so far: a record this chunk creates (or deletes) counts, whatever its stamp.
    const record = records.get(recordKey(target.collection ?? '', target.id));
    if (record && !record.deleted) return undefined;
    return rejected(
      'TARGET_NOT_FOUND',
      `no ${record ? 'live ' : ''}record ${target.id} in collection ${target.collection ?? '?'}` +
        (record
          ? ' (it is deleted)'
          : '; if its RECORD_CREATED is still being processed, push this one again or retry it once it is applied'),
      true,
    );
  }
  if (!(target.type in CREATED_BY)) {
    return rejected('TARGET_NOT_FOUND', `no target of type ${target.type}`);
  }
  const type = target.type as keyof typeof CREATED_BY;
  const id = target.id.toLowerCase();
  if (input.targets?.[type]?.has(id)) return undefined;
  const here = chunkEvents.get(id);
  const outcome = here && plan.outcomes.get(here.event.id);
  if (here?.event.type === CREATED_BY[type] && outcome && outcome.status !== 'REJECTED') return undefined;
  return rejected(
    'TARGET_NOT_FOUND',
    `no ${type.toLowerCase()} with id ${target.id} (for ${type}, the id of the ${CREATED_BY[type]} event` +
      `${type === 'PRODUCTION' ? ' or the production record' : ''}); if that event is still being processed, push this one again or retry it once it is applied`,
    true,
  );
}

const sameTarget = (a: Target, b: Target) =>
  a.type === b.type &&
  (a.type === 'WELL' || a.type === 'EQUIPMENT'
    ? a.id === b.id
    : a.type === 'RECORD'
      ? a.collection === b.collection && a.id === b.id
      : a.id.toLowerCase() === b.id.toLowerCase());

/** One attach of a photo that passed its checks, in this chunk or an earlier one. */
interface AttachCandidate {
  eventId: string;
  stamp: Stamp;
  target: Target;
  pending?: PendingEvent;
  previous?: Outcome;
}

/**
 * One photo, one link. Of every attach of a photo that passed its checks (this chunk's and earlier
 * chunks'), the greatest stamp wins — as last-writer-wins — and is APPLIED; another naming the same target
 * says nothing new (DUPLICATE); another naming a different target is REJECTED PHOTO_ATTACHED_ELSEWHERE.
 * Earlier chunks' attaches are relabelled, so the outcomes depend on the set, never on arrival order.
 */
function settlePhotos(plan: ChunkPlan, input: ChunkInput, candidates: Map<string, AttachCandidate[]>): void {
  for (const [photoId, fresh] of candidates) {
    const earlier: AttachCandidate[] = (input.photoAttaches?.get(photoId) ?? []).map((a) => ({
      eventId: a.eventId,
      stamp: a.stamp,
      target: a.target,
      previous: a.outcome,
    }));
    const all = [...earlier, ...fresh].sort((a, b) => compareStamps(a.stamp, b.stamp));
    const winner = all.at(-1) as AttachCandidate;
    for (const candidate of all) {
      const outcome: Outcome =
        candidate === winner
          ? { status: 'APPLIED' }
          : sameTarget(candidate.target, winner.target)
            ? { status: 'DUPLICATE' }
            : rejected(
                'PHOTO_ATTACHED_ELSEWHERE',
                `photo ${photoId} is attached to ${winner.target.type} ${winner.target.id} by event ` +
                  `${winner.eventId}, the later attach (occurredAt ${winner.stamp.occurredAt}, then deviceId, ` +
                  'then event id): one photo has one link',
              );
      if (candidate.pending) plan.outcomes.set(candidate.eventId, outcome);
      else if (
        candidate.previous?.status !== outcome.status ||
        candidate.previous.error?.message !== outcome.error?.message
      ) {
        plan.relabelled.push({ eventId: candidate.eventId, outcome });
      }
    }
    if (winner.pending) plan.appends.PHOTO_ATTACHED.push(appendRow(winner.pending, 'PHOTO_ATTACHED'));
  }
}

const appendRow = (pending: PendingEvent, type: keyof ChunkPlan['appends']): AppendRow => ({
  eventId: pending.event.id,
  deviceId: pending.deviceId,
  userId: pending.userId,
  contentHash: contentHash(pending.deviceId, type, pending.event.payload),
  payload: pending.event.payload as Record<string, unknown>,
  occurredAt: pending.event.occurredAt,
});

export function planChunk(input: ChunkInput): ChunkPlan {
  const plan: ChunkPlan = {
    outcomes: new Map(),
    production: new Map(),
    equipment: new Map(),
    records: new Map(),
    appends: {
      WELL_READING_RECORDED: [],
      EQUIPMENT_INSPECTED: [],
      MAINTENANCE_LOGGED: [],
      NOTES_ADDED: [],
      PHOTO_ATTACHED: [],
    },
    conflicts: [],
    superseded: [],
    relabelled: [],
  };
  const productionState = new Map(input.production);
  const equipmentState = new Map(input.equipment);
  const recordState = new Map(input.records);
  const chunkEvents = new Map(input.events.map((p) => [p.event.id.toLowerCase(), p]));
  const photoCandidates = new Map<string, AttachCandidate[]>();
  const sorted = [...input.events].sort(byStamp);
  // Notes and photos are planned after every event that can create their target, so an inspection (or
  // maintenance log, production record) of this chunk counts whatever its stamp: order-independent.
  const ordered = [
    ...sorted.filter((p) => !TARGETING.has(p.event.type)),
    ...sorted.filter((p) => TARGETING.has(p.event.type)),
  ];

  for (const pending of ordered) {
    const { event } = pending;
    const stamp: Stamp = { occurredAt: event.occurredAt, deviceId: pending.deviceId, eventId: event.id };
    const strategy = input.strategies[event.type] ?? 'LWW';
    const precheck = input.prechecked?.get(event.id);
    if (precheck) {
      plan.outcomes.set(event.id, precheck);
      continue;
    }
    const append = (type: keyof ChunkPlan['appends']) => {
      plan.appends[type].push(appendRow(pending, type));
      plan.outcomes.set(event.id, { status: 'APPLIED' });
    };

    switch (event.type) {
      case 'PRODUCTION_LOGGED': {
        const p = event.payload;
        const refusal = wellRule(input, p.wellId);
        if (refusal) {
          plan.outcomes.set(event.id, refusal);
          break;
        }
        const key = productionKey(p.wellId, p.productionDate);
        const fields = Object.fromEntries(
          PRODUCTION_FIELDS.flatMap((f) => (p[f] === undefined ? [] : [[f, p[f] as Json]])),
        );
        const result = applyWrite(productionState.get(key), { ...stamp, fields }, strategy);
        productionState.set(key, result.record);
        plan.production.set(key, {
          wellId: p.wellId,
          productionDate: p.productionDate,
          record: result.record,
        });
        recordMergeOutcome(plan, input, event.id, 'PRODUCTION', key, result, strategy);
        break;
      }
      case 'EQUIPMENT_UPDATED': {
        const p = event.payload;
        const refusal = equipmentRule(input, p.equipmentId);
        const current = equipmentState.get(p.equipmentId);
        if (refusal || !current) {
          plan.outcomes.set(
            event.id,
            refusal ?? rejected('EQUIPMENT_NOT_FOUND', `no equipment ${p.equipmentId}`),
          );
          break;
        }
        const next = updateEquipment(plan, input, current, p, stamp, strategy);
        equipmentState.set(p.equipmentId, next);
        break;
      }
      case 'RECORD_CREATED':
      case 'RECORD_UPDATED':
      case 'RECORD_DELETED':
        planRecordEvent(plan, input, recordState, pending, stamp);
        break;
      case 'WELL_READING_RECORDED': {
        const refusal = wellRule(input, event.payload.wellId);
        if (refusal) plan.outcomes.set(event.id, refusal);
        else append('WELL_READING_RECORDED');
        break;
      }
      case 'EQUIPMENT_INSPECTED': {
        const p = event.payload;
        const refusal =
          wellRule(input, p.wellId) ?? (p.equipmentId ? equipmentRule(input, p.equipmentId) : undefined);
        if (refusal) plan.outcomes.set(event.id, refusal);
        else append('EQUIPMENT_INSPECTED');
        break;
      }
      case 'MAINTENANCE_LOGGED': {
        const refusal = equipmentRule(input, event.payload.equipmentId);
        if (refusal) plan.outcomes.set(event.id, refusal);
        else append('MAINTENANCE_LOGGED');
        break;
      }
      case 'NOTES_ADDED': {
        const refusal = targetRule(input, plan, chunkEvents, event.payload.target, recordState);
        if (refusal) plan.outcomes.set(event.id, refusal);
        else append('NOTES_ADDED');
        break;
      }
      case 'PHOTO_ATTACHED': {
        const p = event.payload;
        const refusal = targetRule(input, plan, chunkEvents, p.target, recordState);
        if (refusal) {
          plan.outcomes.set(event.id, refusal);
          break;
        }
        // Settled below, once every attach of the photo in this chunk is known.
        const photoId = p.photoId.toLowerCase();
        const candidate = { eventId: event.id, stamp, target: p.target, pending };
        photoCandidates.set(photoId, [...(photoCandidates.get(photoId) ?? []), candidate]);
        break;
      }
    }
  }
  settlePhotos(plan, input, photoCandidates);
  return plan;
}

/**
 * Turns one merge result (of a production record or an equipment update) into the event's outcome, its conflict
 * record, and the conflict records of the earlier writers it has just beaten (`superseded`: flipped to CONFLICT
 * SERVER_WINS, here when they are in this chunk, in the event log otherwise). Both arrival orders of two writers
 * thus store the same conflict: loser, winner, fields, both values, SERVER_WINS.
 */
function recordMergeOutcome(
  plan: ChunkPlan,
  input: ChunkInput,
  eventId: string,
  recordType: ConflictRecord['recordType'],
  recordKey: string,
  result: Pick<ApplyResult, 'outcome' | 'conflicts' | 'resolution' | 'superseded'>,
  strategy: Strategy,
): void {
  if (result.conflicts.length > 0 && result.resolution) {
    const fields = result.conflicts.map((c) => c.field);
    const server = result.conflicts[0]?.serverStamp;
    const conflict: ConflictRecord = {
      id: input.newId(),
      recordType,
      recordKey,
      fields,
      eventId,
      // A value the server wrote (a manager's edit or resolution) names no event.
      otherEventId: server && !isServerStamp(server) ? server.eventId : null,
      serverValue: Object.fromEntries(result.conflicts.map((c) => [c.field, c.serverValue])),
      clientValue: Object.fromEntries(result.conflicts.map((c) => [c.field, c.clientValue])),
      resolution: result.resolution,
    };
    plan.conflicts.push(conflict);
    plan.outcomes.set(eventId, { status: 'CONFLICT', conflict: toReport(conflict) });
  } else {
    plan.outcomes.set(eventId, { status: result.outcome === 'DUPLICATE' ? 'DUPLICATE' : 'APPLIED' });
  }
  // Writers this event has just beaten (LWW) become conflict losers, whichever chunk they came in. Under
  // CLIENT_WINS the overwrite is the conflict already recorded on this event.
  if (strategy === 'CLIENT_WINS') return;
  const byLoser = new Map<string, typeof result.superseded>();
  for (const s of result.superseded) byLoser.set(s.eventId, [...(byLoser.get(s.eventId) ?? []), s]);
  for (const [loserId, lost] of byLoser) {
    const conflict: ConflictRecord = {
      id: input.newId(),
      recordType,
      recordKey,
      fields: lost.map((s) => s.field),
      eventId: loserId,
      otherEventId: eventId,
      serverValue: Object.fromEntries(lost.map((s) => [s.field, s.winnerValue])),
      clientValue: Object.fromEntries(lost.map((s) => [s.field, s.loserValue])),
      resolution: 'SERVER_WINS',
    };
    plan.conflicts.push(conflict);
    const report = toReport(conflict);
    // A loser from this very chunk gets its outcome here; one from an earlier chunk is flipped in the log.
    if (plan.outcomes.has(loserId)) plan.outcomes.set(loserId, { status: 'CONFLICT', conflict: report });
    else plan.superseded.push({ eventId: loserId, conflict: report });
  }
}

const toReport = (c: ConflictRecord): ConflictReport => ({
  conflictId: c.id,
  fields: c.fields,
  resolution: c.resolution,
  serverValue: c.serverValue,
  clientValue: c.clientValue,
});

/**
 * EQUIPMENT_UPDATED is a declaration over the generic versioned merge (`mergeVersioned`, merge.ts): the fields are
 * EQUIPMENT_UPDATE_FIELDS, one strategy for all of them (the tenant's for EQUIPMENT_UPDATED). A field with no
 * meta counts as written at version 1 with the row's `updated_at` (baseStamp). Any write of a field bumps the
 * version. Conflict records have the same shape as production ones (`recordMergeOutcome`).
 */
function updateEquipment(
  plan: ChunkPlan,
  input: ChunkInput,
  current: EquipmentState,
  payload: PayloadOf<'EQUIPMENT_UPDATED'>,
  stamp: Stamp,
  strategy: Strategy,
): EquipmentState {
  const changes = EQUIPMENT_UPDATE_FIELDS.flatMap((field) =>
    payload.changes[field] === undefined ? [] : [[field, payload.changes[field] as Json] as const],
  );
  const result = mergeVersioned(current, changes, payload.baseVersion, stamp, () => strategy);
  const { version, fieldMeta } = result;
  const values = result.values as EquipmentState['values'];
  if (result.written.length > 0) plan.equipment.set(current.id, { version, values, fieldMeta });
  const resolution = result.conflicts.length === 0 ? undefined : resolutionOf(strategy, result.beat);
  // Changing nothing (every value already as asked) is still an applied update.
  recordMergeOutcome(
    plan,
    input,
    stamp.eventId,
    'EQUIPMENT',
    current.id,
    {
      outcome: result.conflicts.length > 0 ? 'CONFLICT' : 'APPLIED',
      conflicts: result.conflicts,
      superseded: result.superseded,
      ...(resolution ? { resolution } : {}),
    },
    strategy,
  );
  return { ...current, version, values, fieldMeta };
}

/** The text of a scope value: strings as they are, other JSON as JSON; null/absent: no scope. */
export function scopeOf(rule: CollectionRule, data: Record<string, Json>): string | null {
  if (!rule.scopeField) return null;
  const value = Object.hasOwn(data, rule.scopeField) ? data[rule.scopeField] : undefined;
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const SERVER_EPOCH: Stamp = { occurredAt: '1970-01-01T00:00:00.000Z', deviceId: 'server', eventId: '' };

const WRITES_EVERY_SCOPE: ReadonlySet<string> = new Set(['MANAGER', 'ADMIN']);

/**
 * The scope rule for writes (DESIGN-13): an OPERATOR writes a record of a scoped collection only when every
 * scope the write touches (the record's current scope and its new one) is granted to them; a scoped record
 * with no scope value is the managers' alone. MANAGER/ADMIN (and events accepted before roles were stored)
 * write every scope. Unscoped collections: anyone.
 */
function scopeRefusal(
  input: ChunkInput,
  pending: PendingEvent,
  rule: CollectionRule,
  scopes: (string | null)[],
): Outcome | undefined {
  if (!rule.scopeField || !pending.roles || pending.roles.some((r) => WRITES_EVERY_SCOPE.has(r)))
    return undefined;
  const granted = input.grants?.get(pending.userId);
  const missing = [...new Set(scopes)].filter((s) => s === null || !granted?.has(s));
  if (missing.length === 0) return undefined;
  return rejected(
    'SCOPE_NOT_GRANTED',
    `user ${pending.userId} may not write ${rule.scopeField} ${missing
      .map((s) => (s === null ? '(no value)' : JSON.stringify(s)))
      .join(', ')}: not granted to them (PUT /v1/scopes/{scope}/members/{userId})`,
  );
}

/** The resolution of a write whose fields may have different strategies: MANUAL holds, CLIENT_WINS overwrote. */
function mixedResolution(strategies: Strategy[], beat: boolean) {
  if (strategies.includes('MANUAL')) return resolutionOf('MANUAL', beat);
  if (strategies.includes('CLIENT_WINS')) return resolutionOf('CLIENT_WINS', beat);
  return resolutionOf('LWW', beat);
}

/**
 * RECORD_CREATED / RECORD_UPDATED / RECORD_DELETED (SPEC v1.1 "Record events", DESIGN-13 "Record engine"), over the
 * same versioned merge as EQUIPMENT_UPDATED with a strategy per field (the collection's `conflict.fields[f]`, else
 * its `conflict.strategy`; the liveness pseudo-field `_deleted` takes the default):
 * - unknown collection: REJECTED UNKNOWN_COLLECTION; scope not granted: REJECTED SCOPE_NOT_GRANTED;
 * - create of an absent record: version 1, every field (and `_deleted: false`) stamped {1, stamp};
 * - create of an existing record: an update from baseVersion 0 with changes = data;
 * - update / delete of an absent record: REJECTED RECORD_NOT_FOUND, retryable (its create may be on its way);
 * - update (or create) of a tombstone: under LWW merged like any write — `_deleted: false` with a newer stamp
 *   than the delete resurrects the record and the delete becomes the loser, an older one loses `_deleted`;
 *   otherwise REJECTED RECORD_DELETED;
 * - delete: writes `_deleted: true` from its baseVersion; an edit of another device since the base makes it a
 *   conflict on `_deleted` that the strategy settles (LWW by stamp, SERVER_WINS keeps, CLIENT_WINS deletes,
 *   MANUAL keeps the record and holds the conflict for a manager, whose CLIENT_WINS deletes).
 * A tombstone keeps its data (fields merged while deleted still merge), so any arrival order ends in the same
 * state under LWW.
 */
function planRecordEvent(
  plan: ChunkPlan,
  input: ChunkInput,
  records: Map<string, RecordState>,
  pending: PendingEvent,
  stamp: Stamp,
): void {
  const { event } = pending;
  const p = event.payload as {
    collection: string;
    recordId: string;
    data?: Record<string, Json>;
    changes?: Record<string, Json>;
    baseVersion?: number;
  };
  const rule = input.collections?.get(p.collection);
  if (!rule) {
    plan.outcomes.set(
      event.id,
      rejected('UNKNOWN_COLLECTION', `no collection ${p.collection} in this tenant's sync schema`),
    );
    return;
  }
  const key = recordKey(p.collection, p.recordId);
  const current = records.get(key);
  const strategyOf = (field: string): Strategy =>
    (field !== DELETED_FIELD && rule.conflict.fields?.[field]) || rule.conflict.strategy;

  if (event.type === 'RECORD_CREATED' && !current) {
    const data = p.data ?? {};
    const scope = scopeOf(rule, data);
    const refusal = scopeRefusal(input, pending, rule, [scope]);
    if (refusal) {
      plan.outcomes.set(event.id, refusal);
      return;
    }
    const meta = { version: 1, stamp };
    const created: RecordState = {
      collection: p.collection,
      id: p.recordId,
      version: 1,
      data,
      fieldMeta: Object.fromEntries([...Object.keys(data), DELETED_FIELD].map((f) => [f, meta])),
      deleted: false,
      deleteStamp: null,
      scope,
    };
    records.set(key, created);
    plan.records.set(key, created);
    plan.outcomes.set(event.id, { status: 'APPLIED' });
    return;
  }
  if (!current) {
    plan.outcomes.set(
      event.id,
      rejected(
        'RECORD_NOT_FOUND',
        `no record ${p.recordId} in collection ${p.collection}; if its RECORD_CREATED is still being processed, ` +
          'push this event again or retry it once that one is applied',
        true,
      ),
    );
    return;
  }
  if (current.deleted && event.type !== 'RECORD_DELETED' && strategyOf(DELETED_FIELD) !== 'LWW') {
    plan.outcomes.set(
      event.id,
      rejected('RECORD_DELETED', `record ${p.recordId} of ${p.collection} was deleted on the server`),
    );
    return;
  }
  const changes: Record<string, Json> =
    event.type === 'RECORD_DELETED'
      ? { [DELETED_FIELD]: true }
      : { ...(event.type === 'RECORD_CREATED' ? p.data : p.changes), [DELETED_FIELD]: false };
  const baseVersion = event.type === 'RECORD_CREATED' ? 0 : (p.baseVersion ?? 0);
  const newScope = Object.hasOwn(changes, rule.scopeField ?? '') ? scopeOf(rule, changes) : current.scope;
  const refusal = scopeRefusal(input, pending, rule, [current.scope, newScope]);
  if (refusal) {
    plan.outcomes.set(event.id, refusal);
    return;
  }
  const { [DELETED_FIELD]: _live, ...rest } = changes;
  // Data fields in name order, liveness last: conflict reports list fields the same way in every order.
  const ordered = [
    ...Object.keys(rest)
      .sort()
      .map((f) => [f, rest[f] as Json] as const),
    [DELETED_FIELD, changes[DELETED_FIELD] as Json] as const,
  ];
  const result = mergeVersioned(
    {
      version: current.version,
      values: { ...current.data, [DELETED_FIELD]: current.deleted },
      fieldMeta: current.fieldMeta,
      // A value with no meta (a record written by SQL, not by an event) is the server's.
      baseStamp: SERVER_EPOCH,
    },
    ordered,
    baseVersion,
    stamp,
    strategyOf,
  );
  if (result.written.length > 0) {
    const { [DELETED_FIELD]: deleted, ...data } = result.values;
    const next: RecordState = {
      ...current,
      version: result.version,
      data,
      fieldMeta: result.fieldMeta,
      deleted: deleted === true,
      deleteStamp: deleted === true ? (result.fieldMeta[DELETED_FIELD]?.stamp ?? stamp) : null,
      scope: scopeOf(rule, data),
    };
    records.set(key, next);
    plan.records.set(key, next);
  }
  const resolution =
    result.conflicts.length === 0
      ? undefined
      : mixedResolution(
          result.conflicts.map((c) => strategyOf(c.field)),
          result.beat,
        );
  recordMergeOutcome(
    plan,
    input,
    event.id,
    'RECORD',
    key,
    {
      outcome: result.conflicts.length > 0 ? 'CONFLICT' : 'APPLIED',
      conflicts: result.conflicts,
      superseded: result.superseded,
      ...(resolution ? { resolution } : {}),
    },
    'LWW',
  );
}

/** Everything a chunk names, lower-cased where ids are compared in lower case; keys to lock are sorted. */
export interface ChunkReferences {
  wellIds: string[];
  equipmentIds: string[];
  /** EQUIPMENT_UPDATED targets: their rows are locked, in sorted order. */
  updatedEquipmentIds: string[];
  /** `${wellId}|${productionDate}` of PRODUCTION_LOGGED, sorted (advisory locks). */
  productionKeys: string[];
  /** Photo ids (lower case) of PHOTO_ATTACHED. */
  photoIds: string[];
  /** Records the record events write, `recordKey` sorted (advisory locks). */
  recordKeys: string[];
  /** Records named by RECORD targets of notes and photos (read, not locked). */
  recordTargetKeys: string[];
  /** Collections named by record events and RECORD targets. */
  collections: string[];
  /** Users of the chunk's events whose roles restrict them to granted scopes. */
  scopedUserIds: string[];
  /** Ids of targets by type (INSPECTION, MAINTENANCE, PRODUCTION: UUIDs in lower case). */
  targetIds: Record<'INSPECTION' | 'MAINTENANCE' | 'PRODUCTION', string[]>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const unique = <T>(values: T[]) => [...new Set(values)];

/** What a chunk's events read and lock (pure): the use case locks these, the store loads them. */
export function chunkReferences(events: PendingEvent[]): ChunkReferences {
  const targets = events.flatMap(({ event }) =>
    event.type === 'NOTES_ADDED' || event.type === 'PHOTO_ATTACHED' ? [event.payload.target as Target] : [],
  );
  const targetIds = (type: string) => targets.filter((t) => t.type === type).map((t) => t.id);
  /** Ids of event-made targets: event ids and record ids are UUIDs, stored in lower case. */
  const uuidTargets = (type: string) =>
    unique(targetIds(type).map((id) => id.toLowerCase())).filter((id) => UUID.test(id));
  const field = (name: 'wellId' | 'equipmentId') =>
    events.flatMap(({ event }) => {
      const value = (event.payload as Record<string, unknown>)[name];
      return event.type.startsWith('RECORD_') || typeof value !== 'string' ? [] : [value];
    });
  const recordEvents = events.flatMap(({ event }) =>
    event.type === 'RECORD_CREATED' || event.type === 'RECORD_UPDATED' || event.type === 'RECORD_DELETED'
      ? [event.payload as { collection: string; recordId: string }]
      : [],
  );
  const recordTargets = targets.filter((t) => t.type === 'RECORD');
  return {
    wellIds: unique([...field('wellId'), ...targetIds('WELL')]),
    equipmentIds: unique([...field('equipmentId'), ...targetIds('EQUIPMENT')]),
    updatedEquipmentIds: unique(
      events.flatMap(({ event }) => (event.type === 'EQUIPMENT_UPDATED' ? [event.payload.equipmentId] : [])),
    ).sort(),
    productionKeys: unique(
      events.flatMap(({ event }) =>
        event.type === 'PRODUCTION_LOGGED'
          ? [productionKey(event.payload.wellId, event.payload.productionDate)]
          : [],
      ),
    ).sort(),
    photoIds: unique(
      events.flatMap(({ event }) =>
        event.type === 'PHOTO_ATTACHED' ? [event.payload.photoId.toLowerCase()] : [],
      ),
    ),
    recordKeys: unique(recordEvents.map((r) => recordKey(r.collection, r.recordId))).sort(),
    recordTargetKeys: unique(recordTargets.map((t) => recordKey(t.collection ?? '', t.id))).sort(),
    collections: unique([
      ...recordEvents.map((r) => r.collection),
      ...recordTargets.flatMap((t) => (t.collection ? [t.collection] : [])),
    ]).sort(),
    scopedUserIds: unique(
      events.flatMap((p) =>
        p.event.type.startsWith('RECORD_') && p.roles && !p.roles.some((r) => WRITES_EVERY_SCOPE.has(r))
          ? [p.userId]
          : [],
      ),
    ),
    targetIds: {
      INSPECTION: uuidTargets('INSPECTION'),
      MAINTENANCE: uuidTargets('MAINTENANCE'),
      PRODUCTION: uuidTargets('PRODUCTION'),
    },
  };
}
