/**
 * Field-level merge engine for mergeable records (production records, equipment updates): pure, no I/O.
 *
 * A record is a map of fields; each field keeps its value and the stamp of its last write. Stamps are totally
 * ordered by (occurredAt as an instant, deviceId, eventId) — see `compareStamps`.
 *
 * SPEC ("Conflicts") rules, and the decisions taken where SPEC is silent:
 *
 * - Values are compared with a deep equality that ignores object key order (arrays are ordered, 0 equals -0).
 *   Values must be JSON: non-finite numbers or `undefined` are rejected with a ValidationError, and so is an
 *   `occurredAt` that is not an ISO 8601 date-time with an explicit zone (`Z` or `±hh:mm`) and real calendar
 *   values. Instants are compared beyond the millisecond when more fraction digits are given.
 * - Equal values are never a conflict, under every strategy: the field's stamp becomes the greater of the two,
 *   so the final state (stamps included) does not depend on arrival order.
 * - LWW: the greater stamp wins each field. A write that loses a field with a differing value gets that field in
 *   `conflicts` (serverValue = the kept value). A write that beats a differing value of another device reports that
 *   writer in `superseded` (that earlier event becomes a CONFLICT loser); the winner's own outcome stays APPLIED.
 *   Resolution of a losing write: SERVER_WINS, or MERGED when the same write also beat a differing value on
 *   another field (each side won part of the record). Fields only one side wrote simply merge.
 * - SERVER_WINS: an existing differing value (and its stamp) is kept whatever the stamps; CONFLICT/SERVER_WINS.
 * - CLIENT_WINS: the write's value and stamp replace an existing differing value whatever the stamps; outcome
 *   CONFLICT with resolution CLIENT_WINS, `conflicts` lists the overwritten fields (serverValue = the value that
 *   was replaced) and `superseded` the previous writers.
 * - MANUAL: differing fields are left untouched (the server's value stays until a manager resolves the conflict), listed in
 *   `conflicts` with resolution PENDING_REVIEW; the write's other fields still apply.
 * - A conflict needs two writers (SPEC): a write that differs from a value its own device wrote (same deviceId
 *   stamps the field) is that device correcting itself, under every strategy — never a conflict, never held for
 *   review, never a `superseded` entry. The device's newer stamp wins (an older correction arriving late changes
 *   nothing and is still APPLIED), so a device's own order decides, not arrival.
 * - Stamps of the server's own writes (`isServerStamp`: a manager's edit or resolution) name no sync event: a
 *   write that beats one reports nothing in `superseded` (there is no event to flip), though it still counts as
 *   having beaten a differing value for MERGED.
 * - SERVER_WINS, CLIENT_WINS and MANUAL are by nature arrival-order dependent (the first or the later arrival is
 *   kept by definition); only LWW is order-independent.
 * - DUPLICATE: (a) redelivery — the write's eventId still stamps a field of the record: nothing changes at all.
 *   (b) the same device pushing the same thing — every field of the write equals the current value and the
 *   current stamp of each of those fields comes from the same deviceId: no conflict; stamps still advance to the
 *   greater one (so that LWW stays order-independent). An event whose id no longer stamps any field (everything
 *   it wrote was since overwritten) cannot be recognised here and is re-applied; under LWW that is harmless
 *   (same state, same conflicts). The processor's event-id idempotency store is the primary guard, and it alone
 *   detects EVENT_ID_REUSED.
 * - A write with no fields is APPLIED and changes nothing (it still creates an empty record).
 * - Records are never mutated; the returned record's fields are sorted by name.
 */
import { ValidationError } from '../errors.js';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export interface Stamp {
  occurredAt: string;
  deviceId: string;
  eventId: string;
}

export interface FieldState {
  value: Json;
  stamp: Stamp;
}

/** An absent field was never written. */
export interface MergeRecord {
  fields: Record<string, FieldState>;
}

export type Strategy = 'LWW' | 'SERVER_WINS' | 'CLIENT_WINS' | 'MANUAL';

export interface Write {
  eventId: string;
  deviceId: string;
  occurredAt: string;
  fields: Record<string, Json>;
}

export interface FieldConflict {
  field: string;
  serverValue: Json;
  clientValue: Json;
  serverStamp: Stamp;
  clientStamp: Stamp;
}

export type Resolution = 'CLIENT_WINS' | 'SERVER_WINS' | 'MERGED' | 'PENDING_REVIEW';

export interface Superseded {
  eventId: string;
  field: string;
  loserValue: Json;
  winnerValue: Json;
}

export interface ApplyResult {
  /** The new state. */
  record: MergeRecord;
  outcome: 'APPLIED' | 'DUPLICATE' | 'CONFLICT';
  /**
   * Fields of this write that lost (or, under MANUAL, are held for review; under CLIENT_WINS, that it
   * overwrote), with both sides' values.
   */
  conflicts: FieldConflict[];
  resolution?: Resolution;
  /** Earlier writes that this write has just beaten on a differing value (their events become CONFLICT losers). */
  superseded: Superseded[];
}

// ---------------------------------------------------------------------------------------------------------------
// Stamps

interface Instant {
  /** Epoch milliseconds. */
  ms: number;
  /** Fraction digits beyond the millisecond, trailing zeros removed ('' when none). */
  sub: string;
}

const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})$/;

function invalidOccurredAt(value: string): ValidationError {
  return new ValidationError('occurredAt must be an ISO 8601 date-time with a zone', [
    { path: 'occurredAt', message: `not an ISO 8601 date-time with a zone: ${JSON.stringify(value)}` },
  ]);
}

function parseInstant(value: string): Instant {
  const m = ISO_DATE_TIME.exec(value);
  if (!m) throw invalidOccurredAt(value);
  const [, y = '', mo = '', d = '', h = '', mi = '', s = '00', frac = '', zone = ''] = m;
  const month = Number(mo);
  const day = Number(d);
  const daysInMonth = new Date(Date.UTC(2000, month, 0)).getUTCDate(); // leap-year agnostic upper bound
  const leap = (Number(y) % 4 === 0 && Number(y) % 100 !== 0) || Number(y) % 400 === 0;
  const maxDay = month === 2 ? (leap ? 29 : 28) : daysInMonth;
  const zoneOk = zone === 'Z' || (Number(zone.slice(1, 3)) <= 23 && Number(zone.slice(4, 6)) <= 59);
  if (
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > maxDay ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59 ||
    !zoneOk
  ) {
    throw invalidOccurredAt(value);
  }
  const ms3 = frac.slice(0, 3).padEnd(3, '0');
  const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms3}${zone}`);
  if (Number.isNaN(ms)) throw invalidOccurredAt(value);
  return { ms, sub: frac.slice(3).replace(/0+$/, '') };
}

function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareStrings(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

const canonicalChecked = new Map<string, boolean>();
/** A canonical-looking string is still checked once for real calendar values (no Feb 30). */
function validCanonical(value: string): boolean {
  let ok = canonicalChecked.get(value);
  if (ok === undefined) {
    try {
      parseInstant(value);
      ok = true;
    } catch {
      ok = false;
    }
    if (canonicalChecked.size > 100_000) canonicalChecked.clear();
    canonicalChecked.set(value, ok);
  }
  return ok;
}

/** Compares two occurredAt values as instants. */
/** The form every stored occurredAt has (Date#toISOString): such strings order like their instants. */
const CANONICAL_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function compareInstants(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  // Fast path for the canonical form (the processor's hot loop); anything else is parsed in full.
  if (CANONICAL_INSTANT.test(a) && CANONICAL_INSTANT.test(b) && validCanonical(a) && validCanonical(b)) {
    return a < b ? -1 : 1;
  }
  const x = parseInstant(a);
  const y = parseInstant(b);
  if (x.ms !== y.ms) return sign(x.ms - y.ms);
  const len = Math.max(x.sub.length, y.sub.length);
  return compareStrings(x.sub.padEnd(len, '0'), y.sub.padEnd(len, '0'));
}

/** Total order on stamps: occurredAt as an instant, then deviceId, then eventId (plain string comparison). */
export function compareStamps(a: Stamp, b: Stamp): -1 | 0 | 1 {
  return (
    compareInstants(a.occurredAt, b.occurredAt) ||
    compareStrings(a.deviceId, b.deviceId) ||
    compareStrings(a.eventId, b.eventId)
  );
}

// ---------------------------------------------------------------------------------------------------------------
// Values

/** Stable deep equality of JSON values: object key order is ignored, arrays are ordered. */
export function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i] as Json));
  }
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k] as Json, b[k] as Json));
}

function assertJson(value: unknown, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return;
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => assertJson(item, `${path}[${i}]`));
    return;
  } else if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    for (const [k, v] of Object.entries(value)) assertJson(v, `${path}.${k}`);
    return;
  }
  throw new ValidationError('field values must be JSON values', [{ path, message: 'not a JSON value' }]);
}

// ---------------------------------------------------------------------------------------------------------------
// Records

function getField(record: MergeRecord | undefined, field: string): FieldState | undefined {
  return record && Object.hasOwn(record.fields, field) ? record.fields[field] : undefined;
}

/** Builds a record from a field map, sorted by name (and safe for any field name, `__proto__` included). */
function toRecord(fields: Map<string, FieldState>): MergeRecord {
  const names = [...fields.keys()].sort(compareStrings);
  return { fields: Object.fromEntries(names.map((n) => [n, fields.get(n) as FieldState])) };
}

function fieldMap(record: MergeRecord | undefined): Map<string, FieldState> {
  return new Map(record ? Object.entries(record.fields) : []);
}

function stampOf(write: Write): Stamp {
  return { occurredAt: write.occurredAt, deviceId: write.deviceId, eventId: write.eventId };
}

/**
 * True for the stamps of the server's own writes, which name no sync event: a manager's PUT (`server`, no event
 * id) or a manager's resolution (`manager:<user>`, the conflict id). Such a value beaten by a device names no
 * loser event, and it is never "the same device" as a device's write.
 */
export function isServerStamp(stamp: Stamp): boolean {
  return stamp.eventId === '' || stamp.deviceId === 'server' || stamp.deviceId.startsWith('manager:');
}

/** The stamp of a field was set by this very device (not by the server): the device correcting itself. */
export function sameWriter(current: Stamp, write: Stamp): boolean {
  return current.deviceId === write.deviceId && !isServerStamp(current);
}

/**
 * The resolution reported on a write that met a conflict: MANUAL holds it (PENDING_REVIEW), CLIENT_WINS overwrote,
 * otherwise MERGED when the write also beat a differing value on another field (each side won part of the
 * record), else SERVER_WINS. One rule for production records and versioned edits alike.
 */
export function resolutionOf(strategy: Strategy, beatAnother: boolean): Resolution {
  if (strategy === 'MANUAL') return 'PENDING_REVIEW';
  if (strategy === 'CLIENT_WINS') return 'CLIENT_WINS';
  return beatAnother ? 'MERGED' : 'SERVER_WINS';
}

/** The values of a record's fields (an absent record has none). */
export function recordValues(record: MergeRecord | undefined): Record<string, Json> {
  if (!record) return {};
  return Object.fromEntries(Object.entries(record.fields).map(([k, f]) => [k, f.value]));
}

/** Applies one write to a record (absent = never written) under a conflict strategy. Pure. */
export function applyWrite(record: MergeRecord | undefined, write: Write, strategy: Strategy): ApplyResult {
  const stamp = stampOf(write);
  parseInstant(write.occurredAt);
  const entries = Object.entries(write.fields);
  for (const [field, value] of entries) assertJson(value, `fields.${field}`);

  // Redelivery of an event that still stamps a field: nothing changes.
  if (record && Object.values(record.fields).some((f) => f.stamp.eventId === write.eventId)) {
    return { record, outcome: 'DUPLICATE', conflicts: [], superseded: [] };
  }

  const next = fieldMap(record);
  const conflicts: FieldConflict[] = [];
  const superseded: Superseded[] = [];
  let beat = false;
  let sameDeviceDuplicate = entries.length > 0;

  for (const [field, value] of entries) {
    const current = getField(record, field);
    if (!current) {
      sameDeviceDuplicate = false;
      next.set(field, { value, stamp });
      continue;
    }
    const cmp = compareStamps(stamp, current.stamp);
    if (jsonEqual(current.value, value)) {
      if (current.stamp.deviceId !== write.deviceId) sameDeviceDuplicate = false;
      if (cmp > 0) next.set(field, { value, stamp });
      continue;
    }
    sameDeviceDuplicate = false;
    if (sameWriter(current.stamp, stamp)) {
      // The device correcting its own value: its newer write wins, whatever the strategy; not a conflict.
      if (cmp > 0) next.set(field, { value, stamp });
      continue;
    }
    const conflict: FieldConflict = {
      field,
      serverValue: current.value,
      clientValue: value,
      serverStamp: current.stamp,
      clientStamp: stamp,
    };
    const overwrite = strategy === 'CLIENT_WINS' || (strategy === 'LWW' && cmp > 0);
    if (overwrite) {
      next.set(field, { value, stamp });
      beat = true;
      if (!isServerStamp(current.stamp)) {
        superseded.push({
          eventId: current.stamp.eventId,
          field,
          loserValue: current.value,
          winnerValue: value,
        });
      }
      if (strategy === 'CLIENT_WINS') conflicts.push(conflict);
    } else {
      conflicts.push(conflict);
    }
  }

  const result: ApplyResult = { record: toRecord(next), outcome: 'APPLIED', conflicts, superseded };
  if (conflicts.length > 0) {
    result.outcome = 'CONFLICT';
    result.resolution = resolutionOf(strategy, beat);
  } else if (sameDeviceDuplicate) {
    result.outcome = 'DUPLICATE';
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Versioned records (EQUIPMENT_UPDATED, RECORD_*): one merge for every versioned record type

/** Per field of a versioned record: the record version that last wrote it and the stamp of that write. */
export interface FieldMeta {
  version: number;
  stamp: Stamp;
}

/** A versioned record as the merge sees it: values by field, each field's meta, the record's version. */
export interface VersionedState {
  version: number;
  values: Record<string, Json>;
  fieldMeta: Record<string, FieldMeta>;
  /** Stamp of a field that has a value but no meta (written before field meta existed: equipment's columns). */
  baseStamp: Stamp;
}

/** What one versioned write did: the new state, the fields it wrote, the conflicts it met and whom it beat. */
export interface VersionedResult {
  version: number;
  values: Record<string, Json>;
  fieldMeta: Record<string, FieldMeta>;
  written: string[];
  /** Fields this write lost, or that are held (MANUAL), or that it overwrote (CLIENT_WINS). */
  conflicts: FieldConflict[];
  /** Earlier writers of another device this write beat under LWW (they become CONFLICT losers). */
  superseded: Superseded[];
  /** True when this write beat a differing value (LWW newer, or CLIENT_WINS): MERGED when it also lost one. */
  beat: boolean;
}

/**
 * The versioned per-field merge of EQUIPMENT_UPDATED, for any versioned record (SPEC "Conflicts", v1.1 "Record
 * events": "merged field by field exactly as EQUIPMENT_UPDATED"). `changes` are applied in the given order; for
 * each field, against its meta {version that last wrote it, stamp}:
 * - a field with neither value nor meta (never written) takes the write's value;
 * - a field not written since `baseVersion` takes the write's value (the device saw what it edits);
 * - a field written since the base by the same device is that device correcting itself (never a conflict): its
 *   newer stamp wins;
 * - a field written since the base by another writer, to another value, is a conflict settled by the field's
 *   strategy (`strategyOf`): LWW by stamp (a newer write wins and the beaten event is `superseded`; an older one
 *   loses), SERVER_WINS keeps, CLIENT_WINS overwrites, MANUAL holds for review;
 * - an equal value is no conflict; a newer stamp still takes the field (and a new version), so that an older
 *   write arriving later does not slip in under a base the newer one already re-asserted (LWW order-independent).
 * Any written field bumps the record's version by one (once per write). Pure; `current` is not mutated.
 */
export function mergeVersioned(
  current: VersionedState,
  changes: readonly (readonly [string, Json])[],
  baseVersion: number,
  stamp: Stamp,
  strategyOf: (field: string) => Strategy,
): VersionedResult {
  const values = { ...current.values };
  const fieldMeta = { ...current.fieldMeta };
  const written: string[] = [];
  const conflicts: FieldConflict[] = [];
  const superseded: Superseded[] = [];
  let beat = false;
  for (const [field, value] of changes) {
    const known = Object.hasOwn(fieldMeta, field) ? fieldMeta[field] : undefined;
    if (!known && !Object.hasOwn(values, field)) {
      written.push(field);
      continue;
    }
    const meta = known ?? { version: 1, stamp: current.baseStamp };
    const newer = compareStamps(stamp, meta.stamp) > 0;
    if (jsonEqual(values[field] as Json, value)) {
      // A field no event wrote yet has no real stamp (baseStamp is the row's updated_at): the first writer takes it.
      if (newer || !known) written.push(field);
      continue;
    }
    if (meta.version <= baseVersion) {
      written.push(field);
      continue;
    }
    if (sameWriter(meta.stamp, stamp)) {
      if (newer) written.push(field);
      continue;
    }
    const strategy = strategyOf(field);
    const conflict: FieldConflict = {
      field,
      serverValue: values[field] as Json,
      clientValue: value,
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
          loserValue: values[field] as Json,
          winnerValue: value,
        });
      }
    } else conflicts.push(conflict);
  }
  const version = written.length > 0 ? current.version + 1 : current.version;
  const byField = new Map(changes);
  // defineProperty: a field named `__proto__` is a field like any other, never the object's prototype.
  const set = (o: object, k: string, v: unknown) =>
    Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  for (const field of written) {
    set(values, field, byField.get(field) as Json);
    set(fieldMeta, field, { version, stamp });
  }
  return { version, values, fieldMeta, written, conflicts, superseded, beat };
}
