/**
 * The processor's decisions for one chunk of events, as a pure function: given the pending events, the
 * reference data they name and the current mergeable records, it returns every effect to write and every
 * event's outcome. The Postgres adapter loads the inputs and writes the plan in one transaction.
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
  type FieldConflict,
  isServerStamp,
  type Json,
  jsonEqual,
  type MergeRecord,
  sameWriter,
  type Stamp,
  type Strategy,
  type Superseded,
  resolutionOf,
} from './merge.js';

export interface PendingEvent {
  event: SyncEvent;
  batchId: string;
  deviceId: string;
  userId: string;
}

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
}

export interface Outcome {
  status: 'APPLIED' | 'DUPLICATE' | 'CONFLICT' | 'REJECTED';
  error?: EventError;
  conflict?: ConflictReport;
}

export interface ConflictRecord {
  id: string;
  recordType: 'PRODUCTION' | 'EQUIPMENT';
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
): Outcome | undefined {
  if (target.type === 'WELL') return wellRule(input, target.id);
  if (target.type === 'EQUIPMENT') return equipmentRule(input, target.id);
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
  (a.type === 'WELL' || a.type === 'EQUIPMENT' ? a.id === b.id : a.id.toLowerCase() === b.id.toLowerCase());

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
        const refusal = targetRule(input, plan, chunkEvents, event.payload.target);
        if (refusal) plan.outcomes.set(event.id, refusal);
        else append('NOTES_ADDED');
        break;
      }
      case 'PHOTO_ATTACHED': {
        const p = event.payload;
        const refusal = targetRule(input, plan, chunkEvents, p.target);
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
 * EQUIPMENT_UPDATED is versioned. Per field, against the field's meta {version that last wrote it, stamp}:
 * - a field not written since the device's baseVersion takes the device's value (the device saw what it edits);
 * - a field written since the base by the same device is that device correcting itself (never a conflict): its
 *   newer stamp wins;
 * - a field written since the base by another writer, to another value, is a conflict settled by the strategy:
 *   LWW by stamp — a newer write wins and the beaten event becomes the loser (`superseded`, CONFLICT
 *   SERVER_WINS), an older one loses (CONFLICT SERVER_WINS) — so both arrival orders record the same conflict;
 *   SERVER_WINS keeps, CLIENT_WINS overwrites, MANUAL holds for review.
 * - an equal value is no conflict; a newer stamp still takes the field (and a new version), so that a later
 *   older write does not slip in under a base the newer one already re-asserted (LWW stays order-independent).
 * Any write of a field bumps the version. Conflict records have the same shape as production ones
 * (`recordMergeOutcome`).
 */
function updateEquipment(
  plan: ChunkPlan,
  input: ChunkInput,
  current: EquipmentState,
  payload: PayloadOf<'EQUIPMENT_UPDATED'>,
  stamp: Stamp,
  strategy: Strategy,
): EquipmentState {
  const values = { ...current.values };
  const fieldMeta = { ...current.fieldMeta };
  type Field = (typeof EQUIPMENT_UPDATE_FIELDS)[number];
  const written: Field[] = [];
  const conflicts: FieldConflict[] = [];
  const superseded: Superseded[] = [];
  let beat = false;
  for (const field of EQUIPMENT_UPDATE_FIELDS) {
    const value = payload.changes[field];
    if (value === undefined) continue;
    const meta = fieldMeta[field] ?? { version: 1, stamp: current.baseStamp };
    const newer = compareStamps(stamp, meta.stamp) > 0;
    if (jsonEqual(values[field], value)) {
      // A field no event wrote yet has no real stamp (baseStamp is the row's updated_at): the first writer takes it.
      if (newer || !fieldMeta[field]) written.push(field);
      continue;
    }
    if (meta.version <= payload.baseVersion) {
      written.push(field);
      continue;
    }
    if (sameWriter(meta.stamp, stamp)) {
      if (newer) written.push(field);
      continue;
    }
    const conflict: FieldConflict = {
      field,
      serverValue: values[field],
      clientValue: value as Json,
      serverStamp: meta.stamp,
      clientStamp: stamp,
    };
    if (strategy === 'CLIENT_WINS' || (strategy === 'LWW' && newer)) {
      written.push(field);
      beat = true;
      if (strategy === 'CLIENT_WINS') conflicts.push(conflict);
      else if (!isServerStamp(meta.stamp)) {
        superseded.push({
          eventId: meta.stamp.eventId,
          field,
          loserValue: values[field],
          winnerValue: value,
        });
      }
    } else conflicts.push(conflict);
  }
  const version = written.length > 0 ? current.version + 1 : current.version;
  for (const field of written) {
    values[field] = payload.changes[field] as Json;
    fieldMeta[field] = { version, stamp };
  }
  if (written.length > 0) plan.equipment.set(current.id, { version, values, fieldMeta });

  const resolution = conflicts.length === 0 ? undefined : resolutionOf(strategy, beat);
  // Changing nothing (every value already as asked) is still an applied update.
  recordMergeOutcome(
    plan,
    input,
    stamp.eventId,
    'EQUIPMENT',
    current.id,
    {
      outcome: conflicts.length > 0 ? 'CONFLICT' : 'APPLIED',
      conflicts,
      superseded,
      ...(resolution ? { resolution } : {}),
    },
    strategy,
  );
  return { ...current, version, values, fieldMeta };
}
