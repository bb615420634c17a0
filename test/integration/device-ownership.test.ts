import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { photoUploadUrls } from '../../functions/photo-upload-urls.js';
import { pullSync } from '../../functions/sync-pull.js';
import { pushSyncBatch } from '../../functions/sync-push.js';
import { retrySync } from '../../functions/sync-retry.js';
import { getSyncStatus } from '../../functions/sync-status.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { PullResponse } from '../../shared/contracts/pull.js';
import type { DeviceStatus } from '../../shared/contracts/sync.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import type { DeviceRecord, DeviceStatusStore } from '../../shared/usecases/ports/devices.js';
import { pullPage } from '../../shared/usecases/pull.js';
import { tokenFor } from '../support/auth.js';
import { note, reading } from '../support/events.js';
import { call } from '../support/http.js';
import { ownSyncProcessor } from '../support/processor.js';
import { pushAccepted, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';
import { pullHorizonPassed, waitFor } from '../support/wait.js';

// Item 8 of issue 10: every route that takes a deviceId checks who owns the device (device-access.ts).
const DEVICE = 'tab-owned';
// This file's own sync queue and processor: its batches settle whatever else the run is processing.
ownSyncProcessor('device-ownership');

let t: SeededTenant;
let owner: string;
let other: string;
let manager: string;

const pull = (token: string, deviceId = DEVICE, cursor?: string) =>
  call(pullSync, {
    url: `http://localhost/api/v1/sync/pull?deviceId=${deviceId}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    token,
  });
/** Pulls until hasMore is false, as a client does. */
async function pullAll(token: string, deviceId = DEVICE): Promise<void> {
  let cursor: string | undefined;
  for (;;) {
    const response = await pull(token, deviceId, cursor);
    expect(response.status, response.text).toBe(200);
    const page = response.body as PullResponse;
    if (!page.hasMore) return;
    cursor = page.nextCursor;
  }
}
const status = (token: string, deviceId = DEVICE) =>
  call(getSyncStatus, { url: `http://localhost/api/v1/sync/status?deviceId=${deviceId}`, token });
const push = (token: string, deviceId = DEVICE, headers: Record<string, string> = {}) =>
  call(pushSyncBatch, {
    method: 'POST',
    url: 'http://localhost/api/v1/sync/batches',
    token,
    headers,
    json: { deviceId, events: [reading(t.wellId, 700)] },
  });
const retry = (token: string, deviceId = DEVICE) =>
  call(retrySync, { method: 'POST', url: 'http://localhost/api/v1/sync/retry', token, json: { deviceId } });
const uploadUrls = (token: string, deviceId = DEVICE) =>
  call(photoUploadUrls, {
    method: 'POST',
    url: 'http://localhost/api/v1/photos/upload-urls',
    token,
    json: { deviceId, photos: [{ photoId: randomUUID(), contentType: 'image/jpeg', sizeBytes: 100 }] },
  });
const record = async (deviceId = DEVICE): Promise<DeviceRecord | undefined> =>
  getApp().devices.get(t.tenant.id, deviceId);
const ownerStatus = async () => {
  const response = await status(owner);
  expect(response.status, response.text).toBe(200);
  return response.body as DeviceStatus;
};
/** One well changed after the owner's last pull: pendingPull is 1 until the owner pulls again. */
const changeOneWell = (name: string) =>
  getApp().referenceData.upsertWell(t.tenant, t.wellId, {
    name,
    apiNumber: `42-own-${randomUUID().slice(0, 6)}`,
    latitude: 31,
    longitude: -102,
    status: 'ACTIVE',
  });

beforeAll(async () => {
  t = await seededTenant('own');
  owner = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-owner');
  other = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-other');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-boss');
  const pushed = await pushAccepted(owner, { deviceId: DEVICE, events: [note(t.wellId, 'mine')] });
  await settled(owner, pushed.batchId);
  // lastSyncAt is written just after the batch settles: wait for it, so the record stays still from here.
  await waitFor(async () => (await record())?.lastSyncAt, { what: 'the device to be recorded synced' });
  // A pull sees changes once every older transaction of the server has ended: wait for that around the
  // owner's pull, so that exactly one change (the well below) is pending from here on.
  await pullHorizonPassed(getApp().tenantPool(t.tenant));
  await pullAll(owner);
  await changeOneWell('Changed after the owner pulled');
  await pullHorizonPassed(getApp().tenantPool(t.tenant));
});
afterAll(() => closeApp());

describe("another operator and someone else's device", () => {
  it('gets 403 DEVICE_NOT_OWNED on pull, status, push, retry and upload-urls, and changes nothing', async () => {
    const before = await record();
    expect(before).toMatchObject({ userId: 'u-owner', lastPullAt: expect.any(String) });
    const statusBefore = await ownerStatus();
    expect(statusBefore.pendingPull).toBe(1);

    const attempts = {
      pull: await pull(other),
      status: await status(other),
      push: await push(other),
      pushWithKey: await push(other, DEVICE, { 'idempotency-key': randomUUID() }),
      retry: await retry(other),
      uploadUrls: await uploadUrls(other),
    };
    for (const [route, response] of Object.entries(attempts)) {
      expect(response.status, `${route}: ${response.text}`).toBe(403);
      expect(response.headers['content-type'], route).toMatch(/^application\/problem\+json/);
      expect(response.body, route).toMatchObject({ status: 403, code: 'DEVICE_NOT_OWNED' });
    }

    // The device's record (owner, lastPullAt, pull position, lastPushAt) and its counts are untouched.
    expect(await record()).toEqual(before);
    const statusAfter = await ownerStatus();
    expect(statusAfter).toEqual(statusBefore);
    expect(statusAfter).toMatchObject({ pendingPull: 1, pendingEvents: 0, photos: { awaitingUpload: 0 } });
  });

  it('may still use a device id nobody has used yet, which then becomes theirs', async () => {
    const response = await push(other, 'tab-other');
    expect(response.status, response.text).toBe(202);
    expect((await record('tab-other'))?.userId).toBe('u-other');
    expect((await status(other, 'tab-other')).status).toBe(200);
    expect((await status(owner, 'tab-other')).status).toBe(403);
    expect((await status(owner, 'no-such-device')).status).toBe(404);
  });
});

describe("a manager and someone else's device", () => {
  it('reads status, retries and pulls, without moving the pull position', async () => {
    const before = await record();
    expect((await status(manager)).status).toBe(200);
    expect((await retry(manager)).status).toBe(202);
    await pullAll(manager);
    expect(await record()).toEqual(before);
    expect((await ownerStatus()).pendingPull).toBe(1);
  });

  it('may not push or ask upload URLs as that device', async () => {
    const before = await record();
    for (const response of [await push(manager), await uploadUrls(manager)]) {
      expect(response.status, response.text).toBe(403);
      expect(response.body).toMatchObject({ code: 'DEVICE_NOT_OWNED' });
    }
    expect(await record()).toEqual(before);
  });
});

describe('the owner', () => {
  it("moves its own device's pull position (what the refusals above are measured against)", async () => {
    const before = await record();
    await pullAll(owner);
    const after = await record();
    expect(after?.lastPullAt).not.toBe(before?.lastPullAt);
    expect(after?.pullPosition).not.toEqual(before?.pullPosition);
    expect((await ownerStatus()).pendingPull).toBe(0);
    expect((await retry(owner)).status).toBe(202);
    expect((await uploadUrls(owner)).status).toBe(200);
    expect((await ownerStatus()).photos.awaitingUpload).toBe(1);
  });
});

describe('pull with the device store down', () => {
  it('is served (status is derived data) but records nothing, since the owner is unknown', async () => {
    const app = getApp();
    const recorded: string[] = [];
    // The real store (its prototype), but reading owners fails as with Cosmos down.
    const devices = Object.assign(Object.create(app.devices) as DeviceStatusStore, {
      get: () => Promise.reject(new DependencyUnavailableError('cosmos')),
      recordPull: async (_tenantId: string, pull: { deviceId: string }) => {
        recorded.push(pull.deviceId);
      },
    });
    const principal = { tenantId: t.tenant.id, userId: 'u-other', roles: ['OPERATOR' as const] };
    const page = await pullPage({ ...app, devices }, t.tenant, principal, { deviceId: DEVICE, limit: 10 });
    expect(page.tenantId).toBe(t.tenant.id);
    expect(recorded).toEqual([]);
  });
});

describe('tokens through the real handlers (issue 10, item 11)', () => {
  it('answers 401 problem+json to a correctly signed token without exp', async () => {
    const settings = inject('settings');
    const noExp = await new SignJWT({ tid: t.tenant.id, roles: ['OPERATOR'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('u-owner')
      .setIssuer(settings.AUTH_ISSUER ?? '')
      .setAudience(settings.AUTH_AUDIENCE ?? '')
      .setIssuedAt()
      .sign(new TextEncoder().encode(settings.AUTH_DEV_SECRET ?? ''));
    const response = await status(noExp);
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status: 401, detail: expect.stringMatching(/"exp"/) });
  });
});
