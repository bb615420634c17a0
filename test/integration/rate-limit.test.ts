import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { health } from '../../functions/health.js';
import { getSyncStatus } from '../../functions/sync-status.js';
import { pushSyncBatch } from '../../functions/sync-push.js';
import { type App, closeApp, createApp, getApp } from '../../shared/app.js';
import type { Principal } from '../../shared/auth/principal.js';
import { loadConfig } from '../../shared/config.js';
import { healthRoute, pushBatchRoute, syncStatusRoute } from '../../shared/contracts/routes.js';
import { RateLimitedError } from '../../shared/errors.js';
import { enforceRateLimit, RATE_LIMIT_TIMEOUT_MS, routeClassOf } from '../../shared/http/rate-limit.js';
import { createLogger } from '../../shared/logger.js';
import type { RateLimitCounters } from '../../shared/usecases/ports/rate-limits.js';
import { tokenFor } from '../support/auth.js';
import { note } from '../support/events.js';
import { call } from '../support/http.js';
import { push } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// Low limits for this file's processes: every App built here (getApp() and the two below) reads them.
process.env.RATE_LIMIT_PUSH_PER_MINUTE = '2';
process.env.RATE_LIMIT_OTHER_PER_SECOND = '3';
process.env.RATE_LIMIT_PULL_PER_MINUTE = '5';

let t: SeededTenant;
const apps: App[] = [];
/** A minute boundary of the past, for the injected clocks below (their windows are this file's own). */
const minuteStart = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;

beforeAll(async () => {
  t = await seededTenant('rl');
  oneWindow(getApp());
});
afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await closeApp();
});

/**
 * Counts every hit of the App's routes in one window, whatever the clock: the limiter's fixed windows are
 * one second or one minute long and aligned to the clock, so four requests in a row may straddle two
 * windows on a busy machine. The real (Cosmos DB) counters still count; only the window start the route
 * passes them is pinned. The window arithmetic itself is checked below with an injected clock.
 */
function oneWindow(app: App): void {
  const real = app.rateLimits;
  const start = Date.now();
  app.rateLimits = { hit: (key, _windowStart, windowSeconds) => real.hit(key, start, windowSeconds) };
}

const status = (token: string) =>
  call(getSyncStatus, { url: 'http://localhost/api/v1/sync/status?deviceId=nobody-here', token });

describe('rate limits over HTTP', () => {
  it('answers 429 problem+json with Retry-After once the per-second budget is spent', async () => {
    const token = await tokenFor(t.tenant.id, ['OPERATOR'], `u-${randomUUID()}`);
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push(await status(token));
    // The first three reach the handler (no such device: 404); the fourth is refused before it.
    expect(statuses.map((r) => r.status)).toEqual([404, 404, 404, 429]);
    const refused = statuses[3];
    expect(refused?.headers['content-type']).toBe('application/problem+json');
    expect(refused?.headers['retry-after']).toBe('1');
    expect(refused?.body).toMatchObject({ status: 429, code: 'RATE_LIMITED', title: 'Too Many Requests' });
    // Another user of the same tenant has a budget of their own.
    const other = await tokenFor(t.tenant.id, ['OPERATOR'], `u-${randomUUID()}`);
    expect((await status(other)).status).toBe(404);
  });

  it('limits pushes per minute, and a refused push records nothing', async () => {
    const user = `u-${randomUUID()}`;
    const token = await tokenFor(t.tenant.id, ['OPERATOR'], user);
    const body = () => ({ deviceId: 'rl-tab', events: [note(t.wellId, 'rate limited')] });
    const answers = [await push(token, body()), await push(token, body()), await push(token, body())];
    expect(answers.map((r) => r.status)).toEqual([202, 202, 429]);
    const retryAfter = Number(answers[2]?.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const { rows } = await getApp()
      .tenantPool(t.tenant)
      .query<{ n: number }>('select count(*)::int as n from sync_batches where user_id = $1', [user]);
    expect(rows[0]?.n).toBe(2);
    // Pushes and other routes are separate budgets.
    expect((await status(token)).status).toBe(404);
  });

  it('a 429 outranks a bad body: the body is judged only once the limit lets the request through', async () => {
    // Prepare: the user's two pushes of this minute are spent.
    const token = await tokenFor(t.tenant.id, ['OPERATOR'], `u-${randomUUID()}`);
    const body = { deviceId: 'rl-tab-2', events: [note(t.wellId, 'spends the budget')] };
    expect([(await push(token, body)).status, (await push(token, body)).status]).toEqual([202, 202]);
    // Act: a body that does not parse, one that is not JSON at all, and one far past the size limit.
    const url = 'http://localhost/api/v1/sync/batches';
    const answers = await Promise.all([
      call(pushSyncBatch, {
        method: 'POST',
        url,
        token,
        body: '{"deviceId": ',
        headers: { 'content-type': 'application/json' },
      }),
      call(pushSyncBatch, {
        method: 'POST',
        url,
        token,
        body: 'a=1',
        headers: { 'content-type': 'text/plain' },
      }),
      call(pushSyncBatch, {
        method: 'POST',
        url,
        token,
        body: Buffer.alloc(5 * 1024 * 1024, 32),
        headers: { 'content-type': 'application/json' },
      }),
    ]);
    // Assess
    expect(answers.map((a) => a.status)).toEqual([429, 429, 429]);
    // The same bad bodies under the budget are judged as bodies (another user, another budget).
    const fresh = await tokenFor(t.tenant.id, ['OPERATOR'], `u-${randomUUID()}`);
    const judged = await call(pushSyncBatch, {
      method: 'POST',
      url,
      token: fresh,
      body: '{"deviceId": ',
      headers: { 'content-type': 'application/json' },
    });
    expect(judged.status).toBe(400);
  });

  it('never limits public routes', async () => {
    for (let i = 0; i < 6; i += 1) expect((await call(health)).status).not.toBe(429);
  });
});

describe('rate-limit counters are shared by every instance', () => {
  it('a second app instance sees the hits counted by the first', async () => {
    const a = createApp(loadConfig(process.env));
    const b = createApp(loadConfig(process.env));
    apps.push(a, b);
    expect(a.rateLimits).not.toBe(b.rateLimits);
    const principal: Principal = { tenantId: t.tenant.id, userId: `u-${randomUUID()}`, roles: ['OPERATOR'] };
    // An injected clock, 20 s into a minute: every hit falls in the same window, however slow the machine.
    const now = () => minuteStart + 20_000;
    const hit = (app: App) => enforceRateLimit(app, principal, pushBatchRoute, app.log, now);
    // Push budget 2 per minute: one hit on each instance, then each refuses.
    await hit(a);
    await hit(b);
    const refusedByA = await hit(a).catch((e: unknown) => e);
    const refusedByB = await hit(b).catch((e: unknown) => e);
    for (const refused of [refusedByA, refusedByB]) {
      expect(refused).toBeInstanceOf(RateLimitedError);
      expect((refused as RateLimitedError).retryAfterSeconds).toBe(40); // the rest of the minute
    }
  });

  it('alternating requests between two instances share the per-second budget', async () => {
    const a = createApp(loadConfig(process.env));
    const b = createApp(loadConfig(process.env));
    apps.push(a, b);
    const principal: Principal = { tenantId: t.tenant.id, userId: `u-${randomUUID()}`, roles: ['MANAGER'] };
    const now = () => minuteStart + 5_300; // one second's window, whatever the machine's pace
    const outcomes: string[] = [];
    for (const app of [a, b, a, b]) {
      outcomes.push(
        await enforceRateLimit(app, principal, syncStatusRoute, app.log, now).then(
          () => 'ok',
          (e: unknown) => (e instanceof RateLimitedError ? '429' : String(e)),
        ),
      );
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', '429']);
  });

  it('fixed windows on the clock: a new window is a new budget, Retry-After counts to the window end', async () => {
    const app = createApp(loadConfig(process.env));
    apps.push(app);
    const principal: Principal = { tenantId: t.tenant.id, userId: `u-${randomUUID()}`, roles: ['OPERATOR'] };
    let clock = minuteStart + 7_100; // 100 ms into a second
    const hit = () =>
      enforceRateLimit(app, principal, syncStatusRoute, app.log, () => clock).then(
        () => 'ok',
        (e: unknown) => (e instanceof RateLimitedError ? `429 after ${e.retryAfterSeconds}` : String(e)),
      );
    const first = [await hit(), await hit(), await hit(), await hit()];
    clock = minuteStart + 7_999; // the same second
    const sameSecond = await hit();
    clock = minuteStart + 8_000; // the next one
    const nextSecond = [await hit(), await hit(), await hit(), await hit()];
    expect(first).toEqual(['ok', 'ok', 'ok', '429 after 1']);
    expect(sameSecond).toBe('429 after 1');
    expect(nextSecond).toEqual(['ok', 'ok', 'ok', '429 after 1']);

    // Pushes: 2 per minute; 15 s into the minute, the refusal says 45 s; a minute on, two more pass.
    clock = minuteStart + 15_000;
    const push = () =>
      enforceRateLimit(app, principal, pushBatchRoute, app.log, () => clock).then(
        () => 'ok',
        (e: unknown) => (e instanceof RateLimitedError ? `429 after ${e.retryAfterSeconds}` : String(e)),
      );
    expect([await push(), await push(), await push()]).toEqual(['ok', 'ok', '429 after 45']);
    clock = minuteStart + 60_000;
    expect([await push(), await push(), await push()]).toEqual(['ok', 'ok', '429 after 60']);
  });
});

describe('rate limits: classes and failing open', () => {
  const principal: Principal = { tenantId: 't-x', userId: 'u-x', roles: ['OPERATOR'] };
  const config = {
    rateLimits: { pushPerMinute: 1, pullPerMinute: 1, otherPerSecond: 1, sequentialPerMinute: 1 },
  };
  const capture = () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger(
      'info',
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean))
            lines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      }),
    );
    return { lines, log };
  };

  it('classes routes: push, pull pages, everything else', () => {
    expect(routeClassOf(pushBatchRoute)).toBe('push');
    expect(routeClassOf({ method: 'GET', route: 'v1/sync/pull' })).toBe('pull');
    expect(routeClassOf(syncStatusRoute)).toBe('other');
    expect(routeClassOf({ method: 'GET', route: 'v1/sync/batches/{batchId}' })).toBe('other');
  });

  it('a failing store lets requests through, logs a warning, and is left alone for a while', async () => {
    let calls = 0;
    const broken: RateLimitCounters = {
      hit: async () => {
        calls += 1;
        throw Object.assign(new Error('cosmos is unavailable'), { code: 'ECONNREFUSED' });
      },
    };
    const { lines, log } = capture();
    const deps = { config, rateLimits: broken, log };
    await expect(enforceRateLimit(deps, principal, syncStatusRoute)).resolves.toBeUndefined();
    await expect(enforceRateLimit(deps, principal, syncStatusRoute)).resolves.toBeUndefined();
    expect(calls).toBe(1);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        msg: expect.stringContaining('fail open'),
        err: expect.objectContaining({ code: 'ECONNREFUSED' }),
      }),
    ]);
  });

  it('a store that does not answer lets the request through after the timeout', async () => {
    const hanging: RateLimitCounters = { hit: () => new Promise<number>(() => {}) };
    const { lines, log } = capture();
    const started = Date.now();
    await enforceRateLimit({ config, rateLimits: hanging, log }, principal, syncStatusRoute);
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(RATE_LIMIT_TIMEOUT_MS - 50);
    expect(waited).toBeLessThan(RATE_LIMIT_TIMEOUT_MS + 1000);
    expect(lines[0]).toMatchObject({ level: 'warn' });
  });

  it('public routes never reach the store', async () => {
    let calls = 0;
    const counting: RateLimitCounters = { hit: async () => ++calls };
    const { log } = capture();
    await enforceRateLimit({ config, rateLimits: counting, log }, principal, healthRoute);
    expect(calls).toBe(0);
  });
});
