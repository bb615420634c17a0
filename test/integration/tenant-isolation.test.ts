import { randomBytes } from 'node:crypto';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Container } from '@azure/cosmos';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteEquipment } from '../../functions/equipment-delete.js';
// The managers' console's reads.
import { getConflict } from '../../functions/conflict-get.js';
import { getDeviceActivity } from '../../functions/device-activity.js';
import { putEquipment } from '../../functions/equipment-put.js';
import { getSyncBatch } from '../../functions/sync-batch.js';
import { pushSyncBatch } from '../../functions/sync-push.js';
import { retrySync } from '../../functions/sync-retry.js';
import { getSyncStatus } from '../../functions/sync-status.js';
import { putWell } from '../../functions/wells-put.js';
import { resolveConflictHandler } from '../../functions/conflict-resolve.js';
import { getConflictStrategies, putConflictStrategies } from '../../functions/conflict-strategies.js';
import { listConflicts } from '../../functions/conflicts.js';
import { getDevices } from '../../functions/devices.js';
import { getPhotoById } from '../../functions/photo-get.js';
import { photoUploadUrls } from '../../functions/photo-upload-urls.js';
import { pullSync } from '../../functions/sync-pull.js';
import { deleteScopeMember } from '../../functions/scope-member-delete.js';
import { putScopeMember } from '../../functions/scope-member-put.js';
import { listScopeGrants } from '../../functions/scopes.js';
import { getTenantSchema } from '../../functions/schema-get.js';
import { putSchemaCollection } from '../../functions/schema-put.js';
import { getStats } from '../../functions/sync-stats.js';
import { wellosFieldDataSync } from '../../functions/compat/wellos/field-data-sync.js';
import { wellpulsePullHandler } from '../../functions/compat/wellpulse/sync-pull.js';
import { wellpulsePushHandler } from '../../functions/compat/wellpulse/sync-push.js';
import { wellpulseStatusHandler } from '../../functions/compat/wellpulse/sync-status.js';
import { clinicPending } from '../../functions/compat/clinic/pending.js';
import { clinicProcess } from '../../functions/compat/clinic/process.js';
import { clinicQueue } from '../../functions/compat/clinic/queue.js';
import { clinicResolve } from '../../functions/compat/clinic/resolve.js';
import { clinicRetry } from '../../functions/compat/clinic/retry.js';
import { clinicStats } from '../../functions/compat/clinic/stats.js';
import { fieldopsSyncBatch } from '../../functions/compat/fieldops/sync-batch.js';
import { fieldopsUploadUrl } from '../../functions/compat/fieldops/upload-url.js';
import { fieldopsUpload } from '../../functions/compat/fieldops/upload.js';
import { encodeUploadToken } from '../../shared/compat/fieldops/upload-token.js';
import { installPacks } from '../../shared/usecases/schema.js';
import { arxosDeleteEquipment } from '../../functions/compat/arxos/equipment-delete.js';
import { arxosCreateEquipment } from '../../functions/compat/arxos/equipment-create.js';
import { arxosUpdateEquipment } from '../../functions/compat/arxos/equipment-update.js';
import { arxosEquipmentUpdates } from '../../functions/compat/arxos/equipment-updates.js';
import { arxosSyncBatch } from '../../functions/compat/arxos/sync-batch.js';
import { arxosGetBuilding } from '../../functions/compat/arxos/building-get.js';
import { arxosEquipmentByBuilding } from '../../functions/compat/arxos/equipment-by-building.js';
import { arxosSpatialAnchors } from '../../functions/compat/arxos/spatial-anchors.js';
import { azureCredential } from '../../shared/adapters/azure-credential.js';
import { createCosmosDatabase } from '../../shared/adapters/cosmos/client.js';
import { COSMOS_CONTAINERS } from '../../shared/adapters/cosmos/containers.js';
import { idempotencyItemId } from '../../shared/adapters/cosmos/idempotency-store.js';
import { counterItemId } from '../../shared/adapters/cosmos/rate-limiter.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { UploadUrlsResponse } from '../../shared/contracts/photos.js';
import { ALL_ROUTES } from '../../shared/contracts/routes.js';
import { limitFor, rateLimitKey, type RouteClass } from '../../shared/http/rate-limit.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { tokenFor } from '../support/auth.js';
import { equipmentInput, wellInput } from '../support/fixtures.js';
import { maintenance, reading } from '../support/events.js';
import { call } from '../support/http.js';
import { push, pushAccepted, settled } from '../support/sync.js';
import { freshTenant } from '../support/tenants.js';
import { waitFor } from '../support/wait.js';

// Two tenants holding records with the same ids, used by users with the same ids: every route is called
// with the second tenant's tokens, and everything the first tenant keeps — its database, its Cosmos
// documents (device status, Idempotency-Key records, rate-limit counters) and its photo blobs — must come
// out exactly as it went in. Same user ids matter: a store that forgot the tenant in a key would otherwise
// still keep the two apart by user.
let acme: Tenant;
let globex: Tenant;
let acmeBatchId = '';
const SHARED_PHOTO = '11111111-2222-4333-8444-555555555555';
const SHARED_KEY = 'shared-idempotency-key';
const USERS = ['acme-user', 'acme-boss'] as const;
const ROUTE_CLASSES: RouteClass[] = ['push', 'pull', 'other'];
/** The blob names the app gave acme for its photo (the app's own naming, whatever it is). */
const acmeBlobNames: string[] = [];
let blobs: BlobServiceClient;
let cosmos: (key: keyof typeof COSMOS_CONTAINERS) => Container;

/** Every row of every table of a tenant database, as text: a fingerprint of its whole content. */
async function snapshot(tenant: Tenant): Promise<string> {
  const pool = getApp().tenantPool(tenant);
  const { rows } = await pool.query<{ t: string }>(
    "select tablename as t from pg_tables where schemaname = 'public' and tablename <> 'pgmigrations' order by 1",
  );
  const parts: string[] = [];
  for (const { t } of rows) {
    const data = await pool.query(`select * from ${pg.escapeIdentifier(t)} order by 1`);
    parts.push(`${t}:${JSON.stringify(data.rows)}`);
  }
  return parts.join('\n');
}

/** A Cosmos item as stored (with its _etag, which every write changes), or null when there is none. */
async function rawItem(container: Container, id: string): Promise<unknown> {
  try {
    const { resource } = await container.item(id, id).read();
    return resource ?? null;
  } catch (error) {
    if ((error as { code?: unknown }).code === 404) return null;
    throw error;
  }
}

/** The window starts of a route class that overlap [from, to], as the limiter computes them. */
function windowStarts(routeClass: RouteClass, from: number, to: number): number[] {
  const millis = limitFor(getApp().config.rateLimits, routeClass).windowSeconds * 1000;
  const starts: number[] = [];
  for (let start = Math.floor(from / millis) * millis; start <= to; start += millis) starts.push(start);
  return starts;
}

/**
 * What Cosmos keeps for a tenant, found the way the app finds it: its device documents (the store's own
 * list, and the raw documents of its partition with their _etags), the Idempotency-Key records of its
 * users' shared key, and its users' rate-limit counters of every window overlapping [from, to].
 */
async function cosmosSnapshot(tenant: Tenant, from: number, to: number) {
  const app = getApp();
  const { resources: deviceDocs } = await cosmos('devices')
    .items.query(
      { query: 'SELECT * FROM c WHERE c.tenantId = @t', parameters: [{ name: '@t', value: tenant.id }] },
      { partitionKey: tenant.id },
    )
    .fetchAll();
  const idempotency = await Promise.all(
    USERS.map(async (user) => [
      user,
      await rawItem(cosmos('idempotency'), idempotencyItemId(tenant.id, user, SHARED_KEY)),
    ]),
  );
  const counters = await Promise.all(
    USERS.flatMap((userId) =>
      ROUTE_CLASSES.flatMap((routeClass) =>
        windowStarts(routeClass, from, to).map(async (start) => {
          const key = rateLimitKey({ tenantId: tenant.id, userId }, routeClass);
          const item = (await rawItem(cosmos('rateLimits'), counterItemId(key, start))) as {
            count: number;
            _etag: string;
          } | null;
          return [`${key}@${start}`, item && { count: item.count, etag: item._etag }];
        }),
      ),
    ),
  );
  return {
    devices: await app.devices.list(tenant.id),
    deviceDocs: deviceDocs.sort((a, b) => String(a.id).localeCompare(String(b.id))),
    idempotency: Object.fromEntries(idempotency),
    // Only the windows that exist: a window after `from` with no item stays out of both snapshots.
    counters: Object.fromEntries(counters.filter(([, item]) => item !== null)),
  };
}

/**
 * A tenant's photo blobs: everything under its `{tenantId}/` prefix, and the blobs named in its upload
 * answers (wherever the app put them), with the properties any write changes.
 */
async function blobSnapshot(tenant: Tenant, names: string[]) {
  const container = blobs.getContainerClient(getApp().config.blob.photosContainer);
  const listed: Record<string, unknown> = {};
  for await (const blob of container.listBlobsFlat({
    prefix: `${tenant.id}/`,
    includeMetadata: true,
    includeTags: true,
  })) {
    listed[blob.name] = {
      etag: blob.properties.etag,
      lastModified: blob.properties.lastModified?.toISOString(),
      length: blob.properties.contentLength,
      md5: blob.properties.contentMD5 ? Buffer.from(blob.properties.contentMD5).toString('base64') : null,
      lease: blob.properties.leaseState,
      metadata: blob.metadata,
      tags: blob.tags,
    };
  }
  const named: Record<string, unknown> = {};
  for (const name of names) {
    const properties = await container.getBlockBlobClient(name).getProperties();
    named[name] = { etag: properties.etag, length: properties.contentLength };
  }
  return { listed, named };
}

const uploadTo = (url: string, bytes: Buffer) =>
  fetch(url, {
    method: 'PUT',
    headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'image/jpeg' },
    body: bytes,
  });
/** JPEG-looking bytes: the magic number, then random bytes. */
const jpeg = (size: number) => {
  const bytes = randomBytes(size);
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]).copy(bytes);
  return bytes;
};

beforeAll(async () => {
  acme = await freshTenant('iso-a');
  globex = await freshTenant('iso-g');
  const app = getApp();
  blobs = BlobServiceClient.fromConnectionString(process.env.StorageConnection ?? '');
  const database = createCosmosDatabase(app.config.cosmos, () =>
    azureCredential(app.config.managedIdentityClientId),
  );
  cosmos = (key) => database.container(COSMOS_CONTAINERS[key].name);

  const acmeManager = await tokenFor(acme.id, ['MANAGER'], 'acme-boss');
  await call(putWell, {
    method: 'PUT',
    params: { id: 'shared-well' },
    json: wellInput({ name: 'Acme well' }),
    token: acmeManager,
  });
  await call(putEquipment, {
    method: 'PUT',
    params: { id: 'shared-eq' },
    json: equipmentInput('shared-well'),
    token: acmeManager,
  });
  // A scope grant of acme's, which globex's grant routes must neither list nor revoke.
  const granted = await call(putScopeMember, {
    method: 'PUT',
    params: { scope: 'shared-scope', userId: 'acme-user' },
    token: acmeManager,
  });
  expect(granted.status).toBe(201);
  const acmeUser = await tokenFor(acme.id, ['OPERATOR'], 'acme-user');
  // With an Idempotency-Key, so acme holds a record that a tenant-blind key would share with globex.
  const pushed = await push(
    acmeUser,
    { deviceId: 'shared-device', events: [reading('shared-well')] },
    { 'idempotency-key': SHARED_KEY },
  );
  expect(pushed.status).toBe(202);
  acmeBatchId = (pushed.body as { batchId: string }).batchId;
  // From the device's own user: a device is one user's (device-access.ts). The photo is uploaded, so acme
  // has a blob that globex's uploads of the same photo id must not touch.
  const photo = await call(photoUploadUrls, {
    method: 'POST',
    token: acmeUser,
    json: {
      deviceId: 'shared-device',
      photos: [{ photoId: SHARED_PHOTO, contentType: 'image/jpeg', sizeBytes: 1000 }],
    },
  });
  expect(photo.status).toBe(200);
  for (const upload of (photo.body as UploadUrlsResponse).uploads) {
    expect((await uploadTo(upload.uploadUrl, jpeg(1000))).status).toBe(201);
    acmeBlobNames.push(upload.blobName);
  }
  expect(acmeBlobNames).toEqual([expect.stringMatching(new RegExp(`^${acme.id}/`))]);
  await settled(acmeManager, acmeBatchId);
  // Compat arxos: both tenants sync the facilities pack; acme holds equipment 'shared-eq' in building
  // 'shared-scope', the ids globex's arxos calls name.
  await installPacks(app, acme, ['facilities'], 'test');
  await installPacks(app, globex, ['facilities'], 'test');
  const arxosBatch = await pushAccepted(acmeUser, {
    deviceId: 'shared-device',
    events: [
      {
        id: '6f1c2d3e-4b5a-4c6d-8e7f-901234567890',
        type: 'RECORD_CREATED',
        occurredAt: new Date().toISOString(),
        payload: {
          collection: 'equipment',
          recordId: 'shared-eq',
          data: { buildingId: 'shared-scope', name: 'Acme unit', type: 'HVAC' },
        },
      },
      // The building and an anchor the arxos initial-sync reads (getBuilding, …ByBuilding) name.
      {
        id: '6f1c2d3e-4b5a-4c6d-8e7f-901234567891',
        type: 'RECORD_CREATED',
        occurredAt: new Date().toISOString(),
        payload: { collection: 'buildings', recordId: 'shared-scope', data: { name: 'Acme unit HQ' } },
      },
      {
        id: '6f1c2d3e-4b5a-4c6d-8e7f-901234567892',
        type: 'RECORD_CREATED',
        occurredAt: new Date().toISOString(),
        payload: {
          collection: 'spatial_anchors',
          recordId: 'shared-anchor',
          data: { buildingId: 'shared-scope', position: { x: 1, y: 2, z: 3 }, anchorType: 'Acme unit mark' },
        },
      },
    ],
  });
  expect((await settled(acmeManager, arxosBatch.batchId)).events.map((e) => e.status)).toEqual([
    'APPLIED',
    'APPLIED',
    'APPLIED',
  ]);
  // The processor records the device's lastSyncAt just after the batch completes: wait for it, so that
  // write does not land between the snapshots below.
  await waitFor(
    async () =>
      (await getApp().devices.list(acme.id)).find((d) => d.deviceId === 'shared-device')?.lastSyncAt ??
      undefined,
    { what: "acme's device lastSyncAt", timeoutMs: 30_000, intervalMs: 50 },
  );
});
// compat/clinic (document 004): acme holds a queued item 'shared-item' of a collection both tenants have, on
// acme's 'shared-device'; globex's queue, process and resolve of the same item id must find only its own.
const CLINIC_ITEM = 'shared-item';
const clinicOperation = (name: string) => ({
  id: CLINIC_ITEM,
  deviceId: 'shared-device',
  operation: 'CREATE',
  resourceType: 'shared_patient',
  data: { name },
  createdAtClient: new Date(Date.now() - 60_000).toISOString(),
});
beforeAll(async () => {
  for (const tenant of [acme, globex]) {
    const put = await call(putSchemaCollection, {
      method: 'PUT',
      params: { name: 'shared_patients' },
      json: { schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
      token: await tokenFor(tenant.id, ['ADMIN'], 'acme-boss'),
    });
    expect(put.status, put.text).toBe(201);
  }
  const acmeUser = await tokenFor(acme.id, ['OPERATOR'], 'acme-user');
  const queuedAt = new Date().toISOString();
  const queued = await call(clinicQueue, {
    method: 'POST',
    json: clinicOperation('Acme well patient'),
    token: acmeUser,
  });
  expect(queued.status, queued.text).toBe(201);
  // Processed (settled) before the snapshots are taken.
  const processed = await call(clinicProcess, {
    method: 'POST',
    params: { id: CLINIC_ITEM },
    token: acmeUser,
  });
  expect(processed.body).toMatchObject({ status: 'SYNCED' });
  // Its processing records the device's lastSyncAt again just after: wait for that write too, so it does
  // not land between the snapshots the test compares.
  await waitFor(
    async () => {
      const at = (await getApp().devices.list(acme.id)).find(
        (d) => d.deviceId === 'shared-device',
      )?.lastSyncAt;
      return at && at >= queuedAt ? at : undefined;
    },
    { what: "acme's device lastSyncAt after the queued item", timeoutMs: 30_000, intervalMs: 50 },
  );
});
afterAll(() => closeApp());

const handlers = {
  putWell,
  putEquipment,
  deleteEquipment,
  pushBatch: pushSyncBatch,
  getBatch: getSyncBatch,
  retryFailed: retrySync,
  syncStatus: getSyncStatus,
  pull: pullSync,
  photoUploadUrls,
  getPhoto: getPhotoById,
  listConflicts,
  resolveConflict: resolveConflictHandler,
  getConflictStrategies,
  putConflictStrategies,
  listDevices: getDevices,
  syncStats: getStats,
  listScopeGrants,
  putScopeMember,
  deleteScopeMember,
  getSchema: getTenantSchema,
  putCollection: putSchemaCollection,
  compatWellosFieldDataSync: wellosFieldDataSync,
  wellpulsePull: wellpulsePullHandler,
  wellpulsePush: wellpulsePushHandler,
  wellpulseStatus: wellpulseStatusHandler,
  clinicQueue,
  clinicPending,
  clinicProcess,
  clinicResolve,
  clinicRetry,
  clinicStats,
  compatFieldopsSyncBatch: fieldopsSyncBatch,
  compatFieldopsUploadUrl: fieldopsUploadUrl,
  arxosSyncBatch,
  arxosEquipmentUpdates,
  arxosCreateEquipment,
  arxosUpdateEquipment,
  arxosDeleteEquipment,
  arxosGetBuilding,
  arxosEquipmentByBuilding,
  arxosSpatialAnchors,
  // The managers' console's reads: acme's device and a conflict id globex does not have.
  deviceActivity: getDeviceActivity,
  getConflict,
} as const;

/** A compat route's 403 in its document's error body (problem+json for every other route). */
const forbiddenBodies: Record<string, unknown> = {
  wellpulsePull: { statusCode: 403 },
  wellpulsePush: { statusCode: 403 },
  wellpulseStatus: { statusCode: 403 },
  compatWellosFieldDataSync: { syncedEventIds: [], conflicts: [], errors: [expect.any(String)] },
};

describe('tenant isolation', () => {
  it('a globex token never reads or writes acme data, on any route; a forged X-Tenant-Id gets 403', async () => {
    const app = getApp();
    const from = Date.now();
    const before = {
      postgres: await snapshot(acme),
      cosmos: await cosmosSnapshot(acme, from, from),
      blobs: await blobSnapshot(acme, acmeBlobNames),
    };
    // What the snapshots hold, so "unchanged" below compares something: acme's device, key and counters.
    expect(before.cosmos.devices).toEqual([
      expect.objectContaining({ deviceId: 'shared-device', userId: 'acme-user' }),
    ]);
    expect(before.cosmos.idempotency['acme-user']).toMatchObject({ state: 'COMPLETED' });
    expect(Object.keys(before.blobs.listed)).toEqual(acmeBlobNames);

    // Globex users with the same user ids as acme's, in every role.
    const globexTokens = await Promise.all(
      (['OPERATOR', 'MANAGER', 'ADMIN'] as const).flatMap((role) =>
        USERS.map((user) => tokenFor(globex.id, [role], user)),
      ),
    );
    const bodies: Record<string, unknown> = {
      putWell: wellInput({ name: 'Globex overwrite' }),
      putEquipment: equipmentInput('shared-well', { serialNumber: 'GLOBEX' }),
      pushBatch: { deviceId: 'shared-device', events: [reading('shared-well'), maintenance('shared-eq')] },
      retryFailed: { deviceId: 'shared-device' },
      photoUploadUrls: {
        deviceId: 'shared-device',
        photos: [{ photoId: SHARED_PHOTO, contentType: 'image/jpeg', sizeBytes: 1000 }],
      },
      resolveConflict: { resolution: 'CLIENT_WINS' },
      putConflictStrategies: { strategies: { PRODUCTION_LOGGED: 'MANUAL' } },
      putCollection: { schema: { type: 'object', properties: { name: { type: 'string' } } } },
      compatWellosFieldDataSync: {
        deviceInfo: { deviceId: 'shared-device' },
        events: [{ ...reading('shared-well'), timestamp: new Date().toISOString() }],
      },
      wellpulsePush: {
        deviceId: 'shared-device',
        entries: [
          {
            wellId: 'shared-well',
            entryType: 'PRODUCTION',
            data: { oilVolume: 7 },
            recordedAt: '2025-10-25T08:30:00.000Z',
          },
        ],
      },
      clinicQueue: clinicOperation('Globex patient'),
      // Document 003: an event on the shared well with an inline photo (stored under globex's own prefix).
      compatFieldopsSyncBatch: {
        events: [
          {
            id: 'evt-shared',
            eventType: 'PRODUCTION_CREATED',
            aggregateId: 'shared-well',
            payload: { productionDate: '2025-10-20', oilVolume: 1 },
            timestamp: new Date(Date.now() - 60_000).toISOString(),
          },
        ],
        photos: [
          {
            eventId: 'evt-shared',
            filename: 'shared.jpg',
            contentType: 'image/jpeg',
            base64Data: jpeg(100).toString('base64'),
          },
        ],
      },
      arxosSyncBatch: {
        operations: [
          { entity_type: 'equipment', entity_id: 'shared-eq', operation: 'update', payload: { name: 'G' } },
          { entity_type: 'equipment', entity_id: 'shared-eq', operation: 'delete', payload: {} },
        ],
      },
      arxosCreateEquipment: { id: 'shared-eq', building_id: 'shared-scope', name: 'G', type: 'T' },
      arxosUpdateEquipment: { name: 'Globex overwrite', version: 1 },
    };
    const params: Record<string, Record<string, string>> = {
      putWell: { id: 'shared-well' },
      putEquipment: { id: 'shared-eq' },
      deleteEquipment: { id: 'shared-eq' },
      getBatch: { batchId: acmeBatchId },
      getPhoto: { photoId: SHARED_PHOTO },
      resolveConflict: { id: SHARED_PHOTO },
      putScopeMember: { scope: 'shared-scope', userId: 'acme-user' },
      deleteScopeMember: { scope: 'shared-scope', userId: 'acme-user' },
      putCollection: { name: 'shared_collection' },
      clinicProcess: { id: CLINIC_ITEM },
      clinicResolve: { id: CLINIC_ITEM },
      compatFieldopsUploadUrl: { id: 'shared-eq' },
      arxosEquipmentUpdates: { id: 'shared-scope' },
      arxosUpdateEquipment: { id: 'shared-eq' },
      arxosDeleteEquipment: { id: 'shared-eq' },
      arxosGetBuilding: { id: 'shared-scope' },
      arxosEquipmentByBuilding: { id: 'shared-scope' },
      arxosSpatialAnchors: { id: 'shared-scope' },
      // The managers' console's reads.
      deviceActivity: { deviceId: 'shared-device' },
      getConflict: { id: SHARED_PHOTO },
    };
    const urls: Record<string, string> = {
      syncStatus: 'http://localhost/api/v1/sync/status?deviceId=shared-device',
      pull: 'http://localhost/api/v1/sync/pull?deviceId=shared-device',
      listConflicts: 'http://localhost/api/v1/conflicts?status=OPEN',
      syncStats: 'http://localhost/api/v1/sync/stats',
      listDevices: 'http://localhost/api/v1/devices',
      listScopeGrants: 'http://localhost/api/v1/scopes',
      wellpulsePull: 'http://localhost/api/compat/wellpulse/sync/pull?deviceId=shared-device',
      wellpulseStatus: 'http://localhost/api/compat/wellpulse/sync/status?deviceId=shared-device',
      clinicPending: 'http://localhost/api/compat/clinic/api/v1/sync/pending?deviceId=shared-device',
      clinicRetry: 'http://localhost/api/compat/clinic/api/v1/sync/retry?deviceId=shared-device',
      clinicStats: 'http://localhost/api/compat/clinic/api/v1/sync/stats',
      clinicResolve: `http://localhost/api/compat/clinic/api/v1/sync/resolve/${CLINIC_ITEM}?resolution=SERVER_WINS`,
      arxosEquipmentUpdates:
        'http://localhost/api/compat/arxos/api/v1/mobile/equipment/building/shared-scope/updates?since=0',
    };
    const headers: Record<string, Record<string, string>> = {
      // The key acme used: a key store that forgot the tenant would replay acme's answer, or refuse.
      pushBatch: { 'idempotency-key': SHARED_KEY },
      // A short wait: each of the calls waits for its events, and only their outcome's shape matters here.
      compatWellosFieldDataSync: { prefer: 'wait=1' },
      // Compat routes speak for acme's device name (the one globex already has).
      compatFieldopsSyncBatch: { 'x-device-id': 'shared-device' },
      compatFieldopsUploadUrl: { 'x-device-id': 'shared-device' },
      // The compat routes' device: acme's device id (absent, each user would get a device of its own).
      arxosSyncBatch: { 'x-device-id': 'shared-device' },
      arxosEquipmentUpdates: { 'x-device-id': 'shared-device' },
      arxosCreateEquipment: { 'x-device-id': 'shared-device' },
      arxosUpdateEquipment: { 'x-device-id': 'shared-device' },
      arxosDeleteEquipment: { 'x-device-id': 'shared-device' },
    };
    const authRoutes = ALL_ROUTES.filter((r) => r.access !== 'public');
    expect(authRoutes.map((r) => r.name).sort()).toEqual(Object.keys(handlers).sort());

    let uploads = 0;
    let compatSynced = 0;
    for (const route of authRoutes) {
      const handler = handlers[route.name as keyof typeof handlers];
      for (const token of globexTokens) {
        const request = {
          method: route.method,
          params: params[route.name] ?? {},
          json: bodies[route.name],
          token,
          ...(urls[route.name] ? { url: urls[route.name] } : {}),
        };
        // A forged header naming acme is refused before anything else happens.
        const forged = await call(handler, {
          ...request,
          headers: { ...headers[route.name], 'x-tenant-id': acme.id },
        });
        expect(forged.status, `${route.name} with X-Tenant-Id of acme`).toBe(403);
        // A compat route answers in its document's error body (route.errorBody), with the same status.
        if (route.errorBody)
          expect(route.errorBody.schema.safeParse(forged.body).success, route.name).toBe(true);
        expect(forged.body, route.name).toMatchObject(
          forbiddenBodies[route.name] ??
            (route.errorBody ? {} : { status: 403, type: 'urn:fieldsync:problem:forbidden' }),
        );
        // Document 001's X-Tenant-Subdomain naming acme: refused too, nothing read or written.
        if (route.name.startsWith('wellpulse')) {
          const subdomain = await call(handler, {
            ...request,
            headers: { 'x-tenant-subdomain': acme.id },
          });
          expect(subdomain.status, `${route.name} with X-Tenant-Subdomain of acme`).toBe(403);
        }

        const response = await call(handler, { ...request, headers: headers[route.name] ?? {} });
        expect(response.status, `${route.name}`).toBeLessThan(500);
        if (route.name === 'compatFieldopsSyncBatch' && response.status === 200) compatSynced += 1;
        // Reads of acme's batch or photo find nothing from globex.
        if (route.name === 'getBatch' || route.name === 'getPhoto')
          expect([403, 404]).toContain(response.status);
        // The arxos initial-sync reads of acme's building find none in globex (404; 403 for an ungranted OPERATOR).
        if (['arxosGetBuilding', 'arxosEquipmentByBuilding', 'arxosSpatialAnchors'].includes(route.name))
          expect([403, 404], route.name).toContain(response.status);
        // Nothing globex reads may carry acme's data.
        expect(response.text).not.toContain('Acme well');
        expect(response.text).not.toContain('Acme unit');
        expect(response.text).not.toContain(acme.id);
        // (A replay of acme's push answer would carry acme's batch id; getBatch only echoes the id it was asked.)
        if (route.name !== 'getBatch') expect(response.text).not.toContain(acmeBatchId);
        // globex may have its own device of that name (its push above); never acme's.
        if (route.name === 'syncStatus' && response.status === 200) {
          expect(response.body).not.toMatchObject({ lastPushAt: before.cosmos.devices[0]?.lastPushAt });
        }
        if (route.name === 'wellpulseStatus' && response.status === 200) {
          expect(response.body).not.toMatchObject({ lastSyncAt: before.cosmos.devices[0]?.lastSyncAt });
        }
        // The device uploads to whatever URL it was given: that must never be acme's blob.
        if (route.name === 'photoUploadUrls' && response.status === 200) {
          for (const upload of (response.body as UploadUrlsResponse).uploads) {
            expect(upload.blobName).not.toContain(acme.id);
            expect((await uploadTo(upload.uploadUrl, jpeg(1000))).status).toBe(201);
            uploads += 1;
          }
        }
      }
    }
    const to = Date.now();
    expect(await snapshot(acme)).toBe(before.postgres);
    expect(await cosmosSnapshot(acme, from, to)).toEqual(before.cosmos);
    expect(await blobSnapshot(acme, acmeBlobNames)).toEqual(before.blobs);

    // The calls did land, in globex: its own well (where shared-well did not exist), its own device
    // (owned by the same user id), Idempotency-Key record and photo blob. (Not its counters: the limiter
    // fails open when Cosmos is slow, so their presence depends on timing.)
    expect(
      (await app.tenantPool(globex).query("select name from wells where id = 'shared-well'")).rows,
    ).toEqual([{ name: 'Globex overwrite' }]);
    const after = await cosmosSnapshot(globex, from, to);
    expect(after.devices).toEqual([
      expect.objectContaining({ deviceId: 'shared-device', userId: 'acme-user' }),
    ]);
    expect(after.idempotency['acme-user']).toMatchObject({ state: 'COMPLETED' });
    expect(uploads).toBeGreaterThan(0);
    expect(compatSynced).toBeGreaterThan(0);
    // Its own photo blobs (the upload above, and compat inline photos), every one under its own prefix.
    const globexBlobs = Object.keys((await blobSnapshot(globex, [])).listed);
    expect(globexBlobs.length).toBeGreaterThan(0);
    for (const name of globexBlobs) expect(name).toMatch(new RegExp(`^${globex.id}/`));
  });
  // compat fieldops PUT uploads/{token} (public: the signed URL is the capability, no token to forge a tenant
  // with). A URL signed with globex's key never writes acme's blob, whatever tenant, photo or blob it names.
  it('compatFieldopsUpload: an upload URL of globex never writes an acme blob', async () => {
    // Prepare
    const app = getApp();
    const before = await blobSnapshot(acme, acmeBlobNames);
    const acmeBlob = acmeBlobNames[0] ?? '';
    const globexKey = await app.pull.cursorKey(globex);
    const claims = { v: 1 as const, p: SHARED_PHOTO, c: 'image/jpeg' as const, e: Date.now() + 600_000 };
    const forged = [
      encodeUploadToken({ ...claims, t: acme.id, b: acmeBlob }, globexKey),
      encodeUploadToken({ ...claims, t: globex.id, b: acmeBlob }, globexKey),
    ];
    // Act
    const answers = [];
    for (const token of forged) {
      answers.push(
        await call(fieldopsUpload, {
          method: 'PUT',
          params: { token },
          headers: { 'content-type': 'image/jpeg' },
          body: jpeg(1000),
        }),
      );
    }
    // Assess: 403 in the dialect's body, acme's blobs untouched.
    for (const answer of answers) {
      expect(answer.status, answer.text).toBe(403);
      expect(answer.body).toMatchObject({ statusCode: 403, error: 'Forbidden' });
    }
    expect(await blobSnapshot(acme, acmeBlobNames)).toEqual(before);
  });
});
