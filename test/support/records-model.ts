import type { SyncEvent } from '../../shared/contracts/events.js';
import type { Json, Strategy } from '../../shared/sync/merge.js';
import {
  type ChunkInput,
  type CollectionRule,
  type ConflictRecord,
  type Outcome,
  type PendingEvent,
  type RecordState,
  planChunk,
} from '../../shared/sync/plan-chunk.js';

/**
 * planChunk over an in-memory model of the tables it drives for records: `records` takes plan.records, the event
 * log takes the outcomes and flips plan.superseded (as the Postgres store does), conflicts are appended. A chunk
 * delivers only the events still PENDING (the exactly-once guard of sync_events).
 */
export interface RecordsModel {
  records: Map<string, RecordState>;
  outcomes: Map<string, Outcome>;
  conflicts: ConflictRecord[];
  collections: Map<string, CollectionRule>;
  grants: Map<string, Set<string>>;
}

export const newRecordsModel = (
  collections: Record<string, CollectionRule> = {
    notes: { scopeField: null, conflict: { strategy: 'LWW' } },
  },
): RecordsModel => ({
  records: new Map(),
  outcomes: new Map(),
  conflicts: [],
  collections: new Map(Object.entries(collections)),
  grants: new Map(),
});

let ids = 0;

/** Delivers one chunk; returns the plan's outcomes of the events it settled. */
export function deliverRecords(model: RecordsModel, chunk: PendingEvent[]): Map<string, Outcome> {
  const pending = [...new Map(chunk.map((p) => [p.event.id, p])).values()].filter(
    (p) => !model.outcomes.has(p.event.id),
  );
  if (pending.length === 0) return new Map();
  const input: ChunkInput = {
    events: pending,
    wells: new Map(),
    equipment: new Map(),
    production: new Map(),
    strategies: {},
    collections: model.collections,
    records: new Map(model.records),
    grants: model.grants,
    newId: () => `conflict-${++ids}`,
  };
  const plan = planChunk(input);
  for (const [key, record] of plan.records) model.records.set(key, record);
  // As the store does (chunk-store.ts, reinstate): earlier chunks' liveness losses taken back.
  for (const r of plan.reinstated) {
    const dropped = model.conflicts.filter(
      (c) =>
        c.recordKey === r.recordKey &&
        c.fields.length === 1 &&
        c.fields[0] === '_deleted' &&
        ('eventId' in r ? c.eventId === r.eventId : c.clientValue._deleted === r.loserWanted),
    );
    const ids = new Set(dropped.map((c) => c.id));
    model.conflicts = model.conflicts.filter((c) => !ids.has(c.id));
    for (const c of dropped) {
      const outcome = model.outcomes.get(c.eventId);
      if (outcome?.status !== 'CONFLICT' || !ids.has(outcome.conflict?.conflictId ?? '')) continue;
      const left = model.conflicts.filter((x) => x.eventId === c.eventId).at(-1);
      model.outcomes.set(
        c.eventId,
        left
          ? {
              status: 'CONFLICT',
              conflict: {
                conflictId: left.id,
                fields: left.fields,
                resolution: left.resolution,
                serverValue: left.serverValue,
                clientValue: left.clientValue,
              },
            }
          : { status: 'APPLIED' },
      );
    }
  }
  model.conflicts.push(...plan.conflicts);
  for (const { eventId, conflict } of plan.superseded) {
    const status = model.outcomes.get(eventId)?.status;
    if (status === 'APPLIED' || status === 'DUPLICATE' || status === 'CONFLICT')
      model.outcomes.set(eventId, { status: 'CONFLICT', conflict });
  }
  for (const p of pending)
    model.outcomes.set(p.event.id, plan.outcomes.get(p.event.id) ?? { status: 'APPLIED' });
  return plan.outcomes;
}

interface EventOptions {
  deviceId?: string;
  occurredAt?: string;
  collection?: string;
  roles?: string[];
}

const pendingOf = (id: string, type: SyncEvent['type'], payload: object, o: EventOptions): PendingEvent => {
  const deviceId = o.deviceId ?? 'dev-a';
  return {
    event: { id, type, occurredAt: o.occurredAt ?? '2025-10-25T08:30:00.000Z', payload } as SyncEvent,
    batchId: `batch-${id}`,
    deviceId,
    userId: `user-${deviceId}`,
    ...(o.roles ? { roles: o.roles } : {}),
  };
};

export const created = (id: string, recordId: string, data: Record<string, Json>, o: EventOptions = {}) =>
  pendingOf(id, 'RECORD_CREATED', { collection: o.collection ?? 'notes', recordId, data }, o);

export const updated = (
  id: string,
  recordId: string,
  baseVersion: number,
  changes: Record<string, Json>,
  o: EventOptions = {},
) =>
  pendingOf(id, 'RECORD_UPDATED', { collection: o.collection ?? 'notes', recordId, baseVersion, changes }, o);

export const deleted = (id: string, recordId: string, baseVersion: number, o: EventOptions = {}) =>
  pendingOf(id, 'RECORD_DELETED', { collection: o.collection ?? 'notes', recordId, baseVersion }, o);

export const rule = (
  strategy: Strategy,
  fields?: Record<string, Strategy>,
  scopeField: string | null = null,
) => ({
  scopeField,
  conflict: { strategy, ...(fields ? { fields } : {}) },
});
