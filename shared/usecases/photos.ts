/**
 * Photos: upload URLs for devices, the check of PHOTO_ATTACHED events against what was really uploaded,
 * managers' read URLs, and the sweep that hands never-attached uploads to the storage lifecycle rule.
 * docs/photos.md describes the flow and the decisions.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import { MAX_PHOTO_BYTES, PHOTO_CONTENT_TYPES, type PayloadOf } from '../contracts/events.js';
import {
  type Photo,
  type PhotoContentType,
  photoBlobName,
  type UploadUrlsBody,
  type UploadUrlsResponse,
} from '../contracts/photos.js';
import { NotFoundError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { EventPrecheck, LockedBlob } from './ports/chunks.js';
import type { PhotoRecords, PhotoStore } from './ports/photos.js';
import type { ReferenceDataStore } from './ports/reference-data.js';
import type { Tenant, TenantRegistry } from './ports/tenancy.js';
import type { Outcome, PendingEvent } from '../sync/plan-chunk.js';
import { failedTenants, forEachTenant, type TenantJobResult } from './each-tenant.js';

export interface PhotoDeps {
  photoStore: PhotoStore;
  photoRecords: PhotoRecords;
}

/** The device recorded for upload URLs asked for without a deviceId. */
export const UNKNOWN_DEVICE = 'unknown';

/**
 * The photo ports of the App (`photoStore`, `photoRecords`, provided by the composition root). Typed on
 * `object` so the photo functions compile whether or not the App declares them yet; a missing one is a
 * wiring mistake (500, logged), never a client's.
 */
export function photoDeps(app: object): PhotoDeps {
  const deps = app as Partial<PhotoDeps>;
  if (!deps.photoStore || !deps.photoRecords) {
    throw new Error('the App provides no photoStore/photoRecords: wire them in shared/app.ts');
  }
  return { photoStore: deps.photoStore, photoRecords: deps.photoRecords };
}

/**
 * POST /v1/photos/upload-urls: records each photo AWAITING_UPLOAD for the device (durably, before any URL
 * is handed out), then signs one `cw` SAS per photo not attached yet. Attached photos get no URL.
 */
export async function issueUploadUrls(
  deps: PhotoDeps,
  tenant: Tenant,
  principal: Pick<Principal, 'userId'>,
  body: UploadUrlsBody,
  options: { ttlSeconds?: number } = {},
): Promise<UploadUrlsResponse> {
  const photos = body.photos.map((p) => ({
    photoId: p.photoId.toLowerCase(),
    blobName: photoBlobName(tenant.id, p.photoId, p.contentType),
    contentType: p.contentType,
    sizeBytes: p.sizeBytes,
  }));
  const { alreadyAttached } = await deps.photoRecords.recordAwaiting(tenant, photos, {
    deviceId: body.deviceId ?? UNKNOWN_DEVICE,
    userId: principal.userId,
  });
  const attached = new Set(alreadyAttached.map((p) => p.photoId));
  const uploads = await Promise.all(
    photos
      .filter((p) => !attached.has(p.photoId))
      .map(async (p) => {
        const signed = await deps.photoStore.uploadUrl(p.blobName, options);
        return {
          photoId: p.photoId,
          blobName: p.blobName,
          uploadUrl: signed.url,
          expiresAt: signed.expiresAt,
          method: 'PUT' as const,
          headers: { 'x-ms-blob-type': 'BlockBlob' as const, 'content-type': p.contentType },
        };
      }),
  );
  return { uploads, alreadyAttached };
}

/**
 * The equipment a photo upload URL is asked for (compat/fieldops `POST /equipment/{id}/photos/upload-url`) must
 * exist and not be deleted, checked before anything is recorded or signed: no SAS is issued for a target that
 * does not exist. NotFoundError (code EQUIPMENT_NOT_FOUND or EQUIPMENT_DELETED, as the processor names them for
 * an attach, docs/outcomes.md) otherwise.
 */
export async function requireLiveEquipment(
  deps: { referenceData: ReferenceDataStore },
  tenant: Tenant,
  equipmentId: string,
): Promise<void> {
  const state = await deps.referenceData.equipmentState(tenant, equipmentId);
  if (state === 'live') return;
  throw state === 'deleted'
    ? new NotFoundError(`equipment ${equipmentId} was deleted`, 'EQUIPMENT_DELETED')
    : new NotFoundError(`no equipment ${equipmentId}`, 'EQUIPMENT_NOT_FOUND');
}

/**
 * GET /v1/photos/{photoId}: an attached photo of the caller's tenant, with a read-only SAS. A photo that
 * only has an upload URL is 404 PHOTO_NOT_ATTACHED: its blob is unchecked (or absent), so nothing to read.
 */
export async function getPhoto(
  deps: PhotoDeps,
  tenant: Tenant,
  photoId: string,
  options: { ttlSeconds?: number } = {},
): Promise<Photo> {
  const record = await deps.photoRecords.get(tenant, photoId);
  // Rows live in the tenant's own database and blob names start with its id; checked once more anyway.
  if (!record || !record.blobName.startsWith(`${tenant.id}/`)) throw new NotFoundError(`no photo ${photoId}`);
  if (record.status !== 'ATTACHED') {
    throw new NotFoundError(
      `photo ${photoId} is not attached yet: an upload URL was issued, but no PHOTO_ATTACHED event for it has been processed`,
      'PHOTO_NOT_ATTACHED',
    );
  }
  const read = await deps.photoStore.readUrl(record.blobName, {
    contentType: record.contentType,
    ...(options.ttlSeconds ? { ttlSeconds: options.ttlSeconds } : {}),
  });
  return {
    photoId: record.photoId,
    blobName: record.blobName,
    contentType: record.contentType as PhotoContentType,
    sizeBytes: record.sizeBytes,
    sha256: record.sha256,
    status: record.status,
    target: record.target as Photo['target'],
    takenAt: record.takenAt,
    deviceId: record.deviceId,
    userId: record.userId,
    readUrl: read.url,
    readUrlExpiresAt: read.expiresAt,
  };
}

/** A photo sent with its bytes (compat dialect 003's inline base64 photos), to be stored as if uploaded. */
export interface InlinePhoto {
  photoId: string;
  /** As declared by the client; checked against PHOTO_CONTENT_TYPES and against the bytes. */
  contentType: string;
  bytes: Uint8Array;
}

/** What became of one inline photo: stored (or already attached) with its size and sha256, or refused. */
export type StoredInlinePhoto =
  | {
      ok: true;
      photoId: string;
      blobName: string;
      contentType: PhotoContentType;
      sizeBytes: number;
      sha256: string;
      /** The photo was attached before: its verified blob was left as it is. */
      alreadyAttached: boolean;
    }
  | { ok: false; photoId: string; code: 'INVALID_PAYLOAD'; message: string; path: string };

const isPhotoContentType = (value: string): value is PhotoContentType =>
  (PHOTO_CONTENT_TYPES as readonly string[]).includes(value);

/**
 * Stores photos sent inline, as the upload-URL path would have them: the same checks up front as an upload
 * URL request (content type one of PHOTO_CONTENT_TYPES, 1..MAX_PHOTO_BYTES bytes) and the magic number the
 * precheck will check anyway (so bytes that cannot pass are never written); each good photo is recorded
 * AWAITING_UPLOAD for the device (one upsert, before any byte is written) and written to its blob
 * `{tenantId}/{photoId}.{ext}`. A photo already ATTACHED is not written again (its blob is locked). The
 * caller then pushes PHOTO_ATTACHED with the returned size and sha256, and the processor's precheck verifies
 * the blob like any uploaded one. Refused photos come back with INVALID_PAYLOAD and a path; nothing is kept
 * for them. Throws DependencyUnavailableError('blob') on a Blob Storage outage.
 */
export async function storeInlinePhotos(
  deps: PhotoDeps,
  tenant: Tenant,
  principal: Pick<Principal, 'userId'>,
  deviceId: string,
  photos: InlinePhoto[],
): Promise<StoredInlinePhoto[]> {
  const checked: StoredInlinePhoto[] = photos.map((p) => {
    const photoId = p.photoId.toLowerCase();
    const refuse = (message: string, path: string): StoredInlinePhoto => ({
      ok: false,
      photoId,
      code: 'INVALID_PAYLOAD',
      message,
      path,
    });
    if (!isPhotoContentType(p.contentType)) {
      return refuse(`contentType must be one of ${PHOTO_CONTENT_TYPES.join(', ')}`, 'contentType');
    }
    if (p.bytes.length === 0) return refuse('the photo has no bytes', 'sizeBytes');
    if (p.bytes.length > MAX_PHOTO_BYTES) {
      return refuse(`the photo has ${p.bytes.length} bytes: over 10 MiB`, 'sizeBytes');
    }
    if (!matchesContentType(p.bytes.subarray(0, HEAD_BYTES), p.contentType)) {
      return refuse(`the bytes are not ${p.contentType}`, 'contentType');
    }
    return {
      ok: true,
      photoId,
      blobName: photoBlobName(tenant.id, photoId, p.contentType),
      contentType: p.contentType,
      sizeBytes: p.bytes.length,
      sha256: createHash('sha256').update(p.bytes).digest('hex'),
      alreadyAttached: false,
    };
  });
  const good = checked.flatMap((p) => (p.ok ? [p] : []));
  if (good.length === 0) return checked;
  const { alreadyAttached } = await deps.photoRecords.recordAwaiting(
    tenant,
    good.map(({ photoId, blobName, contentType, sizeBytes }) => ({
      photoId,
      blobName,
      contentType,
      sizeBytes,
    })),
    { deviceId, userId: principal.userId },
  );
  const attached = new Set(alreadyAttached.map((p) => p.photoId));
  const bytesOf = new Map(photos.map((p) => [p.photoId.toLowerCase(), p.bytes]));
  await forEachBounded(good, 8, async (photo) => {
    if (attached.has(photo.photoId)) {
      photo.alreadyAttached = true;
      return;
    }
    const put = await deps.photoStore.put(
      photo.blobName,
      bytesOf.get(photo.photoId) ?? new Uint8Array(),
      photo.contentType,
    );
    // Locked between the upsert and the write: an attach verified the blob meanwhile.
    if (put === 'locked') photo.alreadyAttached = true;
  });
  return checked;
}

/**
 * A photo uploaded through an upload URL, named by its blob: its id and type (from the photo's row) and the
 * size of the bytes really uploaded (one ranged read), so an attach can declare them. Undefined when the
 * blob name is not one this tenant handed out, or nothing was uploaded there yet.
 */
export async function uploadedPhoto(
  deps: PhotoDeps,
  tenant: Tenant,
  blobName: string,
): Promise<
  { photoId: string; blobName: string; contentType: PhotoContentType; sizeBytes: number } | undefined
> {
  const match = /^([^/]+)\/([0-9a-f-]{36})\.[a-z]+$/i.exec(blobName);
  if (!match || match[1] !== tenant.id || !match[2]) return undefined;
  const record = await deps.photoRecords.get(tenant, match[2].toLowerCase());
  if (!record || record.blobName !== blobName) return undefined;
  const blob = await deps.photoStore.inspect(blobName, HEAD_BYTES);
  if (!blob) return undefined;
  return {
    photoId: record.photoId,
    blobName,
    contentType: record.contentType as PhotoContentType,
    sizeBytes: blob.sizeBytes,
  };
}

/** Bytes read from the start of a blob to recognise its type. */
export const HEAD_BYTES = 32;

const ascii = (head: Uint8Array, from: number, to: number) => String.fromCharCode(...head.subarray(from, to));
const startsWith = (head: Uint8Array, bytes: number[]) =>
  head.length >= bytes.length && bytes.every((b, i) => head[i] === b);
/** ISO-BMFF brands of HEIF/HEIC images (major or compatible). */
const HEIF_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1', 'avci']);

/** Whether a file's first bytes are those of the declared image type (its magic number). */
export function matchesContentType(head: Uint8Array, contentType: PhotoContentType): boolean {
  switch (contentType) {
    case 'image/jpeg':
      return startsWith(head, [0xff, 0xd8, 0xff]);
    case 'image/png':
      return startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    case 'image/webp':
      return head.length >= 12 && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP';
    case 'image/heic': {
      if (head.length < 12 || ascii(head, 4, 8) !== 'ftyp') return false;
      if (HEIF_BRANDS.has(ascii(head, 8, 12))) return true;
      // Compatible brands follow the minor version (bytes 12..16), within the ftyp box.
      const boxEnd = Math.min(head.length, new DataView(head.buffer, head.byteOffset).getUint32(0));
      for (let at = 16; at + 4 <= boxEnd; at += 4) if (HEIF_BRANDS.has(ascii(head, at, at + 4))) return true;
      return false;
    }
  }
}

const notUploaded = (message: string): Outcome => ({
  status: 'REJECTED',
  error: { code: 'PHOTO_NOT_UPLOADED', message, retryable: true },
});
const invalid = (message: string, path: string): Outcome => ({
  status: 'REJECTED',
  error: { code: 'INVALID_PAYLOAD', message, retryable: false, errors: [{ path, message }] },
});

/**
 * Checks one PHOTO_ATTACHED against its blob. The blob is locked first (a lease: the device's upload URL
 * can no longer change it), then its size, magic number and (when declared) sha256 are checked. A blob
 * that fails is deleted — unless an earlier attach had locked it, in which case it is the verified photo
 * and only this event is wrong. A good one is tagged state=attached. No outcome: the processor links it;
 * `locked` says the blob is left locked (the processor unlocks it if the attach then does not happen).
 */
async function checkAttach(
  store: PhotoStore,
  tenant: Tenant,
  photo: PayloadOf<'PHOTO_ATTACHED'>,
): Promise<{ outcome?: Outcome; locked: boolean }> {
  const blobName = photoBlobName(tenant.id, photo.photoId, photo.contentType);
  if (photo.blobName !== blobName) {
    return {
      outcome: invalid(
        `blobName must be ${blobName} (the name its upload URL was issued for)`,
        'payload.blobName',
      ),
      locked: false,
    };
  }
  const missing = () =>
    notUploaded(`photo ${photo.photoId} is not in Blob Storage: PUT it with its upload URL, then push again`);
  const lock = await store.lock(blobName);
  if (!lock.found) return { outcome: missing(), locked: false };
  const blob = await store.inspect(blobName, HEAD_BYTES);
  // Gone between the lock and the read: nothing left to unlock.
  if (!blob) return { outcome: missing(), locked: false };

  let problem: { message: string; path: string } | undefined;
  if (blob.sizeBytes > MAX_PHOTO_BYTES) {
    problem = {
      message: `the uploaded photo has ${blob.sizeBytes} bytes: over 10 MiB`,
      path: 'payload.sizeBytes',
    };
  } else if (blob.sizeBytes !== photo.sizeBytes) {
    problem = {
      message: `the uploaded photo has ${blob.sizeBytes} bytes, not the ${photo.sizeBytes} declared (truncated or another file)`,
      path: 'payload.sizeBytes',
    };
  } else if (!matchesContentType(blob.head, photo.contentType)) {
    problem = { message: `the uploaded bytes are not ${photo.contentType}`, path: 'payload.contentType' };
  } else if (photo.sha256 && (await store.sha256(blobName)) !== photo.sha256.toLowerCase()) {
    problem = { message: 'the uploaded bytes do not have the declared sha256', path: 'payload.sha256' };
  }
  if (problem) {
    if (lock.leaseId) {
      await store.discard(blobName, lock.leaseId);
      return { outcome: invalid(problem.message, problem.path), locked: false };
    }
    // Locked before this check: kept, and reported locked so the processor unlocks it unless attached.
    return { outcome: invalid(problem.message, problem.path), locked: true };
  }
  await store.markAttached(blobName, lock.leaseId);
  return { locked: true };
}

/** Runs fn over items with at most `limit` at a time; the first error is thrown once all have settled. */
async function forEachBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * The processor's check of PHOTO_ATTACHED events (the chunk processor's precheck, wired in shared/app.ts):
 * an outcome (REJECTED) for each event whose photo is missing or not what it declares; none for the
 * others, which the processor then links (photos row ATTACHED). `locked` lists every blob left locked; the
 * processor calls `unlock` for those whose photo did not end ATTACHED (rejected by a rule, a poison event,
 * a rolled-back attempt), so a lock exists only for an attached photo (docs/photos.md). Blobs are checked
 * concurrently (at most `concurrency` at a time); events naming the same blob one after another. A Blob
 * Storage outage throws DependencyUnavailableError('blob'), so the chunk is redelivered.
 */
export function createPhotoPrecheck(
  store: PhotoStore,
  options: { concurrency?: number } = {},
): EventPrecheck {
  const concurrency = options.concurrency ?? 16;
  return {
    async check(tenant: Tenant, events: PendingEvent[]) {
      const outcomes = new Map<string, Outcome>();
      const locked = new Map<string, LockedBlob>();
      const byBlob = new Map<string, { id: string; payload: PayloadOf<'PHOTO_ATTACHED'> }[]>();
      for (const { event } of events) {
        if (event.type !== 'PHOTO_ATTACHED') continue;
        const key = event.payload.blobName;
        byBlob.set(key, [...(byBlob.get(key) ?? []), { id: event.id, payload: event.payload }]);
      }
      await forEachBounded([...byBlob.values()], concurrency, async (group) => {
        for (const { id, payload } of group) {
          const result = await checkAttach(store, tenant, payload);
          if (result.outcome) outcomes.set(id, result.outcome);
          if (result.locked) {
            locked.set(payload.blobName, {
              photoId: payload.photoId.toLowerCase(),
              blobName: payload.blobName,
            });
          }
        }
      });
      return { outcomes, locked: [...locked.values()] };
    },
    async unlock(_tenant: Tenant, blobNames: string[]) {
      await forEachBounded(blobNames, concurrency, (blobName) => store.unlock(blobName));
    },
  };
}

/**
 * Hands uploads that were never attached to the storage lifecycle rule: photos still AWAITING_UPLOAD whose
 * last upload URL is older than `olderThanHours` get their blob (if any) tagged state=awaiting, which the
 * rule `delete-unattached-photos` deletes once the upload is `unattachedPhotoRetentionDays` old. Run it
 * from a timer (e.g. hourly). Each ACTIVE tenant is isolated (forEachTenant): one whose database or blobs
 * fail is logged, counted and reported in `tenants`, and the tenants after it are still swept. Returns the
 * totals of the tenants swept (blobs tagged, photos never uploaded, photos found attached) and one result
 * per tenant.
 */
export async function sweepUnattachedPhotos(
  deps: PhotoDeps & { tenants: TenantRegistry; log: Logger },
  options: { olderThanHours?: number; limitPerTenant?: number; now?: Date } = {},
): Promise<SweepCounts & { tenants: TenantJobResult<SweepCounts>[] }> {
  const before = new Date((options.now ?? new Date()).getTime() - (options.olderThanHours ?? 24) * 3_600_000);
  const results = await forEachTenant(
    deps,
    'sweepPhotos',
    async (tenant) => {
      const counts: SweepCounts = { tagged: 0, missing: 0, attached: 0 };
      const stale = await deps.photoRecords.staleAwaiting(tenant, before, options.limitPerTenant ?? 1000);
      const done: string[] = [];
      await forEachBounded(stale, 8, async (photo) => {
        const result = await deps.photoStore.markAwaiting(photo.blobName);
        counts[result] += 1;
        done.push(photo.photoId);
      });
      await deps.photoRecords.markSwept(tenant, done);
      if (stale.length)
        deps.log.info({ tenantId: tenant.id, photos: stale.length }, 'unattached photos swept');
      return counts;
    },
    { activeOnly: true },
  );
  const totals: SweepCounts = { tagged: 0, missing: 0, attached: 0 };
  for (const r of results) {
    if (!r.ok) continue;
    totals.tagged += r.value.tagged;
    totals.missing += r.value.missing;
    totals.attached += r.value.attached;
  }
  const failed = failedTenants(results);
  if (failed.length) deps.log.error({ failed }, 'photo sweep failed for some tenants');
  return { ...totals, tenants: results };
}

/** What a photo sweep did: blobs tagged for deletion, photos never uploaded, photos found attached. */
export interface SweepCounts {
  tagged: number;
  missing: number;
  attached: number;
}

/**
 * Bench figure: milliseconds to issue `n` upload URLs through the use case (one upsert of n rows, n SAS
 * signatures), for fresh photo ids of `tenant`.
 */
export async function timeIssuingUrls(deps: PhotoDeps, tenant: Tenant, n = 50): Promise<number> {
  const body: UploadUrlsBody = {
    deviceId: 'bench-device',
    photos: Array.from({ length: n }, () => ({
      photoId: randomUUID(),
      contentType: 'image/jpeg' as const,
      sizeBytes: 1_500_000,
    })),
  };
  const started = performance.now();
  await issueUploadUrls(deps, tenant, { userId: 'bench-user' }, body);
  return performance.now() - started;
}
