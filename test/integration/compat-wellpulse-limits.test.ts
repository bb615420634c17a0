import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { wellpulsePullHandler } from '../../functions/compat/wellpulse/sync-pull.js';
import { wellpulsePushHandler } from '../../functions/compat/wellpulse/sync-push.js';
import { wellpulseStatusHandler } from '../../functions/compat/wellpulse/sync-status.js';
import { type App, closeApp, getApp } from '../../shared/app.js';
import {
  wellpulsePullRoute,
  wellpulsePushRoute,
  wellpulseStatusRoute,
} from '../../shared/compat/wellpulse/routes.js';
import { routeClassOf } from '../../shared/http/rate-limit.js';
import { tokenFor } from '../support/auth.js';
import { note } from '../support/events.js';
import { call } from '../support/http.js';
import { push } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// Seed document 001 "Rate Limiting" through the one limiter (shared/http/rate-limit.ts): its push spends the
// push budget (the same one as v1 pushes of that user), its pull the pull budget, its status the per-second
// one; a refusal is 429 with Retry-After in the document's error body. Low limits for this file's process.
process.env.RATE_LIMIT_PUSH_PER_MINUTE = '2';
process.env.RATE_LIMIT_OTHER_PER_SECOND = '3';
process.env.RATE_LIMIT_PULL_PER_MINUTE = '4';

let t: SeededTenant;

/** Every hit in one window, whatever the clock (as rate-limit.test.ts): the counters still count in Cosmos. */
function oneWindow(app: App): void {
  const real = app.rateLimits;
  const start = Date.now();
  app.rateLimits = { hit: (key, _windowStart, windowSeconds) => real.hit(key, start, windowSeconds) };
}

beforeAll(async () => {
  t = await seededTenant('wprl');
  oneWindow(getApp());
});
afterAll(() => closeApp());

const BASE = 'http://localhost/api/compat/wellpulse/sync';
const entry = () => ({
  wellId: t.wellId,
  entryType: 'PRODUCTION',
  data: { oilVolume: 1 },
  recordedAt: new Date(Date.now() - 60_000).toISOString(),
});
const refusedInTheDocumentsBody = (response: Awaited<ReturnType<typeof call>>) => {
  expect(response.status).toBe(429);
  expect(Number(response.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(response.headers['content-type']).toBe('application/json');
  expect(response.body).toEqual({ statusCode: 429, message: expect.stringContaining('rate limit') });
};

describe('compat/wellpulse rate limits', () => {
  it('classes its routes: push → push, pull → pull, status → other', () => {
    expect(routeClassOf(wellpulsePushRoute)).toBe('push');
    expect(routeClassOf(wellpulsePullRoute)).toBe('pull');
    expect(routeClassOf(wellpulseStatusRoute)).toBe('other');
  });

  it('pushes share the user’s push budget with v1; the refused push stores nothing', async () => {
    const user = `u-${randomUUID()}`;
    const token = await tokenFor(t.tenant.id, ['OPERATOR'], user);
    const wp = () =>
      call(wellpulsePushHandler, {
        method: 'POST',
        url: `${BASE}/push`,
        token,
        json: { deviceId: 'wprl-tab', entries: [entry()] },
      });
    expect((await wp()).status).toBe(200);
    expect((await push(token, { deviceId: 'wprl-tab', events: [note(t.wellId)] })).status).toBe(202);
    refusedInTheDocumentsBody(await wp());
    const { rows } = await getApp()
      .tenantPool(t.tenant)
      .query<{ n: number }>('select count(*)::int as n from sync_batches where user_id = $1', [user]);
    expect(rows[0]?.n).toBe(2);
  });

  it('pulls spend the pull budget, status the per-second one', async () => {
    const token = await tokenFor(t.tenant.id, ['OPERATOR'], `u-${randomUUID()}`);
    const pulls = [];
    for (let i = 0; i < 5; i += 1)
      pulls.push(await call(wellpulsePullHandler, { url: `${BASE}/pull`, token }));
    expect(pulls.map((r) => r.status)).toEqual([200, 200, 200, 200, 429]);
    refusedInTheDocumentsBody(pulls[4] as (typeof pulls)[number]);
    const statuses = [];
    for (let i = 0; i < 4; i += 1)
      statuses.push(await call(wellpulseStatusHandler, { url: `${BASE}/status?deviceId=wprl-x`, token }));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    refusedInTheDocumentsBody(statuses[3] as (typeof statuses)[number]);
  });
});
