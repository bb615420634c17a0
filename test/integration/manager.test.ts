import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDevices } from '../../functions/devices.js';
import { getStats } from '../../functions/sync-stats.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { DeviceList, DeviceListItem, SyncStats } from '../../shared/contracts/manager.js';
import { createLogger } from '../../shared/logger.js';
import { tokenFor } from '../support/auth.js';
import { note, production, reading } from '../support/events.js';
import { call } from '../support/http.js';
import { ownSyncProcessor } from '../support/processor.js';
import { pushAccepted, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// This file's own sync queue and processor: its batches settle whatever else the run is processing.
ownSyncProcessor('manager');

// This file checks the manager routes, not rate limits (test/integration/rate-limit.test.ts does).
process.env.RATE_LIMIT_OTHER_PER_SECOND = '1000';
process.env.RATE_LIMIT_PUSH_PER_MINUTE = '1000';

let t: SeededTenant;
let operator: string;
let otherOperator: string;
let manager: string;
let admin: string;
/** Event ids by device, as pushed. */
const pushed = { tab1: [] as string[], tab2: [] as string[] };

const devices = (token: string, query = '') =>
  call(getDevices, { url: `http://localhost/api/v1/devices${query}`, token });
const stats = (token: string, query = '') =>
  call(getStats, { url: `http://localhost/api/v1/sync/stats${query}`, token });
const byId = (list: DeviceList) => new Map(list.devices.map((d) => [d.deviceId, d]));
const hoursAgo = (n: number) => new Date(Date.now() - n * 3_600_000).toISOString();
const sql = (text: string, params: unknown[] = []) => getApp().tenantPool(t.tenant).query(text, params);

beforeAll(async () => {
  t = await seededTenant('mgr');
  operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-op-1');
  otherOperator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-op-2');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-mgr');
  admin = await tokenFor(t.tenant.id, ['ADMIN'], 'u-admin');

  // tab-1 (u-op-1): 3 applied, 1 refused at push (invalid), 1 rejected by the processor (unknown well).
  const tab1 = [
    production(t.wellId, { oilVolume: 10 }),
    reading(t.wellId, 101),
    note(t.wellId, 'tab-1'),
    production('no-such-well'),
  ];
  const a = await pushAccepted(operator, {
    deviceId: 'tab-1',
    deviceInfo: { platform: 'electron', appVersion: '2.0.0' },
    events: [...tab1, { id: randomUUID(), type: 'NOPE', occurredAt: 'soon', payload: {} }],
  });
  await settled(operator, a.batchId);
  pushed.tab1.push(...tab1.map((e) => e.id));

  // tab-2 (u-op-2): 2 applied, then the same reading again: a duplicate found at push.
  const again = reading(t.wellId, 202);
  const b = await pushAccepted(otherOperator, {
    deviceId: 'tab-2',
    deviceInfo: { platform: 'android', appVersion: '2.1.0' },
    events: [again, note(t.wellId, 'tab-2')],
  });
  await settled(otherOperator, b.batchId);
  const c = await pushAccepted(otherOperator, { deviceId: 'tab-2', events: [again] });
  await settled(otherOperator, c.batchId);
  pushed.tab2.push(again.id);

  // A device whose last push was three days ago, written through the device store as a push would.
  await getApp().devices.recordPush(t.tenant.id, {
    deviceId: 'old-1',
    userId: 'u-op-1',
    platform: 'ios',
    appVersion: '1.0.0',
    at: hoursAgo(72),
  });
});
afterAll(() => closeApp());

describe('GET /v1/devices', () => {
  it("lists every device's status with counts from the event log", async () => {
    const response = await devices(manager);
    expect(response.status).toBe(200);
    const list = response.body as DeviceList;
    expect(list.staleAfterHours).toBe(24);
    expect(Date.parse(list.generatedAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(list.devices.map((d) => d.deviceId)).toEqual(['old-1', 'tab-1', 'tab-2']);
    const tab1 = byId(list).get('tab-1');
    expect(tab1).toMatchObject<Partial<DeviceListItem>>({
      userId: 'u-op-1',
      platform: 'electron',
      appVersion: '2.0.0',
      pendingEvents: 0,
      failedEvents: 0,
      openConflicts: 0,
      pendingPull: null,
      photos: { awaitingUpload: 0, attached: 0 },
      stale: false,
    });
    expect(tab1?.lastSyncAt).not.toBeNull();
    expect(byId(list).get('tab-2')).toMatchObject({ userId: 'u-op-2', platform: 'android', stale: false });
  });

  it('counts pending and failed events and open conflicts per device', async () => {
    // Outcomes the happy path above does not produce, set directly in the tenant database.
    const [p1, p2, f1] = pushed.tab1;
    await sql(`update sync_events set status = 'PENDING' where id = any($1::uuid[])`, [[p1, p2]]);
    await sql(`update sync_events set status = 'FAILED' where id = $1`, [f1]);
    // OPEN: the managers' inbox — held by MANUAL, or settled by a strategy and not reviewed; a reviewed one is not.
    const conflict = async (eventId: string | undefined, resolution: string, status: string) =>
      sql(
        `insert into conflicts (id, record_type, record_key, fields, event_id, server_value, client_value,
                                resolution, status, auto_resolution, reviewed_by, reviewed_at)
         values ($1, 'PRODUCTION', 'well-1|2025-01-01', '{oilVolume}', $2, '{}', '{}', $3, $4,
                 nullif($3, 'PENDING_REVIEW'), case when $4 <> 'OPEN' then 'u-boss' end,
                 case when $4 <> 'OPEN' then now() end)`,
        [randomUUID(), eventId, resolution, status],
      );
    await conflict(pushed.tab2[0], 'PENDING_REVIEW', 'OPEN');
    await conflict(pushed.tab2[0], 'SERVER_WINS', 'OPEN');
    await conflict(pushed.tab2[0], 'SERVER_WINS', 'ACKNOWLEDGED');
    await conflict(pushed.tab2[0], 'CLIENT_WINS', 'RESOLVED');
    try {
      const list = (await devices(admin)).body as DeviceList;
      expect(byId(list).get('tab-1')).toMatchObject({ pendingEvents: 2, failedEvents: 1, openConflicts: 0 });
      expect(byId(list).get('tab-2')).toMatchObject({ pendingEvents: 0, failedEvents: 0, openConflicts: 2 });
      expect(byId(list).get('old-1')).toMatchObject({ pendingEvents: 0, failedEvents: 0, openConflicts: 0 });
    } finally {
      await sql(`update sync_events set status = 'APPLIED' where id = any($1::uuid[])`, [[p1, p2, f1]]);
      await sql('delete from conflicts');
    }
  });

  it('counts an OPEN conflict for the devices on both sides, split by where each stands', async () => {
    // prepare: conflicts between tab-1's and tab-2's events, as the processor records them (event_id: the side
    // whose value lost or is held; other_event_id: the side the record kept), plus one within tab-1.
    const [t1a, t1b, t1c] = pushed.tab1;
    const t2 = pushed.tab2[0];
    const conflict = (
      eventId: string | undefined,
      otherEventId: string | undefined,
      resolution: string,
      status = 'OPEN',
    ) =>
      sql(
        `insert into conflicts (id, record_type, record_key, fields, event_id, other_event_id, server_value,
                                client_value, resolution, status, auto_resolution, reviewed_by, reviewed_at)
         values ($1, 'PRODUCTION', 'well-1|2025-01-02', '{oilVolume}', $2, $3, '{}', '{}', $4, $5,
                 nullif($4, 'PENDING_REVIEW'), case when $5 <> 'OPEN' then 'u-boss' end,
                 case when $5 <> 'OPEN' then now() end)`,
        [randomUUID(), eventId, otherEventId, resolution, status],
      );
    await conflict(t2, t1a, 'SERVER_WINS'); // tab-2 lost to tab-1
    await conflict(t2, t1b, 'MERGED'); // tab-2 lost these fields to tab-1
    await conflict(t2, t1c, 'CLIENT_WINS'); // tab-2 overwrote tab-1
    await conflict(t2, t1a, 'PENDING_REVIEW'); // MANUAL holds both
    await conflict(t1a, t1b, 'SERVER_WINS'); // within tab-1: counted once, as the side that lost
    await conflict(t2, t1a, 'SERVER_WINS', 'ACKNOWLEDGED'); // handled by a manager: nobody's any more
    try {
      // act: the list (every device) and one device's counts (the status route's statement)
      const list = byId((await devices(manager)).body as DeviceList);
      const one = async (deviceId: string) =>
        (await getApp().stats.deviceCounts(t.tenant, deviceId)).get(deviceId);
      // assess
      const tab1 = { openConflicts: 5, openConflictsBySide: { lost: 2, won: 2, held: 1 } };
      const tab2 = { openConflicts: 4, openConflictsBySide: { lost: 2, won: 1, held: 1 } };
      expect(list.get('tab-1')).toMatchObject(tab1);
      expect(list.get('tab-2')).toMatchObject(tab2);
      expect(list.get('old-1')).toMatchObject({
        openConflicts: 0,
        openConflictsBySide: { lost: 0, won: 0, held: 0 },
      });
      expect(await one('tab-1')).toMatchObject(tab1);
      expect(await one('tab-2')).toMatchObject(tab2);
    } finally {
      await sql('delete from conflicts');
    }
  });

  it('flags a device stale when its last sync (or push, never synced) is older than staleAfterHours', async () => {
    const list = byId((await devices(manager)).body as DeviceList);
    expect(list.get('old-1')).toMatchObject({
      lastSyncAt: null,
      lastPushAt: expect.any(String),
      stale: true,
    });
    expect(list.get('tab-1')?.stale).toBe(false);

    const wider = (await devices(manager, '?staleAfterHours=100')).body as DeviceList;
    expect(wider.staleAfterHours).toBe(100);
    expect(byId(wider).get('old-1')?.stale).toBe(false);

    // lastSyncAt wins over a recent push: a device that pushes but never finishes syncing is behind.
    await getApp().devices.recordSynced(t.tenant.id, 'old-1', hoursAgo(50));
    await getApp().devices.recordPush(t.tenant.id, { deviceId: 'old-1', userId: 'u-op-1', at: hoursAgo(1) });
    expect(byId((await devices(manager, '?staleAfterHours=48')).body as DeviceList).get('old-1')?.stale).toBe(
      true,
    );
  });

  it('refuses a bad staleAfterHours with 400', async () => {
    for (const query of ['?staleAfterHours=0', '?staleAfterHours=-3', '?staleAfterHours=soon']) {
      const response = await devices(manager, query);
      expect(response.status, query).toBe(400);
      expect(response.body).toMatchObject({ errors: [expect.objectContaining({ path: 'staleAfterHours' })] });
    }
  });
});

describe('GET /v1/sync/stats', () => {
  it('counts every outcome of what was pushed in the range, with sync rate and latencies', async () => {
    const response = await stats(manager);
    expect(response.status).toBe(200);
    const body = response.body as SyncStats;
    // tab-1: 3 applied + 1 rejected by the processor + 1 refused at push; tab-2: 2 applied + 1 duplicate.
    expect(body.counts).toEqual({
      pending: 0,
      applied: 5,
      duplicate: 1,
      conflict: 0,
      rejected: 2,
      failed: 0,
    });
    expect(body.total).toBe(8);
    expect(body.syncRate).toBe(0.75);
    expect(body.latencyMs.samples).toBe(6);
    for (const p of [body.latencyMs.occurredToApplied, body.latencyMs.receivedToApplied]) {
      expect(p.p50).toEqual(expect.any(Number));
      expect(p.p95).toBeGreaterThanOrEqual(p.p50 ?? 0);
    }
    // occurredAt is minutes before the push in these events: that lag is in the first latency only.
    expect(body.latencyMs.occurredToApplied.p50).toBeGreaterThan(body.latencyMs.receivedToApplied.p50 ?? 0);
    expect(Date.parse(body.to) - Date.parse(body.from)).toBe(86_400_000);
    expect(body).toMatchObject({ userId: null, deviceId: null });
  });

  it('filters by device and by user', async () => {
    const tab2 = (await stats(manager, '?deviceId=tab-2')).body as SyncStats;
    expect(tab2).toMatchObject({ deviceId: 'tab-2', total: 3, syncRate: 1 });
    expect(tab2.counts).toMatchObject({ applied: 2, duplicate: 1, rejected: 0 });
    const user = (await stats(manager, '?userId=u-op-1')).body as SyncStats;
    expect(user).toMatchObject({ userId: 'u-op-1', total: 5 });
    expect(user.counts).toMatchObject({ applied: 3, rejected: 2, duplicate: 0 });
    const nobody = (await stats(manager, '?userId=u-nobody')).body as SyncStats;
    expect(nobody).toMatchObject({ total: 0, syncRate: null, latencyMs: { samples: 0 } });
    expect(nobody.latencyMs.occurredToApplied).toEqual({ p50: null, p95: null });
  });

  it('takes events by received time in [from, to)', async () => {
    const future = new Date(Date.now() + 60_000).toISOString();
    const before = (await stats(manager, `?from=${hoursAgo(48)}&to=${hoursAgo(24)}`)).body as SyncStats;
    expect(before.total).toBe(0);
    const all = (await stats(manager, `?from=${hoursAgo(1)}&to=${encodeURIComponent(future)}`))
      .body as SyncStats;
    expect(all.total).toBe(8);
    expect(Date.parse(all.to)).toBeLessThanOrEqual(Date.now()); // a `to` just ahead of the clock is "now"
  });

  it.each([
    ['from after to', `?from=${hoursAgo(1)}&to=${hoursAgo(2)}`, 'from'],
    ['from equal to to', `?from=${hoursAgo(1)}&to=${hoursAgo(1)}`, 'from'],
    ['more than 92 days', `?from=${hoursAgo(24 * 93)}&to=${hoursAgo(0)}`, 'from'],
    ['to in the future', `?to=${new Date(Date.now() + 86_400_000).toISOString()}`, 'to'],
    ['not a date', '?from=yesterday', 'from'],
    ['a bad device id', '?deviceId=no%20spaces', 'deviceId'],
  ])('refuses %s with 400', async (_name, query, path) => {
    const response = await stats(manager, query.replace(/\+/g, '%2B'));
    expect(response.status).toBe(400);
    expect(response.headers['content-type']).toBe('application/problem+json');
    expect(response.body).toMatchObject({ errors: [expect.objectContaining({ path })] });
  });
});

describe('manager routes: access', () => {
  it('operators get 403; no token gets 401', async () => {
    for (const route of [devices, stats]) {
      expect((await route(operator)).status).toBe(403);
      expect((await call(route === devices ? getDevices : getStats, {})).status).toBe(401);
    }
  });

  it("only see their own tenant's devices", async () => {
    const other = await seededTenant('mgr2');
    const otherManager = await tokenFor(other.tenant.id, ['MANAGER'], 'u-mgr');
    expect(((await devices(otherManager)).body as DeviceList).devices).toEqual([]);
    expect(((await stats(otherManager)).body as SyncStats).total).toBe(0);
  });
});

describe('request logs', () => {
  it('the endpoint wrapper logs one line per request with requestId, function, invocationId, tenantId and userId', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean))
          lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    const app = getApp();
    const original = app.log;
    app.log = createLogger('info', destination);
    try {
      const response = await call(getDevices, {
        url: 'http://localhost/api/v1/devices',
        token: manager,
        headers: { 'x-request-id': 'req-manager-logs-1' },
      });
      expect(response.status).toBe(200);
      expect(response.headers['x-request-id']).toBe('req-manager-logs-1');
    } finally {
      app.log = original;
    }
    const request = lines.find((l) => l.msg === 'request');
    expect(request).toMatchObject({
      level: 'info',
      service: 'fieldsync',
      msg: 'request',
      requestId: 'req-manager-logs-1',
      function: 'listDevices',
      invocationId: expect.any(String),
      tenantId: t.tenant.id,
      userId: 'u-mgr',
      status: 200,
      durationMs: expect.any(Number),
    });
    expect(JSON.stringify(lines)).not.toContain(manager); // the token is never logged
  });
});
