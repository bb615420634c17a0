import { createHash } from 'node:crypto';
import type { Problem } from '../../contracts/common.js';
import type { UserEntity } from '../../contracts/pull.js';
import type { Well } from '../../contracts/reference-data.js';
import type { BatchOutcome, EventOutcome } from '../../contracts/sync.js';
import { canonicalJson } from '../../sync/canonical.js';
import type { Entry, WellpulseErrorBody, WellpulsePullResponse, WellpulsePushResponse } from './wire.js';
import { uuidFromHash } from '../../sync/uuid.js';

/*
 * The pure translation between seed document 001 and the v1 use cases: entries → v1 events, a batch outcome →
 * the document's push answer, v1 entities → its wells and users, the device status
 * → its last sync, and its error body. docs/compat/wellpulse.md says what maps to what and why.
 */

/** The document's `message` of a 400 ("Example Error Response"), word for word. */
export const VALIDATION_MESSAGE = 'Validation failed';

/**
 * The document's error body ("Example Error Response") from the one problem mapping. A 400 is worded as the
 * document's, `"Validation failed"`, with every problem in `errors[{field, message}]`: `field` a JSON path
 * into the request (`entries[1].data.oilVolume`, `lastSync`), `$` for the request as a whole (a body that is
 * not JSON). Other statuses carry fieldsync's own message (the document shows only the 400).
 */
export function renderError(problem: Problem): { body: WellpulseErrorBody; contentType: string } {
  const errors = problem.errors?.map((e) => ({ field: e.path, message: e.message })) ?? [];
  const body: WellpulseErrorBody =
    problem.status === 400
      ? {
          statusCode: 400,
          message: VALIDATION_MESSAGE,
          errors: errors.length ? errors : [{ field: '$', message: problem.detail ?? problem.title }],
        }
      : {
          statusCode: problem.status,
          message: problem.detail ?? problem.title,
          ...(errors.length ? { errors } : {}),
        };
  return { body, contentType: 'application/json' };
}

/**
 * A stable event id for an entry, which has none of its own (document "Push Data": "Duplicate detection:
 * Same well + recordedAt + deviceId"): the SHA-256 of tenant, device, well, recordedAt, entry type and the
 * entry's content, shaped as an RFC 9562 version-8 UUID. The same entry re-sent by the same device is the
 * same v1 event, which the event log answers as a duplicate and never applies twice.
 */
export function entryEventId(tenantId: string, deviceId: string, entry: Entry): string {
  const hash = createHash('sha256')
    .update(
      canonicalJson({
        v: 'wellpulse/1',
        tenantId,
        deviceId,
        wellId: entry.wellId,
        entryType: entry.entryType,
        recordedAt: entry.recordedAt,
        data: entry.data,
        latitude: entry.latitude,
        longitude: entry.longitude,
        photos: entry.photos,
        notes: entry.notes,
      }),
    )
    .digest();
  return uuidFromHash(hash, 8);
}

/** `YYYY-MM-DD` of an ISO 8601 date or date-time as written (the device's local day when it sent an offset). */
const datePart = (text: string | undefined) => text?.slice(0, 10);
const withPhotos = (notes: string | undefined, photos: string[] | undefined): string | undefined => {
  const lines = [notes, photos?.length ? `Photos: ${photos.join(' ')}` : undefined].filter(
    (line): line is string => line !== undefined && line !== '',
  );
  return lines.length ? lines.join('\n') : undefined;
};
/** Drops undefined members, so the v1 payload holds only what the entry had. */
const defined = <T extends Record<string, unknown>>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;

/** The inspection verdict v1 requires, from what the document's inspection says. */
function inspectionStatus(data: Entry['data']): 'PASS' | 'FAIL' | 'NEEDS_ATTENTION' {
  if (data.equipmentStatus === 'FAILED') return 'FAIL';
  if (data.equipmentStatus === 'DEGRADED' || data.leaksDetected || data.safetyHazards)
    return 'NEEDS_ATTENTION';
  return 'PASS';
}

/** A maintenance entry names no equipment: it is kept as a note on its well, every field written out. */
function maintenanceText(entry: Entry): string {
  const d = entry.data;
  const lines = [
    `Maintenance${d.maintenanceType ? ` (${d.maintenanceType})` : ''}`,
    d.workPerformed?.length ? `Work performed: ${d.workPerformed.join('; ')}` : undefined,
    d.partsReplaced?.length ? `Parts replaced: ${d.partsReplaced.join('; ')}` : undefined,
    d.downtime !== undefined ? `Downtime: ${d.downtime} h` : undefined,
    d.cost !== undefined ? `Cost: ${d.cost} USD` : undefined,
    d.vendorName ? `Vendor: ${d.vendorName}` : undefined,
    d.nextMaintenanceDate ? `Next maintenance: ${datePart(d.nextMaintenanceDate)}` : undefined,
    withPhotos(entry.notes, entry.photos),
  ];
  return lines.filter((line): line is string => line !== undefined).join('\n');
}

/**
 * The v1 event of an entry (SPEC "Events"): PRODUCTION → PRODUCTION_LOGGED for the day of `recordedAt`;
 * INSPECTION → EQUIPMENT_INSPECTED of the well; MAINTENANCE → NOTES_ADDED on the well (v1's
 * MAINTENANCE_LOGGED needs equipment, which the document's entries do not name). `recordedAt` is the event's
 * occurredAt; latitude/longitude its location. The v1 checks (CLOCK_SKEW, a production day in the future,
 * ranges) then judge it like any pushed event.
 */
export function entryToEvent(id: string, entry: Entry): Record<string, unknown> {
  const d = entry.data;
  const location =
    entry.latitude !== undefined && entry.longitude !== undefined
      ? { location: { latitude: entry.latitude, longitude: entry.longitude } }
      : {};
  const notes = withPhotos(entry.notes, entry.photos);
  const base = { id, occurredAt: entry.recordedAt, ...location };
  switch (entry.entryType) {
    case 'PRODUCTION':
      return {
        ...base,
        type: 'PRODUCTION_LOGGED',
        payload: defined({
          wellId: entry.wellId,
          productionDate: datePart(entry.recordedAt),
          oilVolume: d.oilVolume,
          gasVolume: d.gasVolume,
          waterVolume: d.waterVolume,
          tubingPressure: d.tubingPressure,
          casingPressure: d.casingPressure,
          chokeSize: d.chokeSize,
          runtime: d.runtime,
          notes,
        }),
      };
    case 'INSPECTION':
      return {
        ...base,
        type: 'EQUIPMENT_INSPECTED',
        payload: defined({
          wellId: entry.wellId,
          inspectionType: d.inspectionType ?? 'ROUTINE',
          status: inspectionStatus(d),
          // v1 equipment knows no DEGRADED: a degraded unit is one that needs maintenance.
          equipmentStatus: d.equipmentStatus === 'DEGRADED' ? 'MAINTENANCE' : d.equipmentStatus,
          leaksDetected: d.leaksDetected,
          safetyHazards: d.safetyHazards === undefined ? undefined : d.safetyHazards ? 'REPORTED' : 'NONE',
          visualCondition: d.visualCondition,
          correctiveActions: d.correctiveActions?.length ? d.correctiveActions.join('\n') : undefined,
          nextInspectionDate: datePart(d.nextInspectionDate),
          notes,
          inspectedAt: entry.recordedAt,
        }),
      };
    case 'MAINTENANCE':
      return {
        ...base,
        type: 'NOTES_ADDED',
        payload: { target: { type: 'WELL', id: entry.wellId }, text: maintenanceText(entry) },
      };
  }
}

/** Where a v1 payload field came from in the entry, for error messages (`data.oilVolume`, `recordedAt`…). */
function entryField(path: string): string {
  const tail = path.replace(/^events\[\d+\]\.?/, '');
  if (tail === 'occurredAt' || /^payload\.(productionDate|inspectedAt)$/.test(tail)) return 'recordedAt';
  if (tail.startsWith('location.')) return tail.slice('location.'.length);
  if (/^payload\.(wellId|target)/.test(tail)) return 'wellId';
  if (tail === 'payload.notes' || tail === 'payload.text') return 'notes';
  if (tail === 'payload.status' || tail === 'payload.equipmentStatus') return 'data.equipmentStatus';
  if (tail.startsWith('payload.')) return `data.${tail.slice('payload.'.length)}`;
  return tail || 'entry';
}

/** The document's `error` text of an entry that was not stored: the v1 code and message, fields named as the entry's. */
// `code` may also be the outcome's status, when an outcome carries no error.
function errorText(
  index: number,
  error: Omit<NonNullable<EventOutcome['error']>, 'code'> & { code: string },
): string {
  const fields = (error.errors ?? []).map((e) => `entries[${index}].${entryField(e.path)}: ${e.message}`);
  return [`${error.code}: ${error.message}`, ...fields].join('; ');
}

/** A conflict's `resolution` in the document's terms: a held one keeps the server's value until reviewed. */
const RESOLUTION = {
  CLIENT_WINS: 'CLIENT_WINS',
  SERVER_WINS: 'SERVER_WINS',
  MERGED: 'MERGED',
  PENDING_REVIEW: 'SERVER_WINS',
} as const;

/**
 * The document's push answer from the batch outcome. Per entry (in request order), by its event's status:
 * APPLIED, DUPLICATE (sent before) and CONFLICT (stored, merged; listed in `conflicts`) are `succeeded`;
 * REJECTED and FAILED are `failed`, each listed in `errors`; still PENDING (processing outlasted the wait)
 * is in neither — stored and enqueued, so a re-push answers it as a duplicate.
 */
export function pushResponse(
  entries: readonly Entry[],
  ids: readonly string[],
  outcome: Pick<BatchOutcome, 'events'> | undefined,
  syncedAt: string,
): WellpulsePushResponse {
  const byId = new Map<string, EventOutcome>();
  for (const event of outcome?.events ?? []) if (event.eventId) byId.set(event.eventId, event);
  const answer: WellpulsePushResponse = { succeeded: 0, failed: 0, conflicts: [], errors: [], syncedAt };
  entries.forEach((entry, index) => {
    const id = ids[index] ?? '';
    const event = byId.get(id);
    if (!event || event.status === 'PENDING') return;
    if (event.status === 'REJECTED' || event.status === 'FAILED') {
      answer.failed += 1;
      const error = event.error ?? { code: event.status, message: 'not stored', retryable: false };
      answer.errors.push({ wellId: entry.wellId, error: errorText(index, error) });
      return;
    }
    answer.succeeded += 1;
    if (event.conflict) {
      const c = event.conflict;
      answer.conflicts.push({
        entryId: id,
        wellId: entry.wellId,
        recordedAt: entry.recordedAt,
        reason:
          `another write changed ${c.fields.join(', ')}` +
          (c.resolution === 'PENDING_REVIEW'
            ? '; held for a manager (the server value stays until then)'
            : ''),
        resolution: RESOLUTION[c.resolution],
      });
    }
  });
  return answer;
}

/** A well as the document's pull sends it. */
export const toWell = (well: Well): WellpulsePullResponse['wells'][number] => ({
  id: well.id,
  name: well.name,
  apiNumber: well.apiNumber,
  latitude: well.latitude,
  longitude: well.longitude,
  status: well.status,
  lease: well.lease,
  field: well.field,
  operator: well.operator,
});

/** A user as the document's pull sends it (`email` is a string there: '' when none is known). */
export const toUser = (user: UserEntity): WellpulsePullResponse['users'][number] => ({
  id: user.id,
  email: user.email ?? '',
  name: user.displayName,
  role: user.role,
});

/**
 * What a device's "last successful sync" is (document "Sync Status" `lastSyncAt`): the later of its last pull
 * (v1 `lastPullAt`) and the moment its pushed entries were all processed (v1 `lastSyncAt`), or null.
 */
export function lastSyncOf(status: { lastPullAt: string | null; lastSyncAt: string | null }): string | null {
  const times = [status.lastPullAt, status.lastSyncAt].filter((t): t is string => t !== null);
  if (!times.length) return null;
  return new Date(Math.max(...times.map((t) => Date.parse(t)))).toISOString();
}
