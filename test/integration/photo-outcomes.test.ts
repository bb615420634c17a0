import { randomBytes, randomUUID } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobPhotoStore } from '../../shared/adapters/blob/photo-store.js';
import { postgresChunkEngine } from '../support/chunk-engine.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { BatchOutcome, EventOutcome } from '../../shared/contracts/sync.js';
import type { ChunkProcessor } from '../../shared/usecases/ports/chunks.js';
import type { OutgoingMessage, SyncChunkMessage } from '../../shared/usecases/ports/queue.js';
import { processSyncChunk } from '../../shared/usecases/process-chunk.js';
import { createPhotoPrecheck, issueUploadUrls } from '../../shared/usecases/photos.js';
import { retryFailedEvents } from '../../shared/usecases/retry.js';
import { acceptEvents } from '../support/accept.js';
import { inspection, type RawEvent, reading } from '../support/events.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

let t: SeededTenant;
let service: BlobServiceClient;
let store: BlobPhotoStore;
let processor: ChunkProcessor;

const DEVICE = 'tablet-photo-outcomes';

beforeAll(async () => {
  t = await seededTenant('photo-out');
  service = BlobServiceClient.fromConnectionString(process.env.StorageConnection ?? '');
  store = new BlobPhotoStore({ service: () => service, container: getApp().config.blob.photosContainer });
  // The real processor with the photo check on Azurite, as shared/app.ts wires it.
  processor = postgresChunkEngine(getApp().tenantPool, createPhotoPrecheck(store));
});
afterAll(() => closeApp());

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const blob = (name: string) =>
  service.getContainerClient(getApp().config.blob.photosContainer).getBlockBlobClient(name);
const jpeg = (size: number) => {
  const bytes = randomBytes(size);
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]).copy(bytes);
  return bytes;
};
const put = (url: string, body: Buffer) =>
  fetch(url, {
    method: 'PUT',
    headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'image/jpeg' },
    body,
  });

interface Photo {
  photoId: string;
  blobName: string;
  url: string;
  bytes: Buffer;
}

/** A photo with an upload URL; uploaded unless `upload` is false. */
async function newPhoto(upload = true): Promise<Photo> {
  const photoId = randomUUID();
  const bytes = jpeg(500);
  const { uploads } = await issueUploadUrls(
    { photoStore: store, photoRecords: getApp().photoRecords },
    t.tenant,
    { userId: 'u-op' },
    { deviceId: DEVICE, photos: [{ photoId, contentType: 'image/jpeg', sizeBytes: bytes.length }] },
  );
  const u = uploads[0];
  if (!u) throw new Error('no upload URL');
  if (upload) expect((await put(u.uploadUrl, bytes)).status).toBe(201);
  return { photoId, blobName: u.blobName, url: u.uploadUrl, bytes };
}

const attach = (
  photo: Photo,
  target: { type: string; id: string } = { type: 'WELL', id: t.wellId },
  occurredAt = minutesAgo(2),
): RawEvent => ({
  id: randomUUID(),
  type: 'PHOTO_ATTACHED',
  occurredAt,
  payload: {
    photoId: photo.photoId,
    blobName: photo.blobName,
    contentType: 'image/jpeg',
    sizeBytes: photo.bytes.length,
    target,
    takenAt: minutesAgo(3),
  },
});

const pool = () => getApp().tenantPool(t.tenant);

/**
 * Runs the processor on accepted events, as the queue trigger does: on `ids`, or — none given — on the
 * batch's PENDING events, as a push's message names them.
 */
async function processIds(batchId: string, ids?: string[]): Promise<BatchOutcome> {
  await processSyncChunk(
    { ...getApp(), processor },
    { tenantId: t.tenant.id, batchId, deviceId: DEVICE, ...(ids ? { eventIds: ids } : {}), reason: 'push' },
    { messageId: undefined, deliveryCount: 1, maxDeliveryCount: 10, retry: getApp().config.queue.retry },
  );
  const outcome = await getApp().eventLog.batchOutcome(t.tenant, batchId);
  if (!outcome) throw new Error('no batch outcome');
  return outcome;
}

async function processEvents(events: RawEvent[]) {
  const { batchId, ids } = await acceptEvents(t.tenant, events, DEVICE);
  return { batchId, ids, outcome: await processIds(batchId, ids) };
}

const outcomeOf = (outcome: BatchOutcome, event: RawEvent): EventOutcome | undefined =>
  outcome.events.find((e) => e.eventId === event.id);
const codeOf = (outcome: BatchOutcome, event: RawEvent) => {
  const e = outcomeOf(outcome, event);
  return e?.error?.code ?? e?.status;
};
const photoRow = async (photoId: string) =>
  (await pool().query('select status, target_type, target_id, event_id from photos where id = $1', [photoId]))
    .rows[0] as {
    status: string;
    target_type: string | null;
    target_id: string | null;
    event_id: string | null;
  };
const leaseStatus = async (photo: Photo) => (await blob(photo.blobName).getProperties()).leaseStatus;

describe('the photo check cannot be skipped, and leaves no lock on a photo it did not attach', () => {
  it('a poison event halves the chunk: an unverified photo is still PHOTO_NOT_UPLOADED; the poison is UNPROCESSABLE_DATA, not retryable; the rest applies', async () => {
    const [good, missing, poisoned] = await Promise.all([newPhoto(), newPhoto(false), newPhoto()]);
    const poisonReading = reading(t.wellId, 123, minutesAgo(50));
    const events = [
      attach(good),
      attach(missing),
      attach(poisoned),
      poisonReading,
      reading(t.wellId, 124, minutesAgo(51)),
      inspection(t.wellId, t.equipmentId),
    ];
    const { batchId, ids } = await acceptEvents(t.tenant, events, DEVICE);
    // Values validation lets through only in a bug, but Postgres refuses: written straight into the log.
    await pool().query(
      `update sync_events set payload = jsonb_set(payload, '{takenAt}', '"0000-01-01T00:00:00Z"') where id = $1`,
      [events[2]?.id],
    );
    await pool().query(
      `update sync_events set payload = jsonb_set(payload, '{value}', '"1e999"') where id = $1`,
      [poisonReading.id],
    );
    // As a push's message: by batch, halved by the ids of its PENDING events.
    expect(ids).toHaveLength(events.length);
    const outcome = await processIds(batchId);

    expect(events.map((e) => codeOf(outcome, e))).toEqual([
      'APPLIED',
      'PHOTO_NOT_UPLOADED',
      'UNPROCESSABLE_DATA',
      'UNPROCESSABLE_DATA',
      'APPLIED',
      'APPLIED',
    ]);
    expect(outcomeOf(outcome, events[1] as RawEvent)?.error?.retryable).toBe(true);
    for (const poison of [events[2], poisonReading]) {
      expect(outcomeOf(outcome, poison as RawEvent)?.error).toMatchObject({ retryable: false });
    }
    expect(outcome.counts).toMatchObject({ failed: 0, pending: 0 });
    // The unverified photo is not linked; the good one is, and stays locked.
    expect(await photoRow(missing.photoId)).toMatchObject({ status: 'AWAITING_UPLOAD', target_type: null });
    expect(await photoRow(good.photoId)).toMatchObject({ status: 'ATTACHED', target_id: t.wellId });
    expect(await leaseStatus(good)).toBe('locked');
    // The poisoned photo was checked (and locked) in an attempt that rolled back: unlocked, re-uploadable.
    expect(await photoRow(poisoned.photoId)).toMatchObject({ status: 'AWAITING_UPLOAD' });
    expect(await leaseStatus(poisoned)).toBe('unlocked');
    expect((await put(poisoned.url, poisoned.bytes)).status).toBe(201);
    // …and a correct attach of it then works.
    const fixed = await processEvents([attach(poisoned)]);
    expect(fixed.outcome.counts).toMatchObject({ applied: 1 });
    expect(await leaseStatus(poisoned)).toBe('locked');
  });

  it('a photo refused by its target is not linked and its blob is not locked; its neighbours attach', async () => {
    const photos = await Promise.all(Array.from({ length: 6 }, () => newPhoto()));
    const targets = [
      { type: 'WELL', id: 'no-such-well' },
      { type: 'WELL', id: t.inactiveWellId },
      { type: 'EQUIPMENT', id: t.deletedEquipmentId },
      { type: 'EQUIPMENT', id: 'no-such-pump' },
      { type: 'INSPECTION', id: randomUUID() },
    ];
    const refused = targets.map((target, i) => attach(photos[i] as Photo, target));
    const good = attach(photos[5] as Photo, { type: 'EQUIPMENT', id: t.equipmentId });
    const { outcome } = await processEvents([...refused, good]);
    expect(refused.map((e) => codeOf(outcome, e))).toEqual([
      'WELL_NOT_FOUND',
      'WELL_INACTIVE',
      'EQUIPMENT_DELETED',
      'EQUIPMENT_NOT_FOUND',
      'TARGET_NOT_FOUND',
    ]);
    expect(codeOf(outcome, good)).toBe('APPLIED');
    for (const photo of photos.slice(0, 5)) {
      expect(await photoRow(photo.photoId)).toMatchObject({ status: 'AWAITING_UPLOAD', target_type: null });
      expect(await leaseStatus(photo)).toBe('unlocked');
    }
    expect(await leaseStatus(photos[5] as Photo)).toBe('locked');
  });
});

describe('retryable refusals of photos', () => {
  it('PHOTO_NOT_UPLOADED: after the upload, the same event pushed again attaches it, in the new batch', async () => {
    const photo = await newPhoto(false);
    const event = attach(photo);
    const neighbour = reading(t.wellId, 777, minutesAgo(30));
    const first = await processEvents([event, neighbour]);
    expect(outcomeOf(first.outcome, event)?.error).toMatchObject({
      code: 'PHOTO_NOT_UPLOADED',
      retryable: true,
    });
    expect(codeOf(first.outcome, neighbour)).toBe('APPLIED');

    expect((await put(photo.url, photo.bytes)).status).toBe(201);
    const again = await acceptEvents(t.tenant, [event, neighbour], DEVICE);
    expect(again.ids).toEqual([event.id]);
    const second = await processIds(again.batchId, again.ids);
    expect(outcomeOf(second, event)).toEqual({ eventId: event.id, status: 'APPLIED' });
    expect(codeOf(second, neighbour)).toBe('DUPLICATE');
    expect(await photoRow(photo.photoId)).toMatchObject({ status: 'ATTACHED', event_id: event.id });
    const [row] = (await pool().query('select attempts from sync_events where id = $1', [event.id])).rows;
    expect(row?.attempts).toBe(3);
  });

  it('PHOTO_NOT_UPLOADED: POST /v1/sync/retry (the use case) re-enqueues it; processed, it attaches', async () => {
    const photo = await newPhoto(false);
    const event = attach(photo);
    const first = await processEvents([event]);
    expect(codeOf(first.outcome, event)).toBe('PHOTO_NOT_UPLOADED');
    expect((await put(photo.url, photo.bytes)).status).toBe(201);
    const sent: OutgoingMessage[] = [];
    const result = await retryFailedEvents(
      {
        eventLog: getApp().eventLog,
        devices: getApp().devices,
        outbox: getApp().outbox,
        queue: {
          send: async (m) => void sent.push(...m),
          schedule: () => Promise.reject(new Error('not used')),
        },
      },
      t.tenant,
      { userId: 'u-op', tenantId: t.tenant.id, roles: ['OPERATOR'] },
      { eventIds: [event.id] },
    );
    expect(result).toEqual({ retried: 1, eventIds: [event.id] });
    const message = sent[0]?.body as SyncChunkMessage;
    expect(message).toMatchObject({ batchId: first.batchId, eventIds: [event.id], reason: 'retry' });
    const outcome = await processIds(message.batchId, message.eventIds ?? []);
    expect(outcomeOf(outcome, event)).toEqual({ eventId: event.id, status: 'APPLIED' });
    expect(await photoRow(photo.photoId)).toMatchObject({ status: 'ATTACHED' });
  });
});

describe('one photo, one link', () => {
  it('two attaches of one photo with different targets in one batch: the later one links it, the other says why not', async () => {
    const photo = await newPhoto();
    const early = attach(photo, { type: 'WELL', id: t.wellId }, minutesAgo(5));
    const late = attach(photo, { type: 'EQUIPMENT', id: t.equipmentId }, minutesAgo(4));
    const neighbour = reading(t.wellId, 555, minutesAgo(45));
    // The later one first: arrival order does not matter.
    const { outcome } = await processEvents([late, neighbour, early]);
    expect(codeOf(outcome, late)).toBe('APPLIED');
    expect(outcomeOf(outcome, early)?.error).toMatchObject({
      code: 'PHOTO_ATTACHED_ELSEWHERE',
      retryable: false,
    });
    expect(codeOf(outcome, neighbour)).toBe('APPLIED');
    expect(await photoRow(photo.photoId)).toMatchObject({
      status: 'ATTACHED',
      target_type: 'EQUIPMENT',
      event_id: late.id,
    });
  });

  it('across batches: a newer attach relinks and relabels the older; an older one arriving later loses to it', async () => {
    const photo = await newPhoto();
    const first = attach(photo, { type: 'WELL', id: t.wellId }, minutesAgo(6));
    const newer = attach(photo, { type: 'EQUIPMENT', id: t.equipmentId }, minutesAgo(3));
    const older = attach(photo, { type: 'WELL', id: t.wellId }, minutesAgo(9));
    const a = await processEvents([first]);
    expect(codeOf(a.outcome, first)).toBe('APPLIED');
    const b = await processEvents([newer]);
    expect(codeOf(b.outcome, newer)).toBe('APPLIED');
    // The first batch now says why its attach is not the photo's link.
    const relabelled = await getApp().eventLog.batchOutcome(t.tenant, a.batchId);
    expect(relabelled && codeOf(relabelled, first)).toBe('PHOTO_ATTACHED_ELSEWHERE');
    const c = await processEvents([older]);
    expect(codeOf(c.outcome, older)).toBe('PHOTO_ATTACHED_ELSEWHERE');
    expect(await photoRow(photo.photoId)).toMatchObject({ target_type: 'EQUIPMENT', event_id: newer.id });
    expect(await leaseStatus(photo)).toBe('locked');
  });

  it('no Blob call while a transaction of the tenant database is open; a photo not attached is unlocked after the commit', async () => {
    const [kept, refused] = await Promise.all([newPhoto(), newPhoto()]);
    const real = createPhotoPrecheck(store);
    const openTransactions = async () =>
      (
        await getApp()
          .tenantPool(t.tenant)
          .query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity
             where datname = $1 and xact_start is not null and pid <> pg_backend_pid()`,
            [t.tenant.databaseName],
          )
      ).rows[0]?.n;
    const seen: string[] = [];
    const spied = postgresChunkEngine(getApp().tenantPool, {
      check: async (tenant, events) => {
        seen.push(`check: ${await openTransactions()} open`);
        return real.check(tenant, events);
      },
      unlock: async (tenant, blobs) => {
        seen.push(`unlock: ${await openTransactions()} open`);
        return real.unlock(tenant, blobs);
      },
    });
    const good = attach(kept);
    const badTarget = attach(refused, { type: 'WELL', id: 'no-such-well' });
    const { batchId, ids } = await acceptEvents(
      t.tenant,
      [good, badTarget, reading(t.wellId, 7, minutesAgo(1))],
      DEVICE,
    );
    await spied.process(t.tenant, batchId, ids);
    expect(seen).toEqual(['check: 0 open', 'unlock: 0 open']);
    const outcome = await getApp().eventLog.batchOutcome(t.tenant, batchId);
    expect(outcome && codeOf(outcome, good)).toBe('APPLIED');
    expect(outcome && codeOf(outcome, badTarget)).toBe('WELL_NOT_FOUND');
    expect(await leaseStatus(kept)).toBe('locked');
    expect(await leaseStatus(refused)).toBe('unlocked');
  });

  it('two chunks attaching one photo at once (two processors): it is attached once, by the newer, and its blob stays locked — 8 times', async () => {
    const other = postgresChunkEngine(getApp().tenantPool, createPhotoPrecheck(store));
    for (let round = 0; round < 8; round += 1) {
      const photo = await newPhoto();
      const older = attach(photo, { type: 'WELL', id: t.wellId }, minutesAgo(6));
      const newer = attach(photo, { type: 'EQUIPMENT', id: t.equipmentId }, minutesAgo(3));
      const a = await acceptEvents(t.tenant, [older], DEVICE);
      const b = await acceptEvents(t.tenant, [newer], DEVICE);
      // Alternate which one starts first.
      const runs = [
        () => processor.process(t.tenant, a.batchId, a.ids),
        () => other.process(t.tenant, b.batchId, b.ids),
      ];
      if (round % 2) runs.reverse();
      await Promise.all(runs.map((run) => run()));
      const [oa, ob] = await Promise.all([
        getApp().eventLog.batchOutcome(t.tenant, a.batchId),
        getApp().eventLog.batchOutcome(t.tenant, b.batchId),
      ]);
      expect(ob && codeOf(ob, newer)).toBe('APPLIED');
      expect(oa && codeOf(oa, older)).toBe('PHOTO_ATTACHED_ELSEWHERE');
      expect(await photoRow(photo.photoId)).toMatchObject({ status: 'ATTACHED', event_id: newer.id });
      const links = await pool().query('select count(*)::int as n from photos where id = $1', [
        photo.photoId,
      ]);
      expect(links.rows[0]).toEqual({ n: 1 });
      expect(await leaseStatus(photo)).toBe('locked');
    }
  });
});
