import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSyncStatus } from '../../functions/sync-status.js';
import { pullSync } from '../../functions/sync-pull.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { PullResponse } from '../../shared/contracts/pull.js';
import type { DeviceStatus } from '../../shared/contracts/sync.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { pushSettled } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { call } from '../support/http.js';
import { freshTenant } from '../support/tenants.js';
import { pullHorizonPassed } from '../support/wait.js';

// Device status pendingPull (GET /v1/sync/status) of a selective device counts only what its next pull would
// send: v1 changes, and record changes of its collections and scopes (docs/selective-sync.md). A clinic
// tenant of this file's own; records written through the real path (a manager's RECORD_* events, processed
// by the shared host's engine), so the change log holds what production writes.
let tenant: Tenant;
let pool: pg.Pool;
let manager: string;
const nurse = { a: '', b: '' };

beforeAll(async () => {
  tenant = await freshTenant('ppull', ['clinic']);
  pool = getApp().tenantPool(tenant);
  manager = await tokenFor(tenant.id, ['MANAGER'], 'u-doctor');
  nurse.a = await tokenFor(tenant.id, ['OPERATOR'], 'u-nurse-a');
  nurse.b = await tokenFor(tenant.id, ['OPERATOR'], 'u-nurse-b');
  await getApp().scopes.grant(tenant, 'clinic-a', 'u-nurse-a', 'test');
  await getApp().scopes.grant(tenant, 'clinic-b', 'u-nurse-b', 'test');
});
afterAll(() => closeApp());

const created = (clinicId: string, id = randomUUID()) => ({
  id: randomUUID(),
  type: 'RECORD_CREATED',
  occurredAt: new Date(Date.now() - 1000).toISOString(),
  payload: { collection: 'patients', recordId: id, data: { clinicId, name: `patient ${id}` } },
});

/** The manager writes records through the push route and the engine; every event must apply. */
async function write(events: unknown[]): Promise<void> {
  const outcome = await pushSettled(manager, 'doctor-tablet', events);
  expect(outcome.counts, JSON.stringify(outcome)).toMatchObject({ applied: events.length });
  await pullHorizonPassed(pool);
}

/** Follows the device's cursor until hasMore is false; returns the last cursor. */
async function pullAll(token: string, deviceId: string, cursor?: string): Promise<string | undefined> {
  for (let n = 0; n < 50; n += 1) {
    const at = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
    const response = await call(pullSync, {
      url: `http://localhost/api/v1/sync/pull?deviceId=${deviceId}&limit=100${at}`,
      token,
    });
    expect(response.status, response.text).toBe(200);
    const page = response.body as PullResponse;
    cursor = page.nextCursor;
    if (!page.hasMore) return cursor;
  }
  throw new Error('the pull did not end');
}

const pendingPull = async (token: string, deviceId: string) => {
  const response = await call(getSyncStatus, {
    url: `http://localhost/api/v1/sync/status?deviceId=${deviceId}`,
    token,
  });
  expect(response.status, response.text).toBe(200);
  return (response.body as DeviceStatus).pendingPull;
};

describe('pendingPull of a selective device', () => {
  it("counts only changes of the device's scopes: clinic B's do not raise clinic A's device, clinic A's do", async () => {
    // Prepare: both nurses hold their clinic, caught up.
    await write([created('clinic-a'), created('clinic-b')]);
    let cursorA = await pullAll(nurse.a, 'tablet-a');
    let cursorB = await pullAll(nurse.b, 'tablet-b');
    expect(await pendingPull(nurse.a, 'tablet-a')).toBe(0);
    expect(await pendingPull(nurse.b, 'tablet-b')).toBe(0);

    // Act: three patients registered at clinic B.
    await write([created('clinic-b'), created('clinic-b'), created('clinic-b')]);

    // Assess: B's device has them to pull; A's has nothing (before: 3 for both).
    expect(await pendingPull(nurse.b, 'tablet-b')).toBe(3);
    expect(await pendingPull(nurse.a, 'tablet-a')).toBe(0);

    // Act: two at clinic A, and one of B's moved to A (a row whose old scope is B, new scope A).
    const moved = randomUUID();
    await write([created('clinic-b', moved)]);
    cursorB = await pullAll(nurse.b, 'tablet-b', cursorB);
    await write([
      created('clinic-a'),
      created('clinic-a'),
      {
        id: randomUUID(),
        type: 'RECORD_UPDATED',
        occurredAt: new Date().toISOString(),
        payload: {
          collection: 'patients',
          recordId: moved,
          baseVersion: 1,
          changes: { clinicId: 'clinic-a' },
        },
      },
    ]);

    // Assess: A gets the two and the moved one; B gets the move (as a deletion).
    expect(await pendingPull(nurse.a, 'tablet-a')).toBe(3);
    expect(await pendingPull(nurse.b, 'tablet-b')).toBe(1);

    // Act: each pulls.
    cursorA = await pullAll(nurse.a, 'tablet-a', cursorA);
    cursorB = await pullAll(nurse.b, 'tablet-b', cursorB);

    // Assess
    expect(cursorA && cursorB).toBeTruthy();
    expect(await pendingPull(nurse.a, 'tablet-a')).toBe(0);
    expect(await pendingPull(nurse.b, 'tablet-b')).toBe(0);
  });

  it('still counts v1 changes for a selective device, and every change for a pull recorded without a held set', async () => {
    // Prepare
    await pullAll(nurse.a, 'tablet-a2');
    expect(await pendingPull(nurse.a, 'tablet-a2')).toBe(0);
    // Act: a v1 change (a well) and a record of clinic B.
    await getApp().referenceData.upsertWell(tenant, `w-${randomUUID()}`, {
      name: 'Clinic generator',
      apiNumber: '42-000-00001',
      latitude: 31,
      longitude: -102,
      status: 'ACTIVE',
    });
    await write([created('clinic-b')]);
    // Assess: the well counts (every device gets v1 entities); B's record does not.
    expect(await pendingPull(nurse.a, 'tablet-a2')).toBe(1);

    // Prepare: the same position recorded as a pull from before the held set was kept (no hash).
    const device = await getApp().devices.get(tenant.id, 'tablet-a2');
    if (!device?.pullPosition) throw new Error('the pull was not recorded');
    expect(device.heldSet).not.toBeNull();
    await getApp().devices.recordPull(tenant.id, {
      deviceId: 'tablet-a2',
      userId: 'u-nurse-a',
      at: new Date().toISOString(),
      position: device.pullPosition,
    });
    // Assess: the old count, every change-log row (the well and B's record).
    expect(await pendingPull(nurse.a, 'tablet-a2')).toBe(2);
  });
});
