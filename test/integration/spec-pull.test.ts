import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullSync } from '../../functions/sync-pull.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { PullResponse } from '../../shared/contracts/pull.js';
import { tokenFor } from '../support/auth.js';
import { note, reading } from '../support/events.js';
import { holdProcessing } from '../support/hold.js';
import { call } from '../support/http.js';
import { pushAccepted, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// SPEC "Pull": paged by `limit` (default 500, max 1000), and `pendingEvents` counts the calling device's
// pushed events not applied yet.
const EXTRA_WELLS = 1100;
let t: SeededTenant;
let token: string;

beforeAll(async () => {
  t = await seededTenant('spull');
  token = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-spull');
  // More active wells than the largest page, in one statement.
  await getApp()
    .tenantPool(t.tenant)
    .query(
      `insert into wells (id, name, api_number, latitude, longitude, status)
       select 'w-' || lpad(g::text, 5, '0'), 'Well ' || g, '42-777-' || lpad(g::text, 5, '0'), 31, -102, 'ACTIVE'
       from generate_series(1, $1::int) g`,
      [EXTRA_WELLS],
    );
});
afterAll(() => closeApp());

const pull = async (query: string, deviceId = 'tab-spull') => {
  const response = await call(pullSync, {
    url: `http://localhost/api/v1/sync/pull?deviceId=${deviceId}${query}`,
    token,
  });
  return { status: response.status, body: response.body as PullResponse & { errors?: { path: string }[] } };
};
const size = (p: PullResponse) => p.wells.length + p.equipment.length + p.users.length + p.production.length;

describe('GET /v1/sync/pull limit', () => {
  it('pages 500 entities by default', async () => {
    const page = await pull('');
    expect(page.status).toBe(200);
    expect(size(page.body)).toBe(500);
    expect(page.body.hasMore).toBe(true);
  });

  it('pages up to 1000 when asked, and exactly the limit asked below it', async () => {
    const max = await pull('&limit=1000');
    expect(max.status).toBe(200);
    expect(size(max.body)).toBe(1000);
    expect(max.body.hasMore).toBe(true);
    const small = await pull('&limit=3');
    expect(size(small.body)).toBe(3);
    // The next page goes on where the first stopped: the two pages of 1000 + the rest cover every well once.
    const next = await pull(`&limit=1000&cursor=${encodeURIComponent(max.body.nextCursor)}`);
    const ids = [...max.body.wells, ...next.body.wells].map((w) => w.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(EXTRA_WELLS + 1); // + the seeded tenant's one active well
  });

  it.each(['1001', '0', '-1', '2.5', 'many'])(
    'answers 400 with the path limit for limit=%s',
    async (limit) => {
      const response = await pull(`&limit=${limit}`);
      expect(response.status).toBe(400);
      expect(response.body.errors?.map((e) => e.path)).toEqual(['limit']);
    },
  );
});

describe('GET /v1/sync/pull pendingEvents', () => {
  it("counts the calling device's events that are not applied yet, and 0 once they are", async () => {
    // Prepare: the tenant's processing held, so the events stay PENDING.
    const hold = await holdProcessing(t.tenant);
    let batchId = '';
    try {
      const pushed = await pushAccepted(token, {
        deviceId: 'tab-pending',
        events: [reading(t.wellId, 1), reading(t.wellId, 2), note(t.wellId, 'pending')],
      });
      batchId = pushed.batchId;
      expect(pushed.accepted).toBe(3);
      await hold.waiting();
      // Act
      const during = await pull('&limit=1', 'tab-pending');
      const otherDevice = await pull('&limit=1', 'tab-idle');
      // Assess
      expect(during.body.pendingEvents).toBe(3);
      expect(otherDevice.body.pendingEvents).toBe(0);
    } finally {
      await hold.release();
    }
    await settled(token, batchId);
    expect((await pull('&limit=1', 'tab-pending')).body.pendingEvents).toBe(0);
  });
});
