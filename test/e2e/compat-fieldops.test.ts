import { createHash, randomUUID } from 'node:crypto';
import { crc32, deflateSync as zDeflate } from 'node:zlib';
import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { encodeUploadToken, type UploadToken } from '../../shared/compat/fieldops/upload-token.js';
import type { FieldopsBatchResponse } from '../../shared/compat/fieldops/wire.js';
import { api, pushSettled } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// Issue 14, dialect 003 (../shared/seeds/003, Sprint 8 "Batch Sync API", Sprint 6 "Photo Upload Flow"):
// the document's client flow against the local host under /api/compat/fieldops — a batch of its events with
// inline base64 photos, results read as its client reads them ({synced, conflicts, failed}), the photos
// verified and readable through v1, a re-sent batch giving no duplicates, bad photos refused in the
// dialect's error shapes, the upload-URL route then a PUT then the attach, and the events seen by v1 pull.
afterAll(() => closeApp());

let t: SeededTenant;
let operator: string;
let manager: string;

/** A real 1×1 JPEG (JFIF, baseline). */
const JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=',
  'base64',
);
/** A real 2×2 RGB PNG: signature, IHDR, IDAT (zlib), IEND, each chunk with its CRC. */
const PNG = (() => {
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const ihdr = Buffer.from([0, 0, 0, 2, 0, 0, 0, 2, 8, 2, 0, 0, 0]);
  const rows = Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zDeflate(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
})();
const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

const batch = (body: unknown, token = operator, headers: Record<string, string> = {}) =>
  api(token, 'POST', 'compat/fieldops/sync/batch', body, headers);

/** An event as the document's client stores it (Sprint 7 "Event structure"). */
const docEvent = (
  eventType: string,
  aggregateId: string,
  payload: Record<string, unknown>,
  id: string = randomUUID(),
) => ({
  id,
  tenantId: 'acme',
  eventType,
  aggregateId,
  payload,
  timestamp: minutesAgo(30),
  userId: 'user-456',
  syncStatus: 'PENDING',
});
const inline = (eventId: string, bytes: Buffer, filename: string, contentType: string) => ({
  eventId,
  localPath: `/local/photos/${filename}`,
  base64Data: bytes.toString('base64'),
  filename,
  contentType,
});

async function tenantBlobs(): Promise<string[]> {
  const container = BlobServiceClient.fromConnectionString(
    process.env.StorageConnection ?? '',
  ).getContainerClient(getApp().config.blob.photosContainer);
  const names: string[] = [];
  for await (const blob of container.listBlobsFlat({ prefix: `${t.tenant.id}/` })) names.push(blob.name);
  return names.sort();
}

beforeAll(async () => {
  t = await seededTenant('fops');
  operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'user-456');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'boss-1');
});

describe('compat fieldops (document 003): POST /sync/batch with inline photos', () => {
  const productionDate = daysAgo(2);
  // A non-UUID client id, as the document's examples use ("evt-001"), and a UUID one.
  const production = docEvent(
    'PRODUCTION_CREATED',
    'well-1',
    {
      productionDate,
      oilVolume: 42.5,
      gasVolume: 120,
      waterVolume: 8.2,
      notes: 'morning gauge',
      location: { latitude: 31.8457, longitude: -102.3676, accuracy: 9, timestamp: Date.now() },
    },
    `evt-${randomUUID().slice(0, 8)}`,
  );
  const maintenance = docEvent('EQUIPMENT_MAINTENANCE_LOGGED', 'pump-1', {
    maintenanceType: 'REPAIR',
    description: 'Replaced motor belt',
    technician: 'J. Ortiz',
    cost: 120.5,
    photoPath: '/local/photos/belt.jpg',
  });
  const body = {
    events: [production, maintenance],
    photos: [
      inline(maintenance.id, JPEG, 'belt.jpg', 'image/jpeg'),
      inline(production.id, PNG, 'gauge.png', 'image/png'),
    ],
  };
  let first: FieldopsBatchResponse;

  it('syncs events and two inline photos; the answer lists them as the client reads it', async () => {
    // Act
    const response = await batch(body);
    // Assess
    expect(response.status, response.text).toBe(200);
    first = response.body as FieldopsBatchResponse;
    expect(first.synced.sort()).toEqual([production.id, maintenance.id].sort());
    expect(first.conflicts).toEqual([]);
    expect(first.failed).toEqual([]);
    expect(first.photos).toEqual([
      expect.objectContaining({
        eventId: maintenance.id,
        filename: 'belt.jpg',
        status: 'ATTACHED',
        sizeBytes: JPEG.length,
      }),
      expect.objectContaining({
        eventId: production.id,
        filename: 'gauge.png',
        status: 'ATTACHED',
        sizeBytes: PNG.length,
        sha256: sha(PNG),
      }),
    ]);
  });

  it('stores each photo in Blob Storage as {tenantId}/{photoId}.{ext}, verified and readable through v1', async () => {
    const [belt, gauge] = first.photos;
    if (!belt || !gauge) throw new Error('no photos');
    for (const [photo, bytes, type, ext] of [
      [belt, JPEG, 'image/jpeg', 'jpg'],
      [gauge, PNG, 'image/png', 'png'],
    ] as const) {
      const got = await api(manager, 'GET', `v1/photos/${photo.photoId}`);
      expect(got.status, got.text).toBe(200);
      expect(got.body).toMatchObject({
        photoId: photo.photoId,
        blobName: `${t.tenant.id}/${photo.photoId}.${ext}`,
        contentType: type,
        sizeBytes: bytes.length,
        sha256: sha(bytes),
        status: 'ATTACHED',
        userId: 'user-456',
      });
      // The read URL serves exactly the bytes sent inline.
      const read = await fetch((got.body as { readUrl: string }).readUrl);
      expect(read.status).toBe(200);
      expect(Buffer.from(await read.arrayBuffer()).equals(bytes)).toBe(true);
    }
    // The maintenance photo is linked to the maintenance log (a UUID client id is the v1 event id).
    expect((await api(manager, 'GET', `v1/photos/${belt.photoId}`)).body).toMatchObject({
      target: { type: 'MAINTENANCE', id: maintenance.id },
    });
    expect((await api(manager, 'GET', `v1/photos/${gauge.photoId}`)).body).toMatchObject({
      target: { type: 'PRODUCTION' },
    });
  });

  it('a re-sent batch gives the same answer and no duplicates (no second record, log or blob)', async () => {
    // Prepare
    const blobsBefore = await tenantBlobs();
    expect(blobsBefore).toHaveLength(2);
    // Act
    const again = await batch(body);
    // Assess
    expect(again.status, again.text).toBe(200);
    const second = again.body as FieldopsBatchResponse;
    expect(second.synced.sort()).toEqual(first.synced.sort());
    expect(second.failed).toEqual([]);
    expect(second.photos.map((p) => [p.photoId, p.status])).toEqual(
      first.photos.map((p) => [p.photoId, 'ATTACHED']),
    );
    expect(await tenantBlobs()).toEqual(blobsBefore);
    const pool = getApp().tenantPool(t.tenant);
    const count = async (sql: string, params: unknown[]) =>
      Number((await pool.query(sql, params)).rows[0]?.n);
    expect(await count('select count(*) as n from photos', [])).toBe(2);
    expect(
      await count(
        'select count(*) as n from production_records where well_id = $1 and production_date = $2',
        ['well-1', productionDate],
      ),
    ).toBe(1);
    expect(
      await count('select count(*) as n from maintenance_logs where equipment_id = $1', ['pump-1']),
    ).toBe(1);
  });

  it('cross-dialect: the events are visible through v1 pull', async () => {
    const v1 = await tokenFor(t.tenant.id, ['OPERATOR'], 'v1-user');
    const pulled = await api(v1, 'GET', 'v1/sync/pull?deviceId=v1-tablet&limit=1000');
    expect(pulled.status, pulled.text).toBe(200);
    expect((pulled.body as { production: unknown[] }).production).toContainEqual(
      expect.objectContaining({
        wellId: 'well-1',
        productionDate,
        oilVolume: 42.5,
        gasVolume: 120,
        waterVolume: 8.2,
        notes: 'morning gauge',
      }),
    );
  });

  it('a conflict with a v1 device is reported as the document shapes it (the later write wins: SKIP)', async () => {
    // Prepare: a v1 device logged 45.0 bbl for the day, 10 minutes ago (document "Scenario 1").
    const day = daysAgo(3);
    const v1 = await tokenFor(t.tenant.id, ['OPERATOR'], 'v1-user');
    const v1Event = {
      id: randomUUID(),
      type: 'PRODUCTION_LOGGED',
      occurredAt: minutesAgo(10),
      payload: { wellId: 'well-1', productionDate: day, oilVolume: 45 },
    };
    expect((await pushSettled(v1, 'v1-tablet', [v1Event])).events[0]?.status).toBe('APPLIED');
    // Act: the Electron entry of 42.5 for the same day, recorded offline 30 minutes ago, synced now.
    const older = docEvent('PRODUCTION_CREATED', 'well-1', { productionDate: day, oilVolume: 42.5 });
    const response = await batch({ events: [older] });
    // Assess: last-writer-wins keeps the v1 device's later value; the client is told, with both values.
    expect(response.status, response.text).toBe(200);
    const answer = response.body as FieldopsBatchResponse;
    expect(answer.synced).toEqual([]);
    expect(answer.conflicts).toEqual([
      expect.objectContaining({
        eventId: older.id,
        resolution: 'SKIP',
        existingData: { oilVolume: 45 },
        incomingData: { oilVolume: 42.5 },
        reason: expect.stringContaining('oilVolume'),
        conflictId: expect.any(String),
        fields: ['oilVolume'],
      }),
    ]);
    // The v1 side sees the same conflict, and pull still gives its value.
    const pulled = await api(v1, 'GET', 'v1/sync/pull?deviceId=v1-tablet&limit=1000');
    expect((pulled.body as { production: unknown[] }).production).toContainEqual(
      expect.objectContaining({ productionDate: day, oilVolume: 45 }),
    );
    // Settled by the strategy, not reviewed yet: in the managers' inbox (review states, issue 16).
    const listed = await api(manager, 'GET', 'v1/conflicts?status=OPEN');
    expect(JSON.stringify(listed.body)).toContain(answer.conflicts[0]?.conflictId ?? 'none');
    // Sent again (the client keeps a conflicted event): a duplicate, answered with its original outcome —
    // the same conflict with its data, never "synced".
    const resent = await batch({ events: [older] });
    expect(resent.status, resent.text).toBe(200);
    expect(resent.body).toEqual({ synced: [], conflicts: answer.conflicts, failed: [], photos: [] });
  });

  it('document Test 2 (one user, Electron then Mobile): a conflict once each app names its device; without, one device', async () => {
    // Prepare: one operator with the document's two apps; each app's entry for the same well and day.
    const user = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-two-apps');
    const entry = (day: string, oilVolume: number, minutes: number) => ({
      ...docEvent('PRODUCTION_CREATED', 'well-1', { productionDate: day, oilVolume }),
      timestamp: minutesAgo(minutes),
    });
    // Act 1: as the document's clients send them (no device named) — Electron synced first, then Mobile's
    // earlier offline entry.
    const plainDay = daysAgo(4);
    const electron = await batch({ events: [entry(plainDay, 42.5, 10)] }, user);
    const mobile = await batch({ events: [entry(plainDay, 45, 60)] }, user);
    // Assess 1: one device per user (docs/compat/fieldops.md "Device"): its own older write is no conflict.
    expect((electron.body as FieldopsBatchResponse).synced).toHaveLength(1);
    expect((mobile.body as FieldopsBatchResponse).conflicts).toEqual([]);
    // Act 2: each app names its device with the one header the team adds (X-Device-Id).
    const namedDay = daysAgo(5);
    const first = await batch({ events: [entry(namedDay, 42.5, 10)] }, user, { 'x-device-id': 'electron-1' });
    expect((first.body as FieldopsBatchResponse).synced, first.text).toHaveLength(1);
    const later = entry(namedDay, 45, 60);
    const second = await batch({ events: [later] }, user, { 'x-device-id': 'mobile-1' });
    // Assess 2: the document's "verify conflict detected", last-writer-wins by timestamp (Electron's later one).
    expect(second.status, second.text).toBe(200);
    expect((second.body as FieldopsBatchResponse).conflicts).toEqual([
      expect.objectContaining({
        eventId: later.id,
        resolution: 'SKIP',
        existingData: { oilVolume: 42.5 },
        incomingData: { oilVolume: 45 },
      }),
    ]);
  });

  it('lists each refused event once with its most specific reason, and refuses it again when re-sent', async () => {
    // Prepare: an event of an unknown type with a photo naming it; production for a well the server does not
    // know (refused by the processor) with a photo whose bytes are not what it claims.
    const unknown = docEvent('WELL_DRILLED', 'well-1', {});
    const noWell = docEvent('PRODUCTION_CREATED', 'well-nope', { productionDate: daysAgo(9), oilVolume: 7 });
    const request = {
      events: [unknown, noWell],
      photos: [
        inline(unknown.id, JPEG, 'rig.jpg', 'image/jpeg'),
        inline(noWell.id, PNG, 'gauge.jpg', 'image/jpeg'),
      ],
    };
    // Act
    const response = await batch(request);
    const again = await batch(request);
    // Assess: one entry per event — the event's own refusal, the photo's path kept in `errors`.
    for (const answer of [response, again]) {
      expect(answer.status, answer.text).toBe(200);
      const body = answer.body as FieldopsBatchResponse;
      expect(body.synced).toEqual([]);
      expect(body.conflicts).toEqual([]);
      expect(body.failed).toHaveLength(2);
      expect(body.failed).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ eventId: unknown.id, code: 'UNKNOWN_EVENT_TYPE' }),
          expect.objectContaining({
            eventId: noWell.id,
            code: 'WELL_NOT_FOUND',
            retryable: false,
            errors: expect.arrayContaining([
              expect.objectContaining({ path: expect.stringMatching(/^photos\[1\]/) }),
            ]),
          }),
        ]),
      );
    }
  });

  it('refuses a wrong-type or oversized photo in `failed` (nothing stored), and an event of an unknown type', async () => {
    // Prepare
    const blobsBefore = await tenantBlobs();
    const wrongType = docEvent('PRODUCTION_CREATED', 'well-1', { productionDate: daysAgo(4), oilVolume: 1 });
    const tooBig = docEvent('PRODUCTION_CREATED', 'well-1', { productionDate: daysAgo(5), oilVolume: 2 });
    const gif = docEvent('PRODUCTION_CREATED', 'well-1', { productionDate: daysAgo(6), oilVolume: 3 });
    const unknown = docEvent('WELL_DRILLED', 'well-1', {});
    const big = Buffer.alloc(10 * 1024 * 1024 + 1);
    JPEG.copy(big);
    // Act
    const response = await batch({
      events: [wrongType, tooBig, gif, unknown],
      photos: [
        inline(wrongType.id, PNG, 'gauge.jpg', 'image/jpeg'),
        inline(tooBig.id, big, 'huge.jpg', 'image/jpeg'),
        inline(gif.id, Buffer.from('GIF89a'), 'a.gif', 'image/gif'),
      ],
    });
    // Assess
    expect(response.status, response.text).toBe(200);
    const answer = response.body as FieldopsBatchResponse;
    const failed = new Map(answer.failed.map((f) => [`${f.eventId}:${f.filename ?? ''}`, f]));
    expect(failed.get(`${wrongType.id}:gauge.jpg`)).toMatchObject({
      code: 'INVALID_PAYLOAD',
      retryable: false,
      reason: 'the bytes are not image/jpeg',
    });
    expect(failed.get(`${tooBig.id}:huge.jpg`)).toMatchObject({
      code: 'INVALID_PAYLOAD',
      reason: expect.stringContaining('over 10 MiB'),
    });
    expect(failed.get(`${gif.id}:a.gif`)).toMatchObject({ code: 'INVALID_PAYLOAD' });
    expect(failed.get(`${unknown.id}:`)).toMatchObject({ code: 'UNKNOWN_EVENT_TYPE' });
    // Their events are applied, but not `synced` while a photo of theirs is refused: the client keeps them.
    expect(answer.synced).toEqual([]);
    expect(answer.photos.every((p) => p.status === 'FAILED')).toBe(true);
    expect(await tenantBlobs()).toEqual(blobsBefore);
  });

  it('refuses a body over the route limit with 413 and the dialect error body; auth errors likewise', async () => {
    // Prepare: 33 MiB of base64, past the 32 MiB limit (and far below the platform's 100 MB).
    const huge = JSON.stringify({
      events: [],
      photos: [
        {
          eventId: 'x',
          filename: 'x.jpg',
          contentType: 'image/jpeg',
          base64Data: 'A'.repeat(33 * 1024 * 1024),
        },
      ],
    });
    // Act
    const response = await batch(huge);
    // Assess
    expect(response.status).toBe(413);
    expect(response.body).toEqual({
      statusCode: 413,
      message: expect.stringContaining('larger than'),
      error: 'Payload Too Large',
    });
    // A 4 MiB+ body (over the v1 limit) is fine here: one 3.5 MB photo.
    const photo = Buffer.alloc(3_500_000);
    JPEG.copy(photo);
    const event = docEvent('EQUIPMENT_MAINTENANCE_LOGGED', 'pump-1', {
      maintenanceType: 'ROUTINE',
      description: 'photo of the nameplate',
    });
    const fine = await batch({
      events: [event],
      photos: [inline(event.id, photo, 'plate.jpg', 'image/jpeg')],
    });
    expect(fine.status, fine.text.slice(0, 300)).toBe(200);
    expect((fine.body as FieldopsBatchResponse).synced).toEqual([event.id]);
    // No token: 401 in the same shape.
    const anonymous = await batch({ events: [event] }, '');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    // No events and no photos: 400 with the paths as Nest's ValidationPipe lists them.
    const empty = await batch({ events: [] });
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({
      statusCode: 400,
      error: 'Bad Request',
      message: [expect.any(String)],
    });
  });
});

describe('compat fieldops: POST /equipment/{id}/photos/upload-url, PUT, then the attach', () => {
  it('hands out an upload URL taking the document’s plain PUT (Content-Type only); the photo is attached by the maintenance event naming its blob', async () => {
    // Act 1: the upload URL.
    const url = await api(
      operator,
      'POST',
      'compat/fieldops/equipment/pump-1/photos/upload-url?filename=belt-2.jpg',
    );
    // Assess 1
    expect(url.status, url.text).toBe(200);
    const upload = url.body as {
      uploadUrl: string;
      blobName: string;
      expiresAt: string;
      photoId: string;
      headers: Record<string, string>;
    };
    expect(upload.blobName).toBe(`${t.tenant.id}/${upload.photoId}.jpg`);
    expect(Date.parse(upload.expiresAt)).toBeGreaterThan(Date.now());
    // Act 2: the PUT exactly as the document's client sends it: the bytes, Content-Type, no Authorization.
    expect(new URL(upload.uploadUrl).pathname).toMatch(/^\/api\/compat\/fieldops\/uploads\/[^/]+$/);
    const put = await fetch(upload.uploadUrl, {
      method: 'PUT',
      headers: { 'Content-Type': 'image/jpeg' },
      body: JPEG,
    });
    expect(put.status, await put.text()).toBe(201);
    // The bytes are in the photo's blob, a BlockBlob, with their type.
    const blob = await BlobServiceClient.fromConnectionString(process.env.StorageConnection ?? '')
      .getContainerClient(getApp().config.blob.photosContainer)
      .getBlobClient(upload.blobName)
      .getProperties();
    expect(blob).toMatchObject({
      blobType: 'BlockBlob',
      contentType: 'image/jpeg',
      contentLength: JPEG.length,
    });
    // Act 3: the maintenance log naming the blob (the document's step 3, through the batch).
    const event = docEvent('EQUIPMENT_MAINTENANCE_LOGGED', 'pump-1', {
      maintenanceDate: daysAgo(1),
      maintenanceType: 'REPAIR',
      description: 'Replaced motor belt again',
      photoUrls: [upload.blobName],
    });
    const synced = await batch({ events: [event] });
    // Assess
    expect(synced.status, synced.text).toBe(200);
    expect(synced.body).toMatchObject({ synced: [event.id], failed: [] });
    const got = await api(manager, 'GET', `v1/photos/${upload.photoId}`);
    expect(got.body).toMatchObject({
      status: 'ATTACHED',
      sizeBytes: JPEG.length,
      contentType: 'image/jpeg',
      target: { type: 'MAINTENANCE', id: event.id },
    });
    // Attached: the blob is locked, a PUT to the same URL is refused (409 in the dialect's body).
    const again = await fetch(upload.uploadUrl, {
      method: 'PUT',
      headers: { 'Content-Type': 'image/jpeg' },
      body: JPEG,
    });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ statusCode: 409, error: 'Conflict' });
    // A blob never uploaded: the event is `failed`, retryable, and names what to do.
    const never = await api(operator, 'POST', 'compat/fieldops/equipment/pump-1/photos/upload-url');
    const missing = docEvent('EQUIPMENT_MAINTENANCE_LOGGED', 'pump-1', {
      maintenanceType: 'ROUTINE',
      description: 'no photo uploaded',
      photoUrls: [(never.body as { blobName: string }).blobName],
    });
    const answer = (await batch({ events: [missing] })).body as FieldopsBatchResponse;
    expect(answer.failed).toEqual([
      expect.objectContaining({ eventId: missing.id, code: 'PHOTO_NOT_UPLOADED', retryable: true }),
    ]);
    // A photo type photos cannot have: 400 in the dialect's body.
    const gif = await api(
      operator,
      'POST',
      'compat/fieldops/equipment/pump-1/photos/upload-url?contentType=image/gif',
    );
    expect(gif.status).toBe(400);
    expect(gif.body).toMatchObject({ statusCode: 400, error: 'Bad Request' });
  });

  it('issues no URL for equipment that does not exist or was deleted: 404 in the document’s body', async () => {
    // Prepare: a unit a manager registered and deleted; the photo rows before.
    const gone = `pump-gone-${randomUUID().slice(0, 8)}`;
    const put = await api(manager, 'PUT', `v1/equipment/${gone}`, {
      wellId: 'well-1',
      equipmentType: 'PUMP_JACK',
      serialNumber: `P-${gone}`,
      status: 'OPERATIONAL',
    });
    expect(put.status, put.text).toBe(201);
    const removed = await api(manager, 'DELETE', `v1/equipment/${gone}`);
    expect(removed.status, removed.text).toBe(204);
    const pool = getApp().tenantPool(t.tenant);
    const photoRows = async () => Number((await pool.query('select count(*) as n from photos')).rows[0]?.n);
    const before = await photoRows();
    // Act
    const unknown = await api(operator, 'POST', 'compat/fieldops/equipment/pump-nope/photos/upload-url');
    const deleted = await api(operator, 'POST', `compat/fieldops/equipment/${gone}/photos/upload-url`);
    // Assess: Nest's NotFoundException body, no SAS, nothing recorded.
    expect(unknown.status, unknown.text).toBe(404);
    expect(unknown.body).toEqual({
      statusCode: 404,
      message: 'no equipment pump-nope',
      error: 'Not Found',
    });
    expect(deleted.status, deleted.text).toBe(404);
    expect(deleted.body).toEqual({
      statusCode: 404,
      message: `equipment ${gone} was deleted`,
      error: 'Not Found',
    });
    expect(unknown.text + deleted.text).not.toContain('sig=');
    expect(await photoRows()).toBe(before);
  });
});

describe('compat fieldops: PUT uploads/{token} refuses what a SAS would and what photos may not be', () => {
  const putTo = (url: string, body: Buffer, contentType = 'image/jpeg') =>
    fetch(url, { method: 'PUT', headers: { 'Content-Type': contentType }, body });
  const issue = async (query = '') => {
    const url = await api(operator, 'POST', `compat/fieldops/equipment/pump-1/photos/upload-url${query}`);
    expect(url.status, url.text).toBe(200);
    return url.body as { uploadUrl: string; blobName: string; photoId: string };
  };
  const nestBody = async (response: Response, statusCode: number, error: string) => {
    expect(response.status).toBe(statusCode);
    expect(await response.json()).toMatchObject({ statusCode, error, message: expect.any(String) });
  };

  it('refuses a tampered, foreign or expired URL with 403 and writes nothing', async () => {
    // Prepare
    const upload = await issue();
    const token = decodeURIComponent(new URL(upload.uploadUrl).pathname.split('/').pop() ?? '');
    const [body = '', signature = ''] = token.split('.');
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as UploadToken;
    const base = upload.uploadUrl.slice(0, upload.uploadUrl.length - token.length);
    const other = { ...claims, p: randomUUID(), b: `${t.tenant.id}/${randomUUID()}.jpg` };
    const tampered = `${Buffer.from(JSON.stringify(other)).toString('base64url')}.${signature}`;
    const flipped = `${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    const key = await getApp().pull.cursorKey(t.tenant);
    const expired = encodeUploadToken({ ...claims, e: Date.now() - 1000 }, key);
    const wrongKey = encodeUploadToken(claims, `${key}x`);
    // Act + assess: 403 in Nest's body for each, and the photo's blob was never written.
    for (const bad of [tampered, flipped, wrongKey, 'not-a-token']) {
      await nestBody(await putTo(base + bad, JPEG), 403, 'Forbidden');
    }
    const late = await putTo(base + expired, JPEG);
    expect(late.status).toBe(403);
    expect(((await late.json()) as { message: string }).message).toContain('expired');
    expect(await tenantBlobs()).not.toContain(upload.blobName);
  });

  it('checks type and size as uploaded photos are, and a second PUT before the attach replaces the blob', async () => {
    // Prepare
    const upload = await issue('?filename=gauge.png');
    // Act + assess: the type the URL was issued for, the bytes of that type, 1..10 MiB.
    await nestBody(await putTo(upload.uploadUrl, PNG, 'image/jpeg'), 415, 'Unsupported Media Type');
    await nestBody(await putTo(upload.uploadUrl, JPEG, 'image/png'), 422, 'Unprocessable Entity');
    await nestBody(await putTo(upload.uploadUrl, Buffer.alloc(0), 'image/png'), 400, 'Bad Request');
    const huge = Buffer.concat([PNG, Buffer.alloc(10 * 1024 * 1024)]);
    await nestBody(
      await putTo(upload.uploadUrl, huge, 'image/png'),
      413,
      expect.any(String) as unknown as string,
    );
    expect(await tenantBlobs()).not.toContain(upload.blobName);
    // The document's PUT may carry no Content-Type at all ("Body: <image binary>"): the issued type is taken.
    const bare = await fetch(upload.uploadUrl, { method: 'PUT', body: new Uint8Array(PNG) });
    expect(bare.status, await bare.text()).toBe(201);
    // Two good PUTs: the second replaces the first (as a SAS PUT would), the attach sees the last.
    expect((await putTo(upload.uploadUrl, PNG, 'image/png')).status).toBe(201);
    const bigger = Buffer.concat([PNG, Buffer.from('trailing bytes')]);
    expect((await putTo(upload.uploadUrl, bigger, 'image/png')).status).toBe(201);
    const event = docEvent('EQUIPMENT_MAINTENANCE_LOGGED', 'pump-1', {
      maintenanceType: 'ROUTINE',
      description: 'gauge photo',
      photoUrls: [upload.blobName],
    });
    const synced = await batch({ events: [event] });
    expect(synced.body).toMatchObject({ synced: [event.id], failed: [] });
    const got = await api(manager, 'GET', `v1/photos/${upload.photoId}`);
    expect(got.body).toMatchObject({ status: 'ATTACHED', sizeBytes: bigger.length });
  });
});
