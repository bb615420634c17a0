/**
 * The processor's decisions for one chunk of events, as a pure function: given the pending events, the
 * reference data they name and the current mergeable records, it returns every effect to write and every
 * event's outcome. The use case (shared/usecases/apply-chunk.ts) locks and loads the inputs through the
 * ChunkStore port, calls this, and has the store write the plan, in one transaction.
 */
import {
  EQUIPMENT_UPDATE_FIELDS,
  type EventType,
  PRODUCTION_FIELDS,
  type PayloadOf,
  type SyncEvent,
} from '../contracts/events.js';
import type { EventErrorCode } from '../contracts/event-errors.js';
import type { ConflictReport, EventError } from '../contracts/sync.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import {
  applyWrite,
  type ApplyResult,
  compareStamps,
  isServerStamp,
  type FieldMeta,
  type Json,
  type MergeRecord,
  mergeVersioned,
  sameWriter,
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
 * A record of a collection (table `records`): its data fields with their meta, and its liveness (deleted, the
 * newest delete's stamp, every delete taken). In conflicts the liveness is the pseudo-field `_deleted`.
 */
export interface RecordState {
  collection: string;
  id: string;
  version: number;
  data: Record<string, Json>;
  fieldMeta: Record<string, FieldMeta>;
  deleted: boolean;
  /** The stamp of the newest delete while deleted, null when live. */
  deleteStamp: Stamp | null;
  /** Every delete this record has taken (stored in field_meta._deleted.deletes): a resurrection names them all. */
  deletes: Stamp[];
  /** String(value of the collection's scope field), null when unscoped or the value is null/absent. */
  scope: string | null;
}

/** The pseudo-field of a record's liveness in conflicts (`{_deleted: true}` = deleted) and in field_meta. */
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
  /**
   * Liveness losses (conflict rows of fields [`_deleted`]) of earlier chunks to take back: of the writers that
   * wanted what the record now is (`loserWanted`), or of one event (`eventId`). Their events become APPLIED again
   * unless another conflict row names them.
   */
  reinstated: ({ recordKey: string } & ({ loserWanted: boolean } | { eventId: string }))[];
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

const rejected = (code: EventErrorCode, message: string, retryable = false): Outcome => ({
  status: 'REJECTED',
  error: { code, message, retryable },
});

export const productionKey = (wellId: string, productionDate: string) => `${wellId}|${productionDate}`;

const contentHash = (deviceId: string, type: string, payload: unknown) =>
  sha256Hex(canonicalJson({ deviceId, type, payload }));

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
    reinstated: [],
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

/** A liveness conflict row: the loser wanted the record deleted (`true`) or alive (`false`). */
const isLivenessLoss = (c: ConflictRecord, recordKey: string, loserWanted?: boolean) =>
  c.recordType === 'RECORD' &&
  c.recordKey === recordKey &&
  c.fields.length === 1 &&
  c.fields[0] === DELETED_FIELD &&
  (loserWanted === undefined || c.clientValue[DELETED_FIELD] === loserWanted);

/**
 * Records that `loser` lost the record's liveness to `winner` (null: the server's own write): one conflict row,
 * fields [`_deleted`], the loser's wish as clientValue. A loser of this chunk gets its outcome here, one of an
 * earlier chunk is flipped in the log (`superseded`).
 */
function livenessLoss(
  plan: ChunkPlan,
  input: ChunkInput,
  recordKey: string,
  loserId: string,
  winner: Stamp | null,
  loserWanted: boolean,
  resolution: ConflictRecord['resolution'] = 'SERVER_WINS',
): void {
  const conflict: ConflictRecord = {
    id: input.newId(),
    recordType: 'RECORD',
    recordKey,
    fields: [DELETED_FIELD],
    eventId: loserId,
    otherEventId: winner && !isServerStamp(winner) ? winner.eventId : null,
    serverValue: { [DELETED_FIELD]: !loserWanted },
    clientValue: { [DELETED_FIELD]: loserWanted },
    resolution,
  };
  plan.conflicts.push(conflict);
  if (plan.outcomes.has(loserId))
    plan.outcomes.set(loserId, { status: 'CONFLICT', conflict: toReport(conflict) });
  else plan.superseded.push({ eventId: loserId, conflict: toReport(conflict) });
}

/**
 * Takes back liveness losses that the record's liveness no longer makes (LWW): those of the writers that wanted
 * what the record now is (`loserWanted`), or of one event that no longer holds any field of a tombstone
 * (`eventId`). This chunk's rows go from the plan (an event of the chunk left with no conflict is APPLIED); earlier
 * chunks' rows are taken back by the store (`plan.reinstated`).
 */
function reinstate(
  plan: ChunkPlan,
  recordKey: string,
  which: { loserWanted: boolean } | { eventId: string },
) {
  const matches = (c: ConflictRecord) =>
    'eventId' in which
      ? isLivenessLoss(c, recordKey) && c.eventId === which.eventId
      : isLivenessLoss(c, recordKey, which.loserWanted);
  const dropped = plan.conflicts.filter(matches);
  if (dropped.length) {
    const ids = new Set(dropped.map((c) => c.id));
    plan.conflicts = plan.conflicts.filter((c) => !ids.has(c.id));
    plan.superseded = plan.superseded.filter((s) => !ids.has(s.conflict.conflictId));
    for (const c of dropped) {
      const outcome = plan.outcomes.get(c.eventId);
      if (!outcome?.conflict || !ids.has(outcome.conflict.conflictId)) continue;
      const left = plan.conflicts.filter((x) => x.eventId === c.eventId).at(-1);
      plan.outcomes.set(
        c.eventId,
        left ? { status: 'CONFLICT', conflict: toReport(left) } : { status: 'APPLIED' },
      );
    }
  }
  plan.reinstated.push({ recordKey, ...which });
}

/** Does any field of the record carry this event's stamp (does the event still hold a value)? */
const holdsAField = (record: RecordState, eventId: string) =>
  Object.entries(record.fieldMeta).some(([f, m]) => f !== DELETED_FIELD && m.stamp.eventId === eventId);

/**
 * RECORD_CREATED / RECORD_UPDATED / RECORD_DELETED (SPEC v1.1 "Record events", DESIGN-13 "Record engine"). The
 * data fields merge by the same versioned merge as EQUIPMENT_UPDATED (`mergeVersioned`), with a strategy per
 * field (the collection's `conflict.fields[f]`, else its `conflict.strategy`), whether the record is alive or a
 * tombstone (a tombstone keeps its data). The record's liveness is decided apart, by the default strategy:
 * - unknown collection: REJECTED UNKNOWN_COLLECTION; scope not granted: REJECTED SCOPE_NOT_GRANTED;
 * - create of an absent record: version 1, every field stamped {1, stamp};
 * - create of an existing record: an update from baseVersion 0 with changes = data;
 * - update / delete of an absent record: REJECTED RECORD_NOT_FOUND, retryable (its create may be on its way);
 * - delete of a live record: the contenders are the data fields written since its baseVersion by another device
 *   (or the server). None: deleted (version + 1, deleted_at, delete stamp). Else the strategy decides: LWW — the
 *   delete wins when it is newer than every contender (their holders lose the liveness), and loses otherwise;
 *   SERVER_WINS keeps the record; CLIENT_WINS deletes it; MANUAL keeps it and holds the delete for a manager
 *   (whose CLIENT_WINS deletes it);
 * - update (or create) of a tombstone: LWW — newer than the newest delete resurrects the record (every delete
 *   loses), older merges its data into the tombstone and loses the liveness; other strategies: REJECTED
 *   RECORD_DELETED;
 * - a delete of a tombstone joins it (no conflict).
 * Under LWW the liveness conflict set is canonical — the writers whose wish is not the final state (deletes when
 * the record ends alive; edits that still hold a field when it ends deleted) — so losses that a later write
 * reverses are taken back (`reinstate`). Every delete is remembered (`deletes`, in field_meta._deleted), so
 * a resurrection names all of them. Any arrival order, chunking and redelivery: same state, same conflict set.
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
  const liveness = rule.conflict.strategy;
  const strategyOf = (field: string): Strategy => rule.conflict.fields?.[field] ?? rule.conflict.strategy;
  const save = (next: RecordState) => {
    records.set(key, next);
    plan.records.set(key, next);
  };

  if (event.type === 'RECORD_CREATED' && !current) {
    const data = p.data ?? {};
    const scope = scopeOf(rule, data);
    const refusal = scopeRefusal(input, pending, rule, [scope]);
    if (refusal) {
      plan.outcomes.set(event.id, refusal);
      return;
    }
    const meta = { version: 1, stamp };
    save({
      collection: p.collection,
      id: p.recordId,
      version: 1,
      data,
      fieldMeta: Object.fromEntries(Object.keys(data).map((f) => [f, meta])),
      deleted: false,
      deleteStamp: null,
      deletes: [],
      scope,
    });
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

  if (event.type === 'RECORD_DELETED') {
    const refusal = scopeRefusal(input, pending, rule, [current.scope]);
    if (refusal) {
      plan.outcomes.set(event.id, refusal);
      return;
    }
    planDelete(plan, input, current, p.baseVersion ?? 0, stamp, liveness, save);
    return;
  }

  // RECORD_UPDATED, or RECORD_CREATED of an existing record (an update from version 0).
  if (current.deleted && liveness !== 'LWW') {
    plan.outcomes.set(
      event.id,
      rejected('RECORD_DELETED', `record ${p.recordId} of ${p.collection} was deleted on the server`),
    );
    return;
  }
  const changes = (event.type === 'RECORD_CREATED' ? p.data : p.changes) ?? {};
  const newScope =
    rule.scopeField && Object.hasOwn(changes, rule.scopeField) ? scopeOf(rule, changes) : current.scope;
  const refusal = scopeRefusal(input, pending, rule, [current.scope, newScope]);
  if (refusal) {
    plan.outcomes.set(event.id, refusal);
    return;
  }
  const result = mergeVersioned(
    { version: current.version, values: current.data, fieldMeta: current.fieldMeta, baseStamp: SERVER_EPOCH },
    Object.keys(changes)
      .filter((f) => f !== DELETED_FIELD)
      .sort()
      .map((f) => [f, changes[f] as Json] as const),
    event.type === 'RECORD_CREATED' ? 0 : (p.baseVersion ?? 0),
    stamp,
    strategyOf,
  );
  const resurrects =
    current.deleted && current.deleteStamp !== null && compareStamps(stamp, current.deleteStamp) > 0;
  const next: RecordState = {
    ...current,
    version: result.written.length > 0 || resurrects ? current.version + 1 : current.version,
    data: result.values,
    fieldMeta: result.fieldMeta,
    scope: scopeOf(rule, result.values),
    ...(resurrects ? { deleted: false, deleteStamp: null } : {}),
  };
  if (result.written.length > 0 || resurrects) save(next);
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
  if (current.deleted) {
    // Writers this one beat on data may no longer hold anything of the tombstone: their liveness losses go.
    for (const loser of new Set(result.superseded.map((s) => s.eventId)))
      if (!holdsAField(next, loser)) reinstate(plan, key, { eventId: loser });
    if (resurrects) {
      // Alive again: every delete loses, and the edits that lost to them did not.
      reinstate(plan, key, { loserWanted: false });
      for (const d of current.deletes)
        if (!sameWriter(d, stamp)) livenessLoss(plan, input, key, d.eventId, stamp, true);
    } else if (
      holdsAField(next, event.id) &&
      current.deleteStamp &&
      !sameWriter(current.deleteStamp, stamp)
    ) {
      livenessLoss(plan, input, key, event.id, current.deleteStamp, false);
    }
  }
}

/** RECORD_DELETED of an existing record (planRecordEvent's rules). */
function planDelete(
  plan: ChunkPlan,
  input: ChunkInput,
  current: RecordState,
  baseVersion: number,
  stamp: Stamp,
  strategy: Strategy,
  save: (next: RecordState) => void,
): void {
  const key = recordKey(current.collection, current.id);
  const deletes = [...current.deletes.filter((d) => d.eventId !== stamp.eventId), stamp].sort(compareStamps);
  const tombstone = (): RecordState => ({
    ...current,
    version: current.version + 1,
    deleted: true,
    deleteStamp: stamp,
    deletes,
  });
  if (current.deleted) {
    // Joins the tombstone; the newest delete stamps it.
    const newest = deletes.at(-1) as Stamp;
    save({ ...current, deletes, deleteStamp: newest });
    plan.outcomes.set(stamp.eventId, { status: 'APPLIED' });
    return;
  }
  const contenders = Object.entries(current.fieldMeta).filter(
    ([f, m]) => f !== DELETED_FIELD && m.version > baseVersion && !sameWriter(m.stamp, stamp),
  );
  if (contenders.length === 0) {
    save(tombstone());
    plan.outcomes.set(stamp.eventId, { status: 'APPLIED' });
    if (strategy === 'LWW') reinstate(plan, key, { loserWanted: true });
    return;
  }
  const newest = contenders
    .map(([, m]) => m.stamp)
    .sort(compareStamps)
    .at(-1) as Stamp;
  plan.outcomes.set(stamp.eventId, { status: 'APPLIED' });
  if (strategy === 'LWW') {
    if (compareStamps(newest, stamp) > 0) {
      // An edit newer than the delete keeps the record; the delete is remembered for a later resurrection.
      save({ ...current, deletes });
      livenessLoss(plan, input, key, stamp.eventId, newest, true);
      return;
    }
    save(tombstone());
    reinstate(plan, key, { loserWanted: true });
    const holders = new Set(
      contenders
        .map(([, m]) => m.stamp)
        .filter((s) => !isServerStamp(s))
        .map((s) => s.eventId),
    );
    for (const holder of holders) livenessLoss(plan, input, key, holder, stamp, false);
    return;
  }
  const resolution = strategy === 'MANUAL' ? 'PENDING_REVIEW' : strategy;
  if (strategy === 'CLIENT_WINS') save(tombstone());
  else save({ ...current, deletes });
  livenessLoss(plan, input, key, stamp.eventId, newest, true, resolution);
  if (strategy === 'CLIENT_WINS') {
    // The delete overwrote: its conflict names what it replaced (serverValue: alive), as CLIENT_WINS does.
    const report = plan.outcomes.get(stamp.eventId)?.conflict;
    if (report) report.serverValue = { [DELETED_FIELD]: false };
  }
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
