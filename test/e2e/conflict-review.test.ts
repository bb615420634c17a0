import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { Conflict } from '../../shared/contracts/conflicts.js';
import type { PullResponse } from '../../shared/contracts/pull.js';
import type { BatchOutcome, DeviceStatus } from '../../shared/contracts/sync.js';
import { api, pushSettled } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { daysAgo, production } from '../support/events.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';
import { pullHorizonPassed } from '../support/wait.js';

// Review states of issue 16 over HTTP against the local Functions host: the inbox (status=OPEN) lists conflicts
// held by MANUAL and those a strategy settled and nobody reviewed; ACKNOWLEDGED keeps a strategy's result; a
// decision overrides it, and the device that lost sees the decision in its batch outcome and its next pull.
let t: SeededTenant;
let laptop: string;
let phone: string;
let manager: string;

beforeAll(async () => {
  t = await seededTenant('crev');
  laptop = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-laptop');
  phone = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-phone');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-boss');
});
afterAll(() => closeApp());

let day = 2;
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

const list = async (status: string) => {
  const response = await api(manager, 'GET', `v1/conflicts?status=${status}&limit=200`);
  expect(response.status, response.text).toBe(200);
  return (response.body as { conflicts: Conflict[] }).conflicts;
};
const resolve = (id: string, body: unknown) => api(manager, 'POST', `v1/conflicts/${id}/resolve`, body);
const record = async (productionDate: string) =>
  (
    await getApp()
      .tenantPool(t.tenant)
      .query<{ oil_volume: number }>(
        'select oil_volume from production_records where well_id = $1 and production_date = $2',
        [t.wellId, productionDate],
      )
  ).rows[0];
const openConflicts = async (token: string, deviceId: string) =>
  ((await api(token, 'GET', `v1/sync/status?deviceId=${deviceId}`)).body as DeviceStatus).openConflicts;

/**
 * Two devices log the same production date under LWW: the laptop's older value (oilVolume `older`) loses to the
 * phone's newer one. Returns the laptop's batch, the conflict of its event, and the date.
 */
async function lwwConflict(older: number, newer: number, laptopDevice: string, phoneDevice: string) {
  day += 1; // each scenario its own production record
  const date = daysAgo(day);
  const loser = production(
    t.wellId,
    { oilVolume: older },
    { productionDate: date, occurredAt: minutesAgo(90) },
  );
  const winner = production(
    t.wellId,
    { oilVolume: newer },
    { productionDate: date, occurredAt: minutesAgo(30) },
  );
  const lost = await pushSettled(laptop, laptopDevice, [loser]);
  await pushSettled(phone, phoneDevice, [winner]);
  const conflict = (await list('OPEN')).find((c) => c.eventId === loser.id);
  return { date, lost, conflict, loserId: loser.id };
}

describe('conflict review states', () => {
  it('lists a strategy-settled conflict as OPEN until a manager ACKNOWLEDGES it, which keeps the record', async () => {
    // Prepare: an LWW conflict, settled automatically (SERVER_WINS: the newer phone value stays).
    const { date, conflict } = await lwwConflict(100, 120, 'laptop-r1', 'phone-r1');
    expect(conflict).toMatchObject({
      status: 'OPEN',
      resolution: 'SERVER_WINS',
      automaticResolution: 'SERVER_WINS',
      resolvedBy: null,
      reviewedBy: null,
      reviewedAt: null,
      requestedResolution: null,
      serverValue: { oilVolume: 120 },
      clientValue: { oilVolume: 100 },
      // Both sides as the console shows them: which device and user wrote each, and when.
      event: { type: 'PRODUCTION_LOGGED', deviceId: 'laptop-r1', userId: 'u-laptop' },
      otherEvent: { type: 'PRODUCTION_LOGGED', deviceId: 'phone-r1', userId: 'u-phone' },
    });
    expect(Date.parse(conflict?.event?.occurredAt ?? '')).toBeLessThan(
      Date.parse(conflict?.otherEvent?.occurredAt ?? ''),
    );
    expect(Date.parse(conflict?.resolvedAt ?? '')).toBeGreaterThan(Date.now() - 120_000);
    expect(await openConflicts(laptop, 'laptop-r1')).toBe(1);
    const id = conflict?.id ?? '';

    // Act
    const acknowledged = await resolve(id, { resolution: 'ACKNOWLEDGED' });

    // Assess: who and when, the kept value; the inbox and the device count no longer have it; a second
    // decision is refused.
    expect(acknowledged.status, acknowledged.text).toBe(200);
    expect(acknowledged.body).toMatchObject({
      id,
      status: 'ACKNOWLEDGED',
      resolution: 'SERVER_WINS',
      automaticResolution: 'SERVER_WINS',
      reviewedBy: 'u-boss',
      resolvedBy: null,
      resolvedValue: { oilVolume: 120 },
      event: { deviceId: 'laptop-r1' },
    });
    expect(Date.parse((acknowledged.body as Conflict).reviewedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
    expect(await record(date)).toMatchObject({ oil_volume: 120 });
    expect((await list('OPEN')).map((c) => c.id)).not.toContain(id);
    expect((await list('ACKNOWLEDGED')).map((c) => c.id)).toContain(id);
    expect((await list('RESOLVED')).map((c) => c.id)).not.toContain(id);
    expect(await openConflicts(laptop, 'laptop-r1')).toBe(0);
    const again = await resolve(id, { resolution: 'CLIENT_WINS' });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'CONFLICT_RESOLVED' });
    expect(await record(date)).toMatchObject({ oil_volume: 120 });
  });

  it('overrides an automatic result: the record changes, and the losing device sees it in its batch and pull', async () => {
    // Prepare: the laptop (the loser) has pulled everything before the override.
    const { date, lost, conflict, loserId } = await lwwConflict(200, 230, 'laptop-r2', 'phone-r2');
    expect(conflict).toMatchObject({ status: 'OPEN', resolution: 'SERVER_WINS' });
    expect((await api(laptop, 'GET', `v1/sync/batches/${lost.batchId}`)).body).toMatchObject({
      events: [{ eventId: loserId, status: 'CONFLICT', conflict: { resolution: 'SERVER_WINS' } }],
    });
    await pullHorizonPassed(getApp().tenantPool(t.tenant));
    let cursor: string | undefined;
    for (let more = true; more;) {
      const page = await api(
        laptop,
        'GET',
        `v1/sync/pull?deviceId=laptop-r2&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(page.status, page.text).toBe(200);
      cursor = (page.body as PullResponse).nextCursor;
      more = (page.body as PullResponse).hasMore;
    }

    // Act: the manager overrides the strategy's SERVER_WINS with the laptop's value.
    const overridden = await resolve(conflict?.id ?? '', { resolution: 'CLIENT_WINS' });

    // Assess
    expect(overridden.status, overridden.text).toBe(200);
    expect(overridden.body).toMatchObject({
      status: 'RESOLVED',
      resolution: 'CLIENT_WINS',
      automaticResolution: 'SERVER_WINS',
      resolvedBy: 'u-boss',
      reviewedBy: 'u-boss',
      resolvedValue: { oilVolume: 200 },
    });
    expect(await record(date)).toMatchObject({ oil_volume: 200 });
    const outcome = (await api(laptop, 'GET', `v1/sync/batches/${lost.batchId}`)).body as BatchOutcome;
    expect(outcome.events).toEqual([
      expect.objectContaining({
        eventId: loserId,
        conflict: expect.objectContaining({ resolution: 'CLIENT_WINS' }),
      }),
    ]);
    await pullHorizonPassed(getApp().tenantPool(t.tenant));
    const next = await api(
      laptop,
      'GET',
      `v1/sync/pull?deviceId=laptop-r2&cursor=${encodeURIComponent(cursor ?? '')}`,
    );
    expect(next.status, next.text).toBe(200);
    expect((next.body as PullResponse).production).toEqual([
      expect.objectContaining({ wellId: t.wellId, productionDate: date, oilVolume: 200 }),
    ]);
    expect((await list('RESOLVED')).map((c) => c.id)).toContain(conflict?.id);
    expect(await openConflicts(laptop, 'laptop-r2')).toBe(0);
  });

  it('refuses ACKNOWLEDGED on a conflict MANUAL holds (409 CONFLICT_HELD), which stays in the inbox', async () => {
    await api(manager, 'PUT', 'v1/settings/conflict-strategies', {
      strategies: { PRODUCTION_LOGGED: 'MANUAL' },
    });
    try {
      const { date, conflict } = await lwwConflict(300, 330, 'laptop-r3', 'phone-r3');
      // Under MANUAL the later arrival (the phone's) is held; the laptop's value stays meanwhile.
      const held = (await list('OPEN')).find(
        (c) => c.resolution === 'PENDING_REVIEW' && c.serverValue.oilVolume === 300,
      );
      expect(conflict).toBeUndefined();
      expect(held).toMatchObject({ status: 'OPEN', automaticResolution: null, resolvedAt: null });

      const refused = await resolve(held?.id ?? '', { resolution: 'ACKNOWLEDGED' });

      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ code: 'CONFLICT_HELD' });
      expect(refused.body.detail).toMatch(/MANUAL/);
      expect((await list('OPEN')).map((c) => c.id)).toContain(held?.id);
      expect(await record(date)).toMatchObject({ oil_volume: 300 });
      const merged = await resolve(held?.id ?? '', { resolution: 'MERGED', merged: { oilVolume: 315 } });
      expect(merged.body).toMatchObject({ status: 'RESOLVED', resolution: 'MERGED', resolvedBy: 'u-boss' });
      expect(await record(date)).toMatchObject({ oil_volume: 315 });
    } finally {
      await api(manager, 'PUT', 'v1/settings/conflict-strategies', {
        strategies: { PRODUCTION_LOGGED: 'LWW' },
      });
    }
  });

  it('resolves an override against the record as it is now: SERVER_WINS after a later edit keeps that edit', async () => {
    const { date, conflict } = await lwwConflict(400, 420, 'laptop-r4', 'phone-r4');
    // A newer edit from the phone after the conflict was recorded.
    await pushSettled(phone, 'phone-r4', [
      production(t.wellId, { oilVolume: 425 }, { productionDate: date, occurredAt: minutesAgo(5) }),
    ]);

    const kept = await resolve(conflict?.id ?? '', { resolution: 'SERVER_WINS' });

    expect(kept.body).toMatchObject({
      status: 'RESOLVED',
      resolution: 'SERVER_WINS',
      resolvedValue: { oilVolume: 425 },
    });
    expect(await record(date)).toMatchObject({ oil_volume: 425 });
  });

  it('puts every conflict of the tenant in exactly one list, each agreeing with the stored review state', async () => {
    const lists = Object.fromEntries(
      await Promise.all(
        (['OPEN', 'RESOLVED', 'ACKNOWLEDGED'] as const).map(async (s) => [s, await list(s)] as const),
      ),
    );
    const listed = Object.entries(lists).flatMap(([s, cs]) => cs.map((c) => [c.id, s, c.status]));
    const { rows } = await getApp()
      .tenantPool(t.tenant)
      .query<{ id: string; status: string }>('select id, status from conflicts order by id');
    expect(rows.length).toBeGreaterThanOrEqual(4); // one per scenario above
    expect(listed.map(([id]) => id).sort()).toEqual(rows.map((r) => r.id));
    for (const [id, listStatus, bodyStatus] of listed) {
      expect(bodyStatus, id).toBe(listStatus);
      expect(rows.find((r) => r.id === id)?.status).toBe(listStatus);
    }
  });

  it('answers 400 with the path for an unknown status or decision', async () => {
    const badStatus = await api(manager, 'GET', 'v1/conflicts?status=DONE');
    expect(badStatus.status).toBe(400);
    expect(badStatus.body).toMatchObject({ errors: [{ path: 'status' }] });
    const badDecision = await resolve('00000000-0000-4000-8000-000000000000', { resolution: 'IGNORED' });
    expect(badDecision.status).toBe(400);
    expect(badDecision.body).toMatchObject({ errors: [{ path: 'resolution' }] });
  });
});
