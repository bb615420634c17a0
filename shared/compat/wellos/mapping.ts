import { z } from 'zod';
import { isoDateTimeSchema, type Problem } from '../../contracts/common.js';
import type { ConflictReport, EventOutcome } from '../../contracts/sync.js';
import { deviceIdSchema, type EventType, PRODUCTION_FIELDS } from '../../contracts/events.js';
import { ValidationError } from '../../errors.js';
import { uuidV5 } from '../../sync/uuid.js';

/*
 * The WellOS dialect (source document 000, "Offline-First Batch Sync Pattern"): pure translation between its
 * `POST /field-data/sync` and the v1 push (SPEC "Events", "Batch outcome"). No rule of the engine lives here:
 * the push use case validates the translated events, the processor decides their outcomes, and this file only
 * renames fields and turns outcomes into the document's `{syncedEventIds, conflicts, errors}`.
 */

/** The document's event types (its `FieldDataEventType` enum, section "1. Local Event Store"). */
export const WELLOS_EVENT_TYPES = [
  'WELL_READING_RECORDED',
  'EQUIPMENT_INSPECTED',
  'PRODUCTION_LOGGED',
  'PHOTO_ATTACHED',
  'NOTES_ADDED',
  'EQUIPMENT_REPAIRED',
] as const;
export type WellosEventType = (typeof WELLOS_EVENT_TYPES)[number];

/** The most events one request gets processed: the v1 push's limit (SPEC "Routes", 1..1000). */
export const WELLOS_MAX_EVENTS = 1000;

/**
 * How long a sync waits for its events to be processed, in seconds: 30, the cap of v1's `Prefer: wait`.
 * Far below the 230 s after which Azure's front end drops an idle HTTP request to a Function App (whatever
 * functionTimeout says), and long enough for a shift's batch (≤ 1000 events) on a processor that is not
 * backlogged; an event not done by then is in none of the lists, so the client sends it again and it comes
 * back as synced (a duplicate). Holding the request longer would hold an instance's connection and poll the
 * tenant database for little gain.
 */
export const WELLOS_MAX_WAIT_SECONDS = 30;

/** The unit names a PRODUCTION_LOGGED `volume` may carry (lower-cased), and the v1 field each one fills. */
export const VOLUME_UNITS: Readonly<Record<string, 'oilVolume' | 'gasVolume'>> = {
  barrels: 'oilVolume',
  barrel: 'oilVolume',
  bbl: 'oilVolume',
  bbls: 'oilVolume',
  mcf: 'gasVolume',
};

/** What the unit of each v1 volume field is called in the document's answers. */
const UNIT_OF: Record<'oilVolume' | 'gasVolume', string> = { oilVolume: 'barrels', gasVolume: 'mcf' };

/** The v1 production fields a PRODUCTION_LOGGED payload may also carry as they are: all of them. */
const PRODUCTION_PASSTHROUGH = PRODUCTION_FIELDS;

/** The v1 maintenance fields an EQUIPMENT_REPAIRED payload may carry as they are. */
const REPAIR_PASSTHROUGH = [
  'equipmentId',
  'workPerformed',
  'partsReplaced',
  'downtimeHours',
  'cost',
  'vendorName',
  'nextMaintenanceDate',
] as const;

/**
 * One row of the mapping table: the v1 event type a document type becomes, and how v1 field names in refusal
 * paths read in the document's terms (`renames`: v1 field → document field).
 */
export interface TypeMapping {
  v1Type: EventType;
  /** The payload fields of the v1 type that come from a differently named document field. */
  renames: Readonly<Record<string, string>>;
  /** One line for the docs and the OpenAPI description. */
  summary: string;
}

/** The mapping table (docs/compat/wellos.md shows the same): each document type onto its v1 type. */
export const TYPE_MAPPINGS: Readonly<Record<WellosEventType, TypeMapping>> = {
  PRODUCTION_LOGGED: {
    v1Type: 'PRODUCTION_LOGGED',
    renames: { oilVolume: 'volume', gasVolume: 'volume', productionDate: 'recordedAt' },
    summary:
      'volume in barrels/bbl (or no unit) → oilVolume, in mcf → gasVolume; productionDate = the calendar day ' +
      'of recordedAt as written (or of timestamp); the other v1 production fields pass as they are',
  },
  WELL_READING_RECORDED: {
    v1Type: 'WELL_READING_RECORDED',
    renames: {},
    summary: 'the same payload (wellId, readingType, value, unit, recordedAt)',
  },
  EQUIPMENT_INSPECTED: {
    v1Type: 'EQUIPMENT_INSPECTED',
    renames: {},
    summary: 'the same payload (wellId, equipmentId, inspectionType, status, notes, inspectedAt, v1 extras)',
  },
  PHOTO_ATTACHED: {
    v1Type: 'PHOTO_ATTACHED',
    renames: {},
    summary: 'the v1 payload (the photo uploaded through POST /v1/photos/upload-urls first)',
  },
  NOTES_ADDED: {
    v1Type: 'NOTES_ADDED',
    renames: { text: 'notes' },
    summary:
      'target {type, id} and text, or wellId / equipmentId → target WELL / EQUIPMENT and text or notes → text',
  },
  EQUIPMENT_REPAIRED: {
    v1Type: 'MAINTENANCE_LOGGED',
    renames: { performedAt: 'repairedAt' },
    summary:
      'MAINTENANCE_LOGGED with maintenanceType REPAIR: equipmentId; description (or notes; default ' +
      '"Equipment repaired"); performedAt = repairedAt, performedAt or timestamp; workPerformed, partsReplaced, ' +
      'downtimeHours, cost, vendorName, nextMaintenanceDate as they are',
  },
};

/** One event as the document's client sends it (`FieldDataEvent`); its local-only fields are ignored. */
export const wellosEventSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(128)
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    .refine((id) => id === id.trim() && !/[\u0000-\u001f\u007f]/.test(id), {
      message: 'must have no control characters and no leading or trailing spaces',
    }),
  type: z.string(),
  payload: z.record(z.string(), z.unknown()),
  timestamp: isoDateTimeSchema,
  deviceId: z.string().optional(),
  userId: z.string().optional(),
  synced: z.boolean().optional(),
  syncAttempts: z.number().optional(),
  createdAt: z.string().optional(),
});

/** `deviceInfo` of the request (the document's `DeviceInfo`). */
export const wellosDeviceInfoSchema = z.object({
  deviceId: z.string().optional(),
  platform: z.enum(['electron', 'ios', 'android', 'web']).optional(),
  appVersion: z
    .string()
    .regex(/^[\x20-\x7e]{1,64}$/, 'must be 1–64 printable ASCII characters')
    .optional(),
});

/** The request body of `POST /field-data/sync`: `{tenantId, events, deviceInfo}` (document section 4). */
export const wellosSyncBodySchema = z.object({
  tenantId: z.string().optional(),
  events: z.array(z.unknown()),
  deviceInfo: wellosDeviceInfoSchema.optional(),
});
export type WellosSyncBody = z.infer<typeof wellosSyncBodySchema>;

/** A conflict as the document's client declares it (`Conflict`), plus the v1 conflict id and resolution. */
export const wellosConflictSchema = z.object({
  eventId: z.string(),
  reason: z.string(),
  localData: z.record(z.string(), z.unknown()),
  serverData: z.record(z.string(), z.unknown()),
  conflictId: z.string(),
  resolution: z.enum(['CLIENT_WINS', 'SERVER_WINS', 'MERGED', 'PENDING_REVIEW']),
});
export type WellosConflict = z.infer<typeof wellosConflictSchema>;

/** The answer (the document's `SyncResponseDto`, camelCase as its client reads it). */
export const wellosSyncResponseSchema = z.object({
  syncedEventIds: z.array(z.string()),
  conflicts: z.array(wellosConflictSchema),
  errors: z.array(z.string()),
});
export type WellosSyncResponse = z.infer<typeof wellosSyncResponseSchema>;

/** The error body: the answer's own shape, every list empty but `errors`. */
export const wellosErrorBodySchema = z.object({
  syncedEventIds: z.array(z.string()).max(0),
  conflicts: z.array(z.unknown()).max(0),
  errors: z.array(z.string()).min(1),
});

/**
 * The dialect's error body from the one problem mapping (shared/http/problem.ts): the document's server
 * answers errors with a bare status, and its client only reads `response.ok`; a body of the answer's own shape
 * lets a client that does parse it find the reason in `errors` — the title and detail, then each field error.
 */
export function renderWellosError(problem: Problem): { body: unknown; contentType: string } {
  const head = problem.detail ? `${problem.title}: ${problem.detail}` : problem.title;
  const fields = (problem.errors ?? []).map((e) => `${e.path}: ${e.message}`);
  return {
    body: { syncedEventIds: [], conflicts: [], errors: [head, ...fields] },
    contentType: 'application/json',
  };
}

/** The fixed namespace of the ids derived for non-UUID client ids (RFC 9562 §5.5, UUIDv5). */
const WELLOS_ID_NAMESPACE = 'a0c1f7e2-5b3d-4e8a-9f60-1d2c3b4a5e6f';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The v1 event id of a client's event: the client's id when it is a UUID (the document's client makes UUID v4
 * ids, so the same event is the same event on every route, v1 included); otherwise a UUIDv5 of
 * (tenant, device, client id), stable, so sending the event again is a duplicate, and distinct per device.
 */
export function wellosEventId(tenantId: string, deviceId: string, clientId: string): string {
  if (UUID.test(clientId)) return clientId.toLowerCase();
  return uuidV5(WELLOS_ID_NAMESPACE, JSON.stringify([tenantId, deviceId, clientId]));
}

/**
 * The request's device: `deviceInfo.deviceId`, else the `X-Device-Id` header, else the first event's `deviceId`
 * (the document's client sends all three). ValidationError when none is given, when it is not a v1 device id,
 * or when the header and deviceInfo disagree.
 */
export function wellosDeviceId(header: string | null, body: WellosSyncBody): string {
  const fromInfo = body.deviceInfo?.deviceId;
  if (header !== null && fromInfo !== undefined && header !== fromInfo) {
    throw new ValidationError('X-Device-Id and deviceInfo.deviceId name different devices', [
      { path: 'deviceInfo.deviceId', message: `must equal X-Device-Id ${JSON.stringify(header)}` },
    ]);
  }
  const first = (body.events[0] as { deviceId?: unknown } | null | undefined)?.deviceId;
  const deviceId = fromInfo ?? header ?? (typeof first === 'string' ? first : undefined);
  if (deviceId === undefined) {
    throw new ValidationError('the device is not named', [
      { path: 'deviceInfo.deviceId', message: 'is required (or the X-Device-Id header)' },
    ]);
  }
  const valid = deviceIdSchema.safeParse(deviceId);
  if (!valid.success) {
    throw new ValidationError('the device id is invalid', [
      { path: 'deviceInfo.deviceId', message: valid.error.issues[0]?.message ?? 'is invalid' },
    ]);
  }
  return deviceId;
}

/** A v1 event ready for the push use case (SPEC "Events"). */
export interface V1Event {
  id: string;
  type: EventType;
  occurredAt: string;
  payload: Record<string, unknown>;
}

/** One client event after translation: its v1 form, or the reason it cannot be sent (an `errors` string). */
export type Translation =
  | {
      ok: true;
      clientId: string;
      index: number;
      docType: WellosEventType;
      event: V1Event;
      local: Record<string, unknown>;
    }
  | { ok: false; clientId: string | undefined; index: number; error: string };

const pick = (from: Record<string, unknown>, keys: readonly string[]) =>
  Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]]));

/** The calendar day of an RFC 3339 date-time as written (its first ten characters: the device's own day). */
const dayOf = (dateTime: string) => dateTime.slice(0, 10);

/** `Event <id>: <reason>`, the document's server's format for a failed event (section 5, `execute_sync`). */
export const eventError = (clientId: string | undefined, index: number, reason: string) =>
  `Event ${clientId ?? `#${index}`}: ${reason}`;

/** A v1 payload of a document payload, or the reason it cannot be one (paths `events[i].payload.…`). */
function v1Payload(
  type: WellosEventType,
  payload: Record<string, unknown>,
  timestamp: string,
  at: string,
): { ok: true; payload: Record<string, unknown> } | { ok: false; reason: string } {
  switch (type) {
    case 'PRODUCTION_LOGGED': {
      const out: Record<string, unknown> = {
        wellId: payload.wellId,
        ...pick(payload, PRODUCTION_PASSTHROUGH),
      };
      if (payload.volume !== undefined) {
        const unit = payload.unit === undefined ? 'barrels' : payload.unit;
        const field = typeof unit === 'string' ? VOLUME_UNITS[unit.toLowerCase()] : undefined;
        if (!field) {
          return {
            ok: false,
            reason: `INVALID_PAYLOAD: ${at}.unit: must be one of ${Object.keys(VOLUME_UNITS).join(', ')}`,
          };
        }
        out[field] = payload.volume;
      }
      if (payload.productionDate !== undefined) out.productionDate = payload.productionDate;
      else if (payload.recordedAt !== undefined) {
        const recordedAt = isoDateTimeSchema.safeParse(payload.recordedAt);
        if (!recordedAt.success) {
          return {
            ok: false,
            reason: `INVALID_PAYLOAD: ${at}.recordedAt: ${recordedAt.error.issues[0]?.message}`,
          };
        }
        out.productionDate = dayOf(recordedAt.data);
      } else out.productionDate = dayOf(timestamp);
      return { ok: true, payload: out };
    }
    case 'NOTES_ADDED': {
      if (payload.target !== undefined) return { ok: true, payload };
      const target =
        payload.wellId !== undefined
          ? { type: 'WELL', id: payload.wellId }
          : payload.equipmentId !== undefined
            ? { type: 'EQUIPMENT', id: payload.equipmentId }
            : undefined;
      if (!target) {
        return { ok: false, reason: `INVALID_PAYLOAD: ${at}: needs a target, a wellId or an equipmentId` };
      }
      return { ok: true, payload: { target, text: payload.text ?? payload.notes } };
    }
    case 'EQUIPMENT_REPAIRED':
      return {
        ok: true,
        payload: {
          ...pick(payload, REPAIR_PASSTHROUGH),
          maintenanceType: 'REPAIR',
          description: payload.description ?? payload.notes ?? 'Equipment repaired',
          performedAt: payload.repairedAt ?? payload.performedAt ?? timestamp,
        },
      };
    default:
      return { ok: true, payload };
  }
}

/**
 * Translates the request's events (at most WELLOS_MAX_EVENTS; the caller leaves the rest out of every list) into
 * v1 events. An event that is not one of the document's, is malformed, or was recorded on another device than the
 * request's becomes an `errors` string; the others go to the push use case, which validates them as v1 events.
 */
export function translateEvents(
  tenantId: string,
  deviceId: string,
  events: readonly unknown[],
): Translation[] {
  return events.map((raw, index): Translation => {
    const at = `events[${index}].payload`;
    const rawId = (raw as { id?: unknown } | null)?.id;
    const parsed = wellosEventSchema.safeParse(raw);
    if (!parsed.success) {
      const clientId = typeof rawId === 'string' && rawId.length <= 128 ? rawId : undefined;
      const issues = parsed.error.issues.map((i) => `events[${index}].${i.path.join('.')}: ${i.message}`);
      return {
        ok: false,
        clientId,
        index,
        error: eventError(clientId, index, `INVALID_PAYLOAD: ${issues.join('; ')}`),
      };
    }
    const event = parsed.data;
    const fail = (reason: string): Translation => ({
      ok: false,
      clientId: event.id,
      index,
      error: eventError(event.id, index, reason),
    });
    if (!(WELLOS_EVENT_TYPES as readonly string[]).includes(event.type)) {
      return fail(
        `UNKNOWN_EVENT_TYPE: ${JSON.stringify(event.type)} is not one of ${WELLOS_EVENT_TYPES.join(', ')}`,
      );
    }
    if (event.deviceId !== undefined && event.deviceId !== deviceId) {
      return fail(
        `DEVICE_MISMATCH: recorded on device ${JSON.stringify(event.deviceId)}, sent by ${deviceId}`,
      );
    }
    const docType = event.type as WellosEventType;
    const payload = v1Payload(docType, event.payload, event.timestamp, at);
    if (!payload.ok) return fail(payload.reason);
    return {
      ok: true,
      clientId: event.id,
      index,
      docType,
      local: event.payload,
      event: {
        id: wellosEventId(tenantId, deviceId, event.id),
        type: TYPE_MAPPINGS[docType].v1Type,
        occurredAt: event.timestamp,
        payload: payload.payload,
      },
    };
  });
}

/**
 * A v1 refusal's JSON path in the document's terms: the request's own index, `timestamp` for `occurredAt`, and the
 * document's field names for renamed fields (`events[0].payload.oilVolume` → `events[2].payload.volume`).
 */
export function documentPath(path: string, translation: Extract<Translation, { ok: true }>): string {
  const renames = TYPE_MAPPINGS[translation.docType].renames;
  return path
    .replace(/^events\[\d+\]/, `events[${translation.index}]`)
    .replace(/^(events\[\d+\])\.occurredAt/, '$1.timestamp')
    .replace(
      /^(events\[\d+\]\.payload)\.([A-Za-z0-9_]+)/,
      (_m, head: string, field: string) => `${head}.${renames[field] ?? field}`,
    );
}

const RESOLUTION_TEXT: Record<ConflictReport['resolution'], string> = {
  SERVER_WINS: "the server's value was kept",
  CLIENT_WINS: 'your value replaced it',
  MERGED: 'a merged value was kept',
  PENDING_REVIEW: 'held for review by a manager',
};

/** The conflicting values in the document's terms: a volume field reads as `volume` with its `unit`. */
function documentValues(values: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(values)) {
    if ((field === 'oilVolume' || field === 'gasVolume') && out.volume === undefined) {
      out.volume = value;
      out.unit = UNIT_OF[field];
    } else out[field] = value;
  }
  return out;
}

/** One conflict as the document's client reads it, from the v1 conflict report of the event. */
export function toWellosConflict(
  translation: Extract<Translation, { ok: true }>,
  report: ConflictReport,
): WellosConflict {
  const p = translation.event.payload;
  const where =
    translation.event.type === 'PRODUCTION_LOGGED'
      ? `Production data for well ${String(p.wellId)} on ${String(p.productionDate)}`
      : `The data this ${translation.docType} event changes`;
  const key =
    translation.event.type === 'PRODUCTION_LOGGED'
      ? { wellId: p.wellId, productionDate: p.productionDate }
      : {};
  const fields = report.fields.join(', ');
  return {
    eventId: translation.clientId,
    reason: `${where} already has another value of ${fields} from another writer; ${RESOLUTION_TEXT[report.resolution]}`,
    localData: translation.local,
    serverData: { ...key, ...documentValues(report.serverValue) },
    conflictId: report.conflictId,
    resolution: report.resolution,
  };
}

/** The `errors` text of a v1 refusal (REJECTED or FAILED outcome), paths in the document's terms. */
function refusalText(translation: Extract<Translation, { ok: true }>, outcome: EventOutcome): string {
  const error = outcome.error;
  if (!error) return eventError(translation.clientId, translation.index, outcome.status);
  const paths = (error.errors ?? []).map((e) => `${documentPath(e.path, translation)}: ${e.message}`);
  const retry = error.retryable ? ' (retryable: sync again)' : '';
  return eventError(
    translation.clientId,
    translation.index,
    `${error.code}: ${error.message}${paths.length ? ` (${paths.join('; ')})` : ''}${retry}`,
  );
}

/**
 * The answer from the batch outcome (complete or not): APPLIED and DUPLICATE → `syncedEventIds`, CONFLICT →
 * `conflicts`, REJECTED and FAILED → `errors`, PENDING (not done in time) → nowhere, so the client sends it
 * again. Each client id appears once, in the request's order; `extraErrors` (about the request) come last.
 */
export function toSyncResponse(
  translations: readonly Translation[],
  outcomes: readonly EventOutcome[],
  extraErrors: readonly string[] = [],
): WellosSyncResponse {
  // The first outcome of an id wins: the batch lists its stored events before duplicates and refusals.
  const byId = new Map<string, EventOutcome>();
  for (const o of outcomes) {
    const id = o.eventId?.toLowerCase();
    if (id && !byId.has(id)) byId.set(id, o);
  }
  const response: WellosSyncResponse = { syncedEventIds: [], conflicts: [], errors: [] };
  const done = new Set<string>();
  for (const t of translations) {
    const clientKey = t.clientId ?? `#${t.index}`;
    if (done.has(clientKey)) continue;
    done.add(clientKey);
    if (!t.ok) {
      response.errors.push(t.error);
      continue;
    }
    const outcome = byId.get(t.event.id.toLowerCase());
    if (!outcome) continue;
    switch (outcome.status) {
      case 'APPLIED':
      case 'DUPLICATE':
        response.syncedEventIds.push(t.clientId);
        break;
      case 'CONFLICT':
        if (outcome.conflict) response.conflicts.push(toWellosConflict(t, outcome.conflict));
        break;
      case 'REJECTED':
      case 'FAILED':
        response.errors.push(refusalText(t, outcome));
        break;
      case 'PENDING':
        break;
    }
  }
  response.errors.push(...extraErrors);
  return response;
}

/** `Prefer: wait=N` (seconds): a client may ask for a shorter wait than WELLOS_MAX_WAIT_SECONDS, never longer. */
export function wellosWaitSeconds(prefer: string | null): number {
  const match = prefer ? /(?:^|[,;\s])wait=(\d+)/i.exec(prefer) : null;
  return match?.[1] ? Math.min(WELLOS_MAX_WAIT_SECONDS, Number(match[1])) : WELLOS_MAX_WAIT_SECONDS;
}

/** Documentation shape of one event (OpenAPI): the document's `FieldDataEvent`. */
export const wellosEventDocSchema = wellosEventSchema.extend({
  type: z.enum(WELLOS_EVENT_TYPES),
  payload: z.record(z.string(), z.unknown()).describe(
    Object.entries(TYPE_MAPPINGS)
      .map(([type, m]) => `${type} → ${m.v1Type}: ${m.summary}`)
      .join('. '),
  ),
});
