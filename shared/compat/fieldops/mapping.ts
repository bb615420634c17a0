/**
 * Dialect 003 ("fieldops") ↔ v1: pure translation of the document's events and inline photos into v1 events,
 * and of a v1 batch outcome into the document's `BatchSyncResponse`. No rule of the sync engine lives here:
 * the events go through the v1 push and processor (docs/compat/fieldops.md has the table).
 */
import { createHash } from 'node:crypto';
import type { Principal } from '../../auth/principal.js';
import { deviceIdSchema } from '../../contracts/events.js';
import type { PhotoContentType } from '../../contracts/photos.js';
import type { BatchOutcome, ConflictReport, EventOutcome } from '../../contracts/sync.js';
import { ValidationError } from '../../errors.js';
import {
  type FieldopsBatchResponse,
  type FieldopsEvent,
  type FieldopsFailed,
  fieldopsEventSchema,
  type FieldopsPhoto,
  fieldopsPhotoSchema,
} from './wire.js';
import { uuidFromHash } from '../../sync/uuid.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A UUID fixed by its parts (name-based, like RFC 9562 v5 but over SHA-256): the same parts always give the
 * same id, so a re-sent batch maps onto the same v1 ids and is a duplicate, never a second copy.
 */
export function derivedUuid(...parts: string[]): string {
  return uuidFromHash(createHash('sha256').update(parts.join('\u0000')).digest(), 5);
}

/**
 * The device a request speaks for: the body's `deviceId` or the X-Device-Id header (our additions), else one
 * device per user, `fieldops-{userId}` (the document's client names no device). A given id must be a valid
 * v1 device id (ValidationError otherwise).
 */
export function deviceIdFor(principal: Pick<Principal, 'userId'>, ...given: (string | null | undefined)[]) {
  const chosen = given.find((g) => g !== undefined && g !== null && g !== '');
  if (chosen !== undefined && chosen !== null) {
    if (!deviceIdSchema.safeParse(chosen).success) {
      throw new ValidationError('the device id is invalid', [
        { path: 'deviceId', message: 'must be 1–128 letters, digits, ".", "_", ":" or "-"' },
      ]);
    }
    return chosen;
  }
  const clean = principal.userId.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 80);
  // A user id that had to be changed gets a short hash, so two users never share a device.
  const suffix =
    clean === principal.userId
      ? ''
      : `-${createHash('sha256').update(principal.userId).digest('hex').slice(0, 12)}`;
  return `fieldops-${clean}${suffix}`;
}

/** The v1 id of a document event: the client's own when it is a UUID, else one derived from device and id. */
export const v1EventId = (deviceId: string, clientId: string): string =>
  UUID.test(clientId) ? clientId.toLowerCase() : derivedUuid('fieldops-event', deviceId, clientId);

/** A v1 event as pushed (validated again, one by one, by the v1 push). */
export interface V1Event {
  id: string;
  type: string;
  occurredAt: string;
  payload: Record<string, unknown>;
  location?: { latitude: unknown; longitude: unknown; accuracy?: unknown };
}

/** What a photo of an event is attached to (v1 PHOTO_ATTACHED `target`). */
export interface PhotoTarget {
  type: string;
  id: string;
  collection?: string;
}

/** One document event, translated: the v1 event and the target its photos attach to, or why it cannot be. */
export type TranslatedEvent =
  | { ok: true; clientId: string; event: V1Event; photoTarget: PhotoTarget | undefined; photoUrls: string[] }
  | { ok: false; clientId: string; failed: FieldopsFailed };

const PRODUCTION_TYPES = new Set(['PRODUCTION_CREATED', 'PRODUCTION_UPDATED', 'PRODUCTION_LOGGED']);
const MAINTENANCE_TYPES = new Set(['EQUIPMENT_MAINTENANCE_LOGGED', 'MAINTENANCE_LOGGED']);
const PASSED_THROUGH = new Set(['WELL_READING_RECORDED', 'EQUIPMENT_INSPECTED', 'NOTES_ADDED']);
const EQUIPMENT_CHANGE_FIELDS = ['status', 'serialNumber', 'manufacturer', 'model', 'notes'] as const;

const omit = (payload: Record<string, unknown>, ...keys: string[]) =>
  Object.fromEntries(Object.entries(payload).filter(([k, v]) => !keys.includes(k) && v !== undefined));
const dateOnly = (value: unknown) =>
  typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : value;

/**
 * Translates one element of `events` (index `index` of the body). The document's `location` (in the payload,
 * with its own `timestamp`) becomes the v1 event's `location`; `tenantId`, `userId` and `syncStatus` are the
 * client's bookkeeping and are ignored (tenant and user come from the token).
 */
export function translateEvent(raw: unknown, index: number, deviceId: string): TranslatedEvent {
  const rawId = (raw as { id?: unknown } | null)?.id;
  const clientId = typeof rawId === 'string' ? rawId : `events[${index}]`;
  const parsed = fieldopsEventSchema.safeParse(raw);
  if (!parsed.success) {
    return {
      ok: false,
      clientId,
      failed: {
        eventId: clientId,
        reason: 'the event is not of the document shape {id, eventType, aggregateId, payload, timestamp}',
        code: 'INVALID_PAYLOAD',
        retryable: false,
        errors: parsed.error.issues.map((i) => ({
          path: `events[${index}]${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`,
          message: i.message,
        })),
      },
    };
  }
  const e: FieldopsEvent = parsed.data;
  const id = v1EventId(deviceId, e.id);
  const rawLocation = e.payload.location as {
    latitude?: unknown;
    longitude?: unknown;
    accuracy?: unknown;
  } | null;
  const location =
    rawLocation && typeof rawLocation === 'object'
      ? {
          latitude: rawLocation.latitude,
          longitude: rawLocation.longitude,
          ...(rawLocation.accuracy !== undefined && rawLocation.accuracy !== null
            ? { accuracy: rawLocation.accuracy }
            : {}),
        }
      : undefined;
  const payload = omit(e.payload, 'location');
  const base = { id, occurredAt: e.timestamp, ...(location ? { location } : {}) };
  const photoUrls = Array.isArray(payload.photoUrls)
    ? payload.photoUrls.filter((u): u is string => typeof u === 'string')
    : [];
  const done = (event: V1Event, photoTarget: PhotoTarget | undefined): TranslatedEvent => ({
    ok: true,
    clientId: e.id,
    event,
    photoTarget,
    photoUrls,
  });

  if (PRODUCTION_TYPES.has(e.eventType)) {
    return done(
      {
        ...base,
        type: 'PRODUCTION_LOGGED',
        payload: {
          ...omit(payload, 'entryMethod', 'photoUrls', 'photoPath'),
          wellId: payload.wellId ?? e.aggregateId,
          productionDate: dateOnly(payload.productionDate),
        },
      },
      { type: 'PRODUCTION', id },
    );
  }
  if (MAINTENANCE_TYPES.has(e.eventType)) {
    const maintenanceDate = dateOnly(payload.maintenanceDate);
    return done(
      {
        ...base,
        type: 'MAINTENANCE_LOGGED',
        payload: {
          ...omit(payload, 'maintenanceDate', 'technician', 'photoPath', 'photoUrls'),
          equipmentId: payload.equipmentId ?? e.aggregateId,
          ...(payload.technician !== undefined && payload.vendorName === undefined
            ? { vendorName: payload.technician }
            : {}),
          performedAt:
            payload.performedAt ??
            (typeof maintenanceDate === 'string' ? `${maintenanceDate}T00:00:00.000Z` : e.timestamp),
        },
      },
      { type: 'MAINTENANCE', id },
    );
  }
  if (e.eventType === 'EQUIPMENT_UPDATED') {
    const equipmentId = payload.equipmentId ?? e.aggregateId;
    const changes =
      payload.changes && typeof payload.changes === 'object'
        ? payload.changes
        : Object.fromEntries(EQUIPMENT_CHANGE_FIELDS.filter((f) => f in payload).map((f) => [f, payload[f]]));
    return done(
      {
        ...base,
        type: 'EQUIPMENT_UPDATED',
        // The document's client keeps no versions: without one, the edit is made against version 1, so any
        // later write by another device is a conflict settled by the tenant's strategy (LWW by default).
        payload: { equipmentId, baseVersion: payload.baseVersion ?? 1, changes },
      },
      typeof equipmentId === 'string' ? { type: 'EQUIPMENT', id: equipmentId } : undefined,
    );
  }
  if (PASSED_THROUGH.has(e.eventType)) {
    const target =
      e.eventType === 'EQUIPMENT_INSPECTED'
        ? { type: 'INSPECTION', id }
        : e.eventType === 'NOTES_ADDED'
          ? (payload.target as PhotoTarget | undefined)
          : { type: 'WELL', id: String(payload.wellId ?? e.aggregateId) };
    const filled =
      e.eventType === 'NOTES_ADDED' ? payload : { ...payload, wellId: payload.wellId ?? e.aggregateId };
    return done({ ...base, type: e.eventType, payload: omit(filled, 'photoUrls', 'photoPath') }, target);
  }
  return {
    ok: false,
    clientId: e.id,
    failed: {
      eventId: e.id,
      reason: `eventType ${e.eventType} is not one this server takes (docs/compat/fieldops.md lists them)`,
      code: 'UNKNOWN_EVENT_TYPE',
      retryable: false,
    },
  };
}

/** One inline photo, decoded: its bytes and stable id, or why it cannot be taken. */
export type DecodedPhoto =
  | { ok: true; photo: FieldopsPhoto; photoId: string; bytes: Buffer; index: number }
  | { ok: false; eventId: string; filename: string | undefined; failed: FieldopsFailed };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes one element of `photos`. Its photo id is fixed by the device, the event, the file name and its
 * rank among the event's photos of that name — so a re-sent batch names the same photo (no second copy).
 * A `data:…;base64,` prefix is accepted (what FileReader gives); anything that is not base64 is refused.
 */
export function decodePhoto(raw: unknown, index: number, deviceId: string, rank: number): DecodedPhoto {
  const parsed = fieldopsPhotoSchema.safeParse(raw);
  const r = raw as { eventId?: unknown; filename?: unknown } | null;
  const eventId = typeof r?.eventId === 'string' ? r.eventId : `photos[${index}]`;
  const filename = typeof r?.filename === 'string' ? r.filename : undefined;
  const refuse = (reason: string, path: string): DecodedPhoto => ({
    ok: false,
    eventId,
    filename,
    failed: {
      eventId,
      reason,
      code: 'INVALID_PAYLOAD',
      retryable: false,
      ...(filename ? { filename } : {}),
      errors: [{ path, message: reason }],
    },
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return refuse(
      `the photo is not of the document shape {eventId, base64Data, filename, contentType}: ${issue?.message ?? ''}`,
      `photos[${index}]${issue?.path.length ? `.${issue.path.join('.')}` : ''}`,
    );
  }
  const data = parsed.data.base64Data.replace(/^data:[^,]*;base64,/, '').replace(/\s+/g, '');
  if (!BASE64.test(data) || data.length % 4 === 1) {
    return refuse('base64Data is not base64', `photos[${index}].base64Data`);
  }
  const photoId = derivedUuid(
    'fieldops-photo',
    deviceId,
    parsed.data.eventId,
    parsed.data.filename,
    String(rank),
  );
  return { ok: true, photo: parsed.data, photoId, bytes: Buffer.from(data, 'base64'), index };
}

/**
 * The PHOTO_ATTACHED of an inline (or URL-uploaded) photo. Its id is fixed by the photo and the bytes it
 * declares, so a re-send of the same photo is a duplicate, and other bytes under the same name are a new
 * attach that the precheck judges against the (locked) verified blob.
 */
export function photoAttachedEvent(photo: {
  photoId: string;
  blobName: string;
  contentType: PhotoContentType;
  sizeBytes: number;
  sha256?: string;
  target: PhotoTarget;
  occurredAt: string;
}): V1Event {
  return {
    id: derivedUuid('fieldops-photo-attached', photo.photoId, String(photo.sizeBytes), photo.sha256 ?? ''),
    type: 'PHOTO_ATTACHED',
    occurredAt: photo.occurredAt,
    payload: {
      photoId: photo.photoId,
      blobName: photo.blobName,
      contentType: photo.contentType,
      sizeBytes: photo.sizeBytes,
      ...(photo.sha256 ? { sha256: photo.sha256 } : {}),
      target: photo.target,
      takenAt: photo.occurredAt,
    },
  };
}

const RESOLUTIONS: Record<ConflictReport['resolution'], 'MERGE' | 'OVERWRITE' | 'SKIP' | 'USER_PROMPT'> = {
  MERGED: 'MERGE',
  CLIENT_WINS: 'OVERWRITE',
  SERVER_WINS: 'SKIP',
  PENDING_REVIEW: 'USER_PROMPT',
};

/** What one document event became, by the v1 ids that carry it: the event itself and its photos' attaches. */
export interface ResponsePlan {
  /** Client event id → its v1 event id (absent when it never reached v1) and its attaches' v1 ids. */
  events: { clientId: string; v1Id?: string; attachIds: string[] }[];
  /** Events refused before the push (bad shape, unknown type): the event's own refusal. */
  failed: FieldopsFailed[];
  /** Photos refused before the push (bad bytes, no target, never uploaded), by the client id of their event. */
  photoFailed: FieldopsFailed[];
  /** Inline photos, by the v1 id of their attach. */
  photos: {
    eventId: string;
    filename: string;
    photoId: string;
    blobName?: string;
    sizeBytes?: number;
    sha256?: string;
    attachId?: string;
  }[];
}

const settledOk = (o: EventOutcome | undefined) => o?.status === 'APPLIED' || o?.status === 'DUPLICATE';
const failedStatus = (o: EventOutcome | undefined) => o?.status === 'REJECTED' || o?.status === 'FAILED';

/**
 * One `failed` entry per event: the most specific of its refusals — the event's own (its shape, its type, or
 * v1's REJECTED/FAILED), else a photo's that sending again cannot fix, else a retryable one (in the order
 * found) — with the field paths of the others added to its `errors`, so nothing the client could fix is lost.
 * `refusals` are in order of specificity within each kind: the event's own first.
 */
export function oneFailurePerEvent(
  refusals: readonly { own: boolean; failed: FieldopsFailed }[],
): FieldopsFailed[] {
  const rank = (r: { own: boolean; failed: FieldopsFailed }) => (r.own ? 0 : r.failed.retryable ? 2 : 1);
  const byEvent = new Map<string, { own: boolean; failed: FieldopsFailed }[]>();
  for (const refusal of refusals) {
    const list = byEvent.get(refusal.failed.eventId) ?? [];
    list.push(refusal);
    byEvent.set(refusal.failed.eventId, list);
  }
  return [...byEvent.values()].map((list) => {
    const [chosen, ...others] = [...list].sort((a, b) => rank(a) - rank(b));
    const main = (chosen as { failed: FieldopsFailed }).failed;
    const extra = others.flatMap((o) => o.failed.errors ?? []);
    const errors = [...(main.errors ?? []), ...extra].filter(
      (e, i, all) => all.findIndex((x) => x.path === e.path && x.message === e.message) === i,
    );
    return errors.length ? { ...main, errors } : main;
  });
}

/**
 * The document's `BatchSyncResponse` from the v1 outcomes: `synced` lists an event once it and all its photos
 * are APPLIED or DUPLICATE; `conflicts` those whose event is CONFLICT (v1's serverValue/clientValue as
 * existingData/incomingData; MERGED → MERGE, CLIENT_WINS → OVERWRITE, SERVER_WINS → SKIP, PENDING_REVIEW →
 * USER_PROMPT); `failed` those REJECTED or FAILED (or one of whose photos was), with v1's code and message, each
 * event once (oneFailurePerEvent). An event sent twice in one request is answered once. An event still PENDING
 * when the wait ended is in none: the client sends it again. The caller passes outcomes in which a DUPLICATE
 * already stands for its original outcome (withOriginalOutcomes), so a re-sent conflict or refusal is one again.
 */
export function toBatchResponse(
  plan: ResponsePlan,
  outcomes: Map<string, EventOutcome>,
): FieldopsBatchResponse {
  const synced: string[] = [];
  const conflicts: FieldopsBatchResponse['conflicts'] = [];
  const refusals = [
    ...plan.failed.map((failed) => ({ own: true, failed })),
    ...plan.photoFailed.map((failed) => ({ own: false, failed })),
  ];
  const answered = new Set<string>();
  for (const item of plan.events) {
    if (answered.has(item.clientId)) continue;
    answered.add(item.clientId);
    const own = item.v1Id ? outcomes.get(item.v1Id) : undefined;
    const attaches = item.attachIds.map((id) => ({ id, outcome: outcomes.get(id) }));
    if (failedStatus(own)) {
      refusals.push({
        own: true,
        failed: {
          eventId: item.clientId,
          reason: own?.error?.message ?? 'the server could not process the event',
          code: own?.error?.code ?? 'PROCESSING_FAILED',
          retryable: own?.error?.retryable ?? own?.status === 'FAILED',
          ...(own?.error?.errors ? { errors: own.error.errors } : {}),
        },
      });
      continue;
    }
    for (const attach of attaches.filter((a) => failedStatus(a.outcome))) {
      const photo = plan.photos.find((p) => p.attachId === attach.id);
      refusals.push({
        own: false,
        failed: {
          eventId: item.clientId,
          reason: attach.outcome?.error?.message ?? 'the photo could not be attached',
          code: attach.outcome?.error?.code ?? 'PROCESSING_FAILED',
          retryable: attach.outcome?.error?.retryable ?? attach.outcome?.status === 'FAILED',
          ...(photo ? { filename: photo.filename } : {}),
        },
      });
    }
    if (own?.status === 'CONFLICT' && own.conflict) {
      conflicts.push({
        eventId: item.clientId,
        reason: `${own.conflict.fields.join(', ')} ${own.conflict.fields.length === 1 ? 'was' : 'were'} written by another device too; resolved ${own.conflict.resolution}`,
        existingData: own.conflict.serverValue,
        incomingData: own.conflict.clientValue,
        resolution: RESOLUTIONS[own.conflict.resolution],
        conflictId: own.conflict.conflictId,
        fields: own.conflict.fields,
      });
      continue;
    }
    const everyPhotoOk = attaches.every((a) => settledOk(a.outcome));
    const refused = refusals.some((r) => r.failed.eventId === item.clientId);
    if (!refused && settledOk(own) && everyPhotoOk) synced.push(item.clientId);
  }
  const photos = plan.photos.map((p) => {
    const outcome = p.attachId ? outcomes.get(p.attachId) : undefined;
    const status: 'ATTACHED' | 'PENDING' | 'FAILED' = settledOk(outcome)
      ? 'ATTACHED'
      : !p.attachId || failedStatus(outcome)
        ? 'FAILED'
        : 'PENDING';
    const { attachId: _attachId, ...rest } = p;
    return { ...rest, status };
  });
  return { synced, conflicts, failed: oneFailurePerEvent(refusals), photos };
}

/** The outcomes of a batch by v1 event id (duplicates and push-time refusals included). */
export const outcomesById = (outcome: BatchOutcome | undefined): Map<string, EventOutcome> =>
  new Map((outcome?.events ?? []).flatMap((e) => (e.eventId ? [[e.eventId.toLowerCase(), e] as const] : [])));

const TYPE_OF_EXTENSION: Record<string, PhotoContentType> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  heic: 'image/heic',
  webp: 'image/webp',
};

/**
 * The content type an upload URL is issued for: `contentType` when given, else the file name's extension,
 * else image/jpeg (the document's example blob is a .jpg). ValidationError for a type photos cannot have.
 */
export function uploadContentType(query: {
  contentType?: string | undefined;
  filename?: string | undefined;
}) {
  const given = query.contentType?.toLowerCase().trim();
  const byName = TYPE_OF_EXTENSION[/\.([A-Za-z]+)$/.exec(query.filename ?? '')?.[1]?.toLowerCase() ?? ''];
  const type = given === 'image/jpg' ? 'image/jpeg' : (given ?? byName ?? 'image/jpeg');
  if (!Object.values(TYPE_OF_EXTENSION).includes(type as PhotoContentType)) {
    throw new ValidationError('the photo type is not accepted', [
      { path: 'contentType', message: 'must be image/jpeg, image/png, image/heic or image/webp' },
    ]);
  }
  return type as PhotoContentType;
}
