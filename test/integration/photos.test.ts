import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPhotoById } from '../../functions/photo-get.js';
import { photoUploadUrls } from '../../functions/photo-upload-urls.js';
import { getSyncStatus } from '../../functions/sync-status.js';
import { BlobPhotoStore } from '../../shared/adapters/blob/photo-store.js';
import { postgresChunkEngine } from '../support/chunk-engine.js';
import { PostgresPhotoRecords } from '../../shared/adapters/postgres/photo-records.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { Photo, UploadUrlsResponse } from '../../shared/contracts/photos.js';
import type { DeviceStatus } from '../../shared/contracts/sync.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import type { OutgoingMessage } from '../../shared/usecases/ports/queue.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { processSyncChunk } from '../../shared/usecases/process-chunk.js';
import {
  createPhotoPrecheck,
  issueUploadUrls,
  sweepUnattachedPhotos,
  timeIssuingUrls,
} from '../../shared/usecases/photos.js';
import { acceptEvents } from '../support/accept.js';
import { tokenFor } from '../support/auth.js';
import { mixedEvent, type RawEvent } from '../support/events.js';
import { call } from '../support/http.js';
import { onlyTenants, type SeededTenant, seededTenant } from '../support/tenants.js';
import { clockPasses } from '../support/wait.js';

let t: SeededTenant;
let other: SeededTenant;
let service: BlobServiceClient;
let store: BlobPhotoStore;
let records: PostgresPhotoRecords;
let operator: string;
let manager: string;

const JPEG = [0xff, 0xd8, 0xff, 0xe0];
const PNG = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** An image-like file: the type's magic number, then random bytes. */
const image = (size: number, magic = JPEG) => {
  const bytes = randomBytes(size);
  Buffer.from(magic).copy(bytes);
  return bytes;
};
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const container = () => service.getContainerClient(getApp().config.blob.photosContainer);
const blobExists = (blobName: string) => container().getBlockBlobClient(blobName).exists();
const put = (url: string, body: Buffer, contentType = 'image/jpeg') =>
  fetch(url, {
    method: 'PUT',
    headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': contentType },
    body,
  });

beforeAll(async () => {
  [t, other] = await Promise.all([seededTenant('photo'), seededTenant('photo-other')]);
  const app = getApp();
  service = BlobServiceClient.fromConnectionString(process.env.StorageConnection ?? '');
  store = new BlobPhotoStore({ service: () => service, container: app.config.blob.photosContainer });
  records = new PostgresPhotoRecords(app.tenantPool);
  // What shared/app.ts provides once wired (App.photoStore, App.photoRecords).
  Object.assign(app, { photoStore: store, photoRecords: records });
  operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-op');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-boss');
});
afterAll(() => closeApp());

const photoDeps = () => ({ photoStore: store, photoRecords: records });
/** The real processor, its photo check on this file's store. */
const photoProcessor = (photoStore = store) =>
  postgresChunkEngine(getApp().tenantPool, createPhotoPrecheck(photoStore));

async function askUrls(
  token: string,
  photos: { photoId: string; contentType: string; sizeBytes: number }[],
  deviceId?: string,
) {
  return call(photoUploadUrls, {
    method: 'POST',
    url: 'http://localhost/api/v1/photos/upload-urls',
    token,
    json: { ...(deviceId ? { deviceId } : {}), photos },
  });
}

async function uploadUrls(
  photos: { photoId: string; contentType: string; sizeBytes: number }[],
  deviceId = 'dev-photo',
): Promise<UploadUrlsResponse> {
  const response = await askUrls(operator, photos, deviceId);
  expect(response.status, response.text).toBe(200);
  return response.body as UploadUrlsResponse;
}

const attachEvent = (
  photo: { photoId: string; blobName: string; contentType: string; sizeBytes: number; sha256?: string },
  target: { type: string; id: string },
): RawEvent => ({
  id: randomUUID(),
  type: 'PHOTO_ATTACHED',
  occurredAt: minutesAgo(2),
  payload: { ...photo, target, takenAt: minutesAgo(3) },
});

const accept = (tenant: Tenant, events: RawEvent[], deviceId: string) =>
  acceptEvents(tenant, events, deviceId);

/** Accepts the events and runs the real processor on them with the photo precheck; returns the outcome. */
async function processEvents(tenant: Tenant, events: RawEvent[], deviceId = 'dev-photo') {
  const { batchId, ids } = await accept(tenant, events, deviceId);
  const deps = { ...getApp(), processor: photoProcessor() };
  for (let i = 0; i < ids.length; i += 1000) {
    await processSyncChunk(
      deps,
      { tenantId: tenant.id, batchId, deviceId, eventIds: ids.slice(i, i + 1000), reason: 'push' },
      { messageId: undefined, deliveryCount: 1, maxDeliveryCount: 10, retry: deps.config.queue.retry },
    );
  }
  const outcome = await getApp().eventLog.batchOutcome(tenant, batchId);
  if (!outcome) throw new Error('no batch outcome');
  return outcome;
}

const photoRow = async (tenant: Tenant, photoId: string) =>
  (
    await getApp()
      .tenantPool(tenant)
      .query('select status, target_type, target_id, device_id, event_id from photos where id = $1', [
        photoId,
      ])
  ).rows[0] as
    { status: string; target_type: string | null; target_id: string | null; device_id: string } | undefined;

describe('POST /v1/photos/upload-urls', () => {
  it('answers one cw SAS per photo, for {tenantId}/{photoId}.{ext}, valid at most 15 minutes', async () => {
    const photos = [
      { photoId: randomUUID(), contentType: 'image/jpeg', sizeBytes: 1000 },
      { photoId: randomUUID(), contentType: 'image/png', sizeBytes: 2000 },
      { photoId: randomUUID(), contentType: 'image/heic', sizeBytes: 3000 },
      { photoId: randomUUID(), contentType: 'image/webp', sizeBytes: 4000 },
    ];
    const started = Date.now();
    const body = await uploadUrls(photos);
    const answered = Date.now();
    expect(body.alreadyAttached).toEqual([]);
    expect(body.uploads.map((u) => u.blobName)).toEqual(
      photos.map((p, i) => `${t.tenant.id}/${p.photoId}.${['jpg', 'png', 'heic', 'webp'][i]}`),
    );
    for (const [i, upload] of body.uploads.entries()) {
      expect(upload).toMatchObject({
        photoId: photos[i]?.photoId,
        method: 'PUT',
        headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': photos[i]?.contentType },
      });
      const url = new URL(upload.uploadUrl);
      expect(url.pathname).toBe(`/devstoreaccount1/photos/${upload.blobName}`);
      expect(url.searchParams.get('sp')).toBe('cw');
      expect(url.searchParams.get('sr')).toBe('b');
      // Azurite serves http only; against an https endpoint (Azure) the SAS says spr=https.
      expect(url.searchParams.get('spr')).toBe('https,http');
      const expires = Date.parse(url.searchParams.get('se') ?? '');
      expect(expires).toBe(Date.parse(upload.expiresAt));
      // 15 minutes from when it was signed (between the request and the answer), cut to the whole second.
      expect(expires).toBeLessThanOrEqual(answered + 15 * 60_000);
      expect(expires).toBeGreaterThan(started + 15 * 60_000 - 1000);
    }
    const rows = await getApp()
      .tenantPool(t.tenant)
      .query('select status, device_id, user_id from photos where id = any($1::uuid[])', [
        photos.map((p) => p.photoId),
      ]);
    expect(rows.rows).toHaveLength(4);
    expect(rows.rows.every((r) => r.status === 'AWAITING_UPLOAD' && r.device_id === 'dev-photo')).toBe(true);
    expect(rows.rows.every((r) => r.user_id === 'u-op')).toBe(true);
  });

  it('a URL can PUT its blob (201) but cannot write another blob, cannot read, and stops working after it expires', async () => {
    const photoId = randomUUID();
    const { uploads } = await uploadUrls([{ photoId, contentType: 'image/jpeg', sizeBytes: 100 }]);
    const upload = uploads[0];
    if (!upload) throw new Error('no upload');
    expect((await put(upload.uploadUrl, image(100))).status).toBe(201);
    // Another blob of the same tenant, and the same photo id in another tenant's folder.
    const another = upload.uploadUrl.replace(photoId, randomUUID());
    expect((await put(another, image(100))).status).toBe(403);
    const otherTenant = upload.uploadUrl.replace(`/${t.tenant.id}/`, `/${other.tenant.id}/`);
    expect((await put(otherTenant, image(100))).status).toBe(403);
    expect((await fetch(upload.uploadUrl)).status).toBe(403);
    expect((await fetch(upload.uploadUrl, { method: 'DELETE' })).status).toBe(403);

    const shortLived = await issueUploadUrls(
      photoDeps(),
      t.tenant,
      { userId: 'u-op' },
      { photos: [{ photoId: randomUUID(), contentType: 'image/jpeg', sizeBytes: 100 }] },
      { ttlSeconds: 2 },
    );
    const url = shortLived.uploads[0]?.uploadUrl ?? '';
    // Wait until the clock has passed the SAS expiry (Azurite runs on this machine's clock), then try it.
    const expiresAt = Date.parse(shortLived.uploads[0]?.expiresAt ?? '');
    expect(Date.parse(new URL(url).searchParams.get('se') ?? '')).toBe(expiresAt);
    await clockPasses(expiresAt + 1000, 'the short-lived upload URL to expire');
    expect((await put(url, image(100))).status).toBe(403);
  });

  it('asking again gives a fresh URL for the same blob; the device is "unknown" without a deviceId', async () => {
    const photoId = randomUUID();
    const first = await askUrls(operator, [{ photoId, contentType: 'image/jpeg', sizeBytes: 10 }]);
    // A SAS expiry has whole seconds: ask again once the clock has reached the next whole second.
    await clockPasses(Math.floor(Date.now() / 1000) * 1000 + 999, 'the next whole second');
    const second = await uploadUrls([{ photoId, contentType: 'image/jpeg', sizeBytes: 12 }], 'dev-again');
    const a = (first.body as UploadUrlsResponse).uploads[0];
    const b = second.uploads[0];
    expect(a?.blobName).toBe(b?.blobName);
    expect(Date.parse(b?.expiresAt ?? '')).toBeGreaterThan(Date.parse(a?.expiresAt ?? ''));
    const row = await photoRow(t.tenant, photoId);
    expect(row).toMatchObject({ status: 'AWAITING_UPLOAD', device_id: 'dev-again' });

    const anonymous = randomUUID();
    await askUrls(operator, [{ photoId: anonymous, contentType: 'image/png', sizeBytes: 10 }]);
    expect((await photoRow(t.tenant, anonymous))?.device_id).toBe('unknown');
  });

  it('refuses bad requests with their paths: types, sizes, counts, duplicates', async () => {
    const cases: [unknown[], string][] = [
      [[], 'photos'],
      [
        Array.from({ length: 51 }, () => ({
          photoId: randomUUID(),
          contentType: 'image/jpeg',
          sizeBytes: 1,
        })),
        'photos',
      ],
      [[{ photoId: randomUUID(), contentType: 'image/gif', sizeBytes: 1 }], 'photos[0].contentType'],
      [
        [{ photoId: randomUUID(), contentType: 'image/jpeg', sizeBytes: 10 * 1024 * 1024 + 1 }],
        'photos[0].sizeBytes',
      ],
      [[{ photoId: 'nope', contentType: 'image/jpeg', sizeBytes: 1 }], 'photos[0].photoId'],
    ];
    for (const [photos, path] of cases) {
      const response = await askUrls(operator, photos as never);
      expect(response.status, JSON.stringify(photos).slice(0, 80)).toBe(400);
      expect((response.body as { errors: { path: string }[] }).errors.map((e) => e.path)).toContain(path);
    }
    const id = randomUUID();
    const duplicate = await askUrls(operator, [
      { photoId: id, contentType: 'image/jpeg', sizeBytes: 1 },
      { photoId: id.toUpperCase(), contentType: 'image/jpeg', sizeBytes: 1 },
    ]);
    expect(duplicate.status).toBe(400);
    expect(JSON.stringify(duplicate.body)).toContain('photos[1].photoId');
    expect((await askUrls('', [{ photoId: id, contentType: 'image/jpeg', sizeBytes: 1 }])).status).toBe(401);
  });

  it(`prints the time to issue 50 URLs (aim < 20 ms)`, async () => {
    await timeIssuingUrls(photoDeps(), t.tenant, 50); // warm-up: pool, statement, key
    const runs: number[] = [];
    for (let i = 0; i < 5; i += 1) runs.push(await timeIssuingUrls(photoDeps(), t.tenant, 50));
    const best = Math.min(...runs);
    console.log(
      `[photos] 50 upload URLs issued in ${best.toFixed(1)} ms (best of 5; runs ${runs.map((r) => r.toFixed(1)).join(', ')})`,
    );
    expect(best).toBeLessThan(500);
  });
});

describe('PHOTO_ATTACHED verification (real processor, real Azurite)', () => {
  const target = () => ({ type: 'WELL', id: t.wellId });

  async function uploaded(bytes: Buffer | undefined, declared: { contentType?: string; sizeBytes: number }) {
    const photoId = randomUUID();
    const contentType = declared.contentType ?? 'image/jpeg';
    const { uploads } = await uploadUrls([{ photoId, contentType, sizeBytes: declared.sizeBytes }]);
    const upload = uploads[0];
    if (!upload) throw new Error('no upload');
    if (bytes) expect((await put(upload.uploadUrl, bytes, contentType)).status).toBe(201);
    return {
      photoId,
      blobName: upload.blobName,
      contentType,
      sizeBytes: declared.sizeBytes,
      url: upload.uploadUrl,
    };
  }

  it('rejects a missing, oversized, truncated, wrong-type or wrong-hash photo with its code; nothing is linked', async () => {
    const missing = await uploaded(undefined, { sizeBytes: 1000 });
    const oversized = await uploaded(image(2000), { sizeBytes: 1000 });
    const truncated = await uploaded(image(1000), { sizeBytes: 2000 });
    const wrongType = await uploaded(image(1000, PNG), { contentType: 'image/jpeg', sizeBytes: 1000 });
    const wrongHash = await uploaded(image(1000), { sizeBytes: 1000 });
    const cases = [
      { photo: missing, code: 'PHOTO_NOT_UPLOADED', retryable: true, deleted: false },
      { photo: oversized, code: 'INVALID_PAYLOAD', retryable: false, deleted: true },
      { photo: truncated, code: 'INVALID_PAYLOAD', retryable: false, deleted: true },
      { photo: wrongType, code: 'INVALID_PAYLOAD', retryable: false, deleted: true },
      { photo: wrongHash, code: 'INVALID_PAYLOAD', retryable: false, deleted: true, sha256: '0'.repeat(64) },
    ];
    const events = cases.map(({ photo, sha256: hash }) =>
      attachEvent(
        {
          photoId: photo.photoId,
          blobName: photo.blobName,
          contentType: photo.contentType,
          sizeBytes: photo.sizeBytes,
          ...(hash ? { sha256: hash } : {}),
        },
        target(),
      ),
    );
    const outcome = await processEvents(t.tenant, events);
    expect(outcome.counts).toMatchObject({ total: 5, rejected: 5, applied: 0 });
    for (const [i, c] of cases.entries()) {
      const event = outcome.events.find((e) => e.eventId === events[i]?.id);
      expect(event, c.photo.blobName).toMatchObject({
        status: 'REJECTED',
        error: { code: c.code, retryable: c.retryable },
      });
      expect(await photoRow(t.tenant, c.photo.photoId)).toMatchObject({
        status: 'AWAITING_UPLOAD',
        target_type: null,
      });
      if (c.deleted) expect(await blobExists(c.photo.blobName)).toBe(false);
    }
    expect(outcome.events.find((e) => e.eventId === events[3]?.id)?.error?.message).toContain(
      'not image/jpeg',
    );
  });

  it('a blobName that is not {tenantId}/{photoId}.{ext} is INVALID_PAYLOAD, and that blob is left alone', async () => {
    const theirs = await uploadUrls([{ photoId: randomUUID(), contentType: 'image/jpeg', sizeBytes: 100 }]);
    // Another tenant's photo: its blob exists, but this tenant cannot name it.
    const response = await askUrls(await tokenFor(other.tenant.id), [
      { photoId: randomUUID(), contentType: 'image/jpeg', sizeBytes: 100 },
    ]);
    const foreign = (response.body as UploadUrlsResponse).uploads[0];
    if (!foreign) throw new Error('no upload');
    expect((await put(foreign.uploadUrl, image(100))).status).toBe(201);
    const own = theirs.uploads[0];
    if (!own) throw new Error('no upload');
    const event = attachEvent(
      { photoId: own.photoId, blobName: foreign.blobName, contentType: 'image/jpeg', sizeBytes: 100 },
      target(),
    );
    const outcome = await processEvents(t.tenant, [event]);
    expect(outcome.events[0]).toMatchObject({
      status: 'REJECTED',
      error: { code: 'INVALID_PAYLOAD', errors: [{ path: 'payload.blobName' }] },
    });
    expect(await blobExists(foreign.blobName)).toBe(true);
  });

  it('a valid photo ends ATTACHED and linked; its blob is tagged attached and locked; device counts move', async () => {
    const device = `dev-${randomBytes(3).toString('hex')}`;
    await getApp().devices.recordPush(t.tenant.id, {
      deviceId: device,
      userId: 'u-op',
      at: new Date().toISOString(),
    });
    const photos = [image(5000), image(6000, PNG)];
    const ids = [randomUUID(), randomUUID()];
    const { uploads } = await uploadUrls(
      [
        { photoId: ids[0] ?? '', contentType: 'image/jpeg', sizeBytes: 5000 },
        { photoId: ids[1] ?? '', contentType: 'image/png', sizeBytes: 6000 },
      ],
      device,
    );
    const status = async () => {
      const response = await call(getSyncStatus, {
        token: operator,
        url: `http://localhost/api/v1/sync/status?deviceId=${device}`,
      });
      expect(response.status, response.text).toBe(200);
      return (response.body as DeviceStatus).photos;
    };
    expect(await status()).toEqual({ awaitingUpload: 2, attached: 0 });
    for (const [i, upload] of uploads.entries()) {
      expect((await put(upload.uploadUrl, photos[i] as Buffer, upload.headers['content-type'])).status).toBe(
        201,
      );
    }
    const events = uploads.map((u, i) =>
      attachEvent(
        {
          photoId: u.photoId,
          blobName: u.blobName,
          contentType: u.headers['content-type'],
          sizeBytes: (photos[i] as Buffer).length,
          sha256: sha256(photos[i] as Buffer),
        },
        i === 0 ? target() : { type: 'EQUIPMENT', id: t.equipmentId },
      ),
    );
    const outcome = await processEvents(t.tenant, events, device);
    expect(outcome.counts).toMatchObject({ total: 2, applied: 2 });
    expect(await photoRow(t.tenant, ids[0] ?? '')).toMatchObject({
      status: 'ATTACHED',
      target_type: 'WELL',
      target_id: t.wellId,
      device_id: device,
    });
    expect(await photoRow(t.tenant, ids[1] ?? '')).toMatchObject({
      status: 'ATTACHED',
      target_type: 'EQUIPMENT',
    });
    expect(await status()).toEqual({ awaitingUpload: 0, attached: 2 });

    const blob = container().getBlockBlobClient(uploads[0]?.blobName ?? '');
    expect((await blob.getTags()).tags).toEqual({ state: 'attached' });
    // The verified bytes can no longer be replaced through a URL handed out before the attach.
    expect((await put(uploads[0]?.uploadUrl ?? '', image(5000))).status).toBe(412);
    // Asking for a URL again: none, the photo is attached.
    const again = await uploadUrls(
      [{ photoId: ids[0] ?? '', contentType: 'image/jpeg', sizeBytes: 5000 }],
      device,
    );
    expect(again).toEqual({
      uploads: [],
      alreadyAttached: [{ photoId: ids[0], blobName: uploads[0]?.blobName }],
    });
    expect((await photoRow(t.tenant, ids[0] ?? ''))?.status).toBe('ATTACHED');

    // Attached again by another event declaring another size: that event is wrong, the photo is kept.
    const wrong = attachEvent(
      {
        photoId: ids[0] ?? '',
        blobName: uploads[0]?.blobName ?? '',
        contentType: 'image/jpeg',
        sizeBytes: 4999,
      },
      target(),
    );
    const second = await processEvents(t.tenant, [wrong], device);
    expect(second.events[0]).toMatchObject({ status: 'REJECTED', error: { code: 'INVALID_PAYLOAD' } });
    expect(await blobExists(uploads[0]?.blobName ?? '')).toBe(true);
    expect((await photoRow(t.tenant, ids[0] ?? ''))?.status).toBe('ATTACHED');
  });

  it('a Blob Storage outage: the chunk is re-sent for later (attempt 2, back-off), nothing settled', async () => {
    const down = BlobServiceClient.fromConnectionString(
      (process.env.StorageConnection ?? '').replace(/127\.0\.0\.1:\d+/, '127.0.0.1:9'),
      { retryOptions: { maxTries: 1 } },
    );
    const processor = photoProcessor(new BlobPhotoStore({ service: () => down, container: 'photos' }));
    const photo = await uploaded(image(100), { sizeBytes: 100 });
    const { batchId, ids } = await accept(t.tenant, [attachEvent(photo, target())], 'dev-photo');
    // The processor reports the outage as an infrastructure failure...
    await expect(processor.process(t.tenant, batchId, ids)).rejects.toBeInstanceOf(
      DependencyUnavailableError,
    );
    // ...which the use case answers with a later attempt instead of an immediate redelivery.
    const scheduled: { message: OutgoingMessage; at: Date }[] = [];
    const queue = {
      schedule: async (message: OutgoingMessage, at: Date) => void scheduled.push({ message, at }),
    };
    const now = new Date('2026-01-01T00:00:00Z');
    const summary = await processSyncChunk(
      { ...getApp(), processor, queue },
      { tenantId: t.tenant.id, batchId, deviceId: 'dev-photo', eventIds: ids, reason: 'push' },
      {
        messageId: 'm-1',
        deliveryCount: 1,
        maxDeliveryCount: 10,
        retry: { baseSeconds: 10, maxDelaySeconds: 120, spanSeconds: 900 },
        now: () => now,
      },
    );
    expect(summary.processed).toBe(0);
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]?.message.body).toMatchObject({ batchId, eventIds: ids, attempt: 2 });
    expect(scheduled[0]?.at.getTime()).toBe(now.getTime() + 10_000);
    const outcome = await getApp().eventLog.batchOutcome(t.tenant, batchId);
    expect(outcome?.events[0]?.status).toBe('PENDING');
  });

  it('flow: 50 photos of 1.5 MB + 100 events — URLs, PUT to Azurite, events processed — nothing lost', async () => {
    const device = `dev-flow-${randomBytes(3).toString('hex')}`;
    const size = 1_500_000;
    const started = performance.now();
    const files = Array.from({ length: 50 }, () => image(size));
    const photoIds = files.map(() => randomUUID());
    const { uploads } = await uploadUrls(
      photoIds.map((photoId) => ({ photoId, contentType: 'image/jpeg', sizeBytes: size })),
      device,
    );
    const urlsAt = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < uploads.length) {
          const i = next++;
          const response = await put(uploads[i]?.uploadUrl ?? '', files[i] as Buffer);
          if (response.status !== 201) throw new Error(`PUT ${i} answered ${response.status}`);
        }
      }),
    );
    const uploadedAt = performance.now();
    const events = [
      ...uploads.map((u, i) =>
        attachEvent(
          { photoId: u.photoId, blobName: u.blobName, contentType: 'image/jpeg', sizeBytes: size },
          i % 2 ? target() : { type: 'EQUIPMENT', id: t.equipmentId },
        ),
      ),
      ...Array.from({ length: 100 }, (_, i) => mixedEvent(i + 1, t.wellId, t.equipmentId)),
    ];
    const outcome = await processEvents(t.tenant, events, device);
    const done = performance.now();
    console.log(
      `[photos] flow: 50 photos × 1.5 MB + 100 events in ${((done - started) / 1000).toFixed(2)} s ` +
        `(URLs ${(urlsAt - started).toFixed(0)} ms, PUTs ${(uploadedAt - urlsAt).toFixed(0)} ms, ` +
        `processing ${(done - uploadedAt).toFixed(0)} ms)`,
    );
    expect(outcome.status).toBe('COMPLETED');
    expect(outcome.counts.total).toBe(150);
    expect(outcome.counts.pending + outcome.counts.failed + outcome.counts.rejected).toBe(0);
    const attached = await getApp()
      .tenantPool(t.tenant)
      .query(`select count(*)::int as n from photos where id = any($1::uuid[]) and status = 'ATTACHED'`, [
        photoIds,
      ]);
    expect(attached.rows[0]?.n).toBe(50);
    const byType = await getApp()
      .tenantPool(t.tenant)
      .query(`select type, status, count(*)::int as n from sync_events where batch_id = $1 group by 1, 2`, [
        outcome.batchId,
      ]);
    expect(byType.rows.reduce((sum, r) => sum + (r.n as number), 0)).toBe(150);
    // No time bound here: the suite shares its stack with other files running at once, so a duration says
    // nothing about this code (the line above reports it; `npm run bench` measures).
  }, 180_000);
});

describe('GET /v1/photos/{photoId}', () => {
  it('a manager gets metadata and a read URL that downloads the bytes; an operator gets 403', async () => {
    const bytes = image(4321);
    const photoId = randomUUID();
    const { uploads } = await uploadUrls([{ photoId, contentType: 'image/jpeg', sizeBytes: bytes.length }]);
    const upload = uploads[0];
    if (!upload) throw new Error('no upload');
    expect((await put(upload.uploadUrl, bytes)).status).toBe(201);
    const get = (token: string, id = photoId) =>
      call(getPhotoById, { token, params: { photoId: id }, url: `http://localhost/api/v1/photos/${id}` });

    // Not attached yet: nothing checked to read.
    const early = await get(manager);
    expect(early.status).toBe(404);
    expect(early.body).toMatchObject({ code: 'PHOTO_NOT_ATTACHED' });

    await processEvents(t.tenant, [
      attachEvent(
        {
          photoId,
          blobName: upload.blobName,
          contentType: 'image/jpeg',
          sizeBytes: bytes.length,
          sha256: sha256(bytes),
        },
        { type: 'WELL', id: t.wellId },
      ),
    ]);
    const started = Date.now();
    const response = await get(manager);
    expect(response.status, response.text).toBe(200);
    const photo = response.body as Photo;
    expect(photo).toMatchObject({
      photoId,
      blobName: upload.blobName,
      contentType: 'image/jpeg',
      sizeBytes: bytes.length,
      sha256: sha256(bytes),
      status: 'ATTACHED',
      target: { type: 'WELL', id: t.wellId },
      deviceId: 'dev-photo',
      userId: 'u-op',
    });
    const url = new URL(photo.readUrl);
    expect(url.searchParams.get('sp')).toBe('r');
    expect(Date.parse(photo.readUrlExpiresAt) - started).toBeLessThanOrEqual(15 * 60_000 + 1000);
    const download = await fetch(photo.readUrl);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/jpeg');
    expect(Buffer.from(await download.arrayBuffer()).equals(bytes)).toBe(true);
    // Read-only: the read URL cannot write.
    expect((await put(photo.readUrl, image(10))).status).toBe(403);

    expect((await get(operator)).status).toBe(403);
    // Another tenant's manager cannot address it.
    expect((await get(await tokenFor(other.tenant.id, ['MANAGER']))).status).toBe(404);
    expect((await get(manager, randomUUID())).status).toBe(404);
  });
});

describe('sweep of photos never attached', () => {
  it('tags stale unattached uploads state=awaiting (for the lifecycle rule), once; attached blobs are left alone', async () => {
    const t2 = await seededTenant('photo-sweep');
    const token = await tokenFor(t2.tenant.id, ['OPERATOR'], 'u-op');
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const response = await askUrls(
      token,
      ids.map((photoId) => ({ photoId, contentType: 'image/jpeg', sizeBytes: 100 })),
      'dev-sweep',
    );
    const [stale, attached] = (response.body as UploadUrlsResponse).uploads;
    if (!stale || !attached) throw new Error('no uploads');
    expect((await put(stale.uploadUrl, image(100))).status).toBe(201);
    expect((await put(attached.uploadUrl, image(100))).status).toBe(201);
    await processEvents(t2.tenant, [
      attachEvent(
        { photoId: attached.photoId, blobName: attached.blobName, contentType: 'image/jpeg', sizeBytes: 100 },
        { type: 'WELL', id: t2.wellId },
      ),
    ]);

    // The sweep walks this test's tenant only: other files' tenants (some with photos of their own, one
    // without a database in tenant-timers.test.ts, which covers that case) are not this test's to sweep.
    const app = getApp();
    const deps = {
      ...app,
      tenants: onlyTenants(app.tenants, [t2.tenant.id]),
      photoStore: store,
      photoRecords: records,
    };
    const later = new Date(Date.now() + 25 * 3_600_000);
    const first = await sweepUnattachedPhotos(deps, { now: later });
    // One blob tagged, one photo never uploaded; the attached one is not stale, so not looked at.
    expect(first).toEqual({
      tagged: 1,
      missing: 1,
      attached: 0,
      tenants: [{ tenantId: t2.tenant.id, ok: true, value: { tagged: 1, missing: 1, attached: 0 } }],
    });
    expect((await container().getBlockBlobClient(stale.blobName).getTags()).tags).toEqual({
      state: 'awaiting',
    });
    expect((await container().getBlockBlobClient(attached.blobName).getTags()).tags).toEqual({
      state: 'attached',
    });
    expect(await records.staleAwaiting(t2.tenant, later, 10)).toEqual([]);
    // The attached photo's blob refuses the awaiting tag even if asked directly.
    expect(await store.markAwaiting(attached.blobName)).toBe('attached');
    expect(await store.markAwaiting(`${t2.tenant.id}/${randomUUID()}.jpg`)).toBe('missing');
    // A new upload URL puts the photo back in the running.
    await askUrls(token, [{ photoId: ids[0] ?? '', contentType: 'image/jpeg', sizeBytes: 100 }], 'dev-sweep');
    expect(await records.staleAwaiting(t2.tenant, later, 10)).toHaveLength(1);
  });
});
