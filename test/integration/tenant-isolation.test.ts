import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteEquipment } from '../../functions/equipment-delete.js';
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
import { getStats } from '../../functions/sync-stats.js';
import { closeApp, getApp } from '../../shared/app.js';
import { ALL_ROUTES } from '../../shared/contracts/routes.js';
import type { Tenant } from '../../shared/ports.js';
import { tokenFor } from '../support/auth.js';
import { equipmentInput, wellInput } from '../support/fixtures.js';
import { maintenance, reading } from '../support/events.js';
import { call } from '../support/http.js';
import { pushAccepted, settled } from '../support/sync.js';
import { freshTenant } from '../support/tenants.js';

// Two tenants holding records with the same ids; every route is called with the second tenant's
// tokens, and the first tenant's database must come out exactly as it went in.
let acme: Tenant;
let globex: Tenant;
let acmeBatchId = '';
const SHARED_PHOTO = '11111111-2222-4333-8444-555555555555';

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

beforeAll(async () => {
  acme = await freshTenant('iso-a');
  globex = await freshTenant('iso-g');
  const acmeManager = await tokenFor(acme.id, ['MANAGER']);
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
  const acmeUser = await tokenFor(acme.id, ['OPERATOR'], 'acme-user');
  const pushed = await pushAccepted(acmeUser, {
    deviceId: 'shared-device',
    events: [reading('shared-well')],
  });
  acmeBatchId = pushed.batchId;
  // From the device's own user: a device is one user's (device-access.ts).
  const photo = await call(photoUploadUrls, {
    method: 'POST',
    token: acmeUser,
    json: {
      deviceId: 'shared-device',
      photos: [{ photoId: SHARED_PHOTO, contentType: 'image/jpeg', sizeBytes: 1000 }],
    },
  });
  expect(photo.status).toBe(200);
  await settled(acmeManager, acmeBatchId);
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
} as const;

describe('tenant isolation', () => {
  it('a globex token never reads or writes acme data, on any route', async () => {
    const before = await snapshot(acme);
    const globexTokens = await Promise.all(
      (['OPERATOR', 'MANAGER', 'ADMIN'] as const).map((role) => tokenFor(globex.id, [role])),
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
    };
    const params: Record<string, Record<string, string>> = {
      putWell: { id: 'shared-well' },
      putEquipment: { id: 'shared-eq' },
      deleteEquipment: { id: 'shared-eq' },
      getBatch: { batchId: acmeBatchId },
      getPhoto: { photoId: SHARED_PHOTO },
      resolveConflict: { id: SHARED_PHOTO },
    };
    const urls: Record<string, string> = {
      syncStatus: 'http://localhost/api/v1/sync/status?deviceId=shared-device',
      pull: 'http://localhost/api/v1/sync/pull?deviceId=shared-device',
      listConflicts: 'http://localhost/api/v1/conflicts?status=OPEN',
      syncStats: 'http://localhost/api/v1/sync/stats',
      listDevices: 'http://localhost/api/v1/devices',
    };
    const authRoutes = ALL_ROUTES.filter((r) => r.access !== 'public');
    expect(authRoutes.map((r) => r.name).sort()).toEqual(Object.keys(handlers).sort());

    for (const route of authRoutes) {
      const handler = handlers[route.name as keyof typeof handlers];
      for (const token of globexTokens) {
        // Also with a forged header naming acme: the header can only narrow, never widen.
        for (const headers of [{}, { 'x-tenant-id': acme.id }] as Record<string, string>[]) {
          const response = await call(handler, {
            method: route.method,
            params: params[route.name] ?? {},
            json: bodies[route.name],
            token,
            headers,
            ...(urls[route.name] ? { url: urls[route.name] } : {}),
          });
          expect(response.status, `${route.name}`).toBeLessThan(500);
          // Reads of acme's batch or device find nothing from globex.
          if (route.name === 'getBatch' || route.name === 'getPhoto')
            expect([403, 404]).toContain(response.status);
          // Nothing globex reads may carry acme's data.
          expect(response.text).not.toContain('Acme well');
          expect(response.text).not.toContain(acme.id);
          // globex may have its own device of that name (its push above); never acme's.
          if (route.name === 'syncStatus' && response.status === 200) {
            expect(response.body).not.toMatchObject({ userId: 'acme-user' });
          }
        }
      }
    }
    expect(await snapshot(acme)).toBe(before);
    // The writes that were allowed landed in globex's own database (where shared-well did not exist).
    expect(
      (await getApp().tenantPool(globex).query("select name from wells where id = 'shared-well'")).rows,
    ).toEqual([{ name: 'Globex overwrite' }]);
  });
});
