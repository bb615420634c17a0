import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clinicProcess } from '../../functions/compat/clinic/process.js';
import { clinicQueue } from '../../functions/compat/clinic/queue.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { Principal } from '../../shared/auth/principal.js';
import { CLINIC_ROUTES, clinicQueueRoute } from '../../shared/compat/clinic/routes.js';
import { loadConfig } from '../../shared/config.js';
import { RateLimitedError } from '../../shared/errors.js';
import { enforceRateLimit, routeClassOf } from '../../shared/http/rate-limit.js';
import { createLogger } from '../../shared/logger.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { api } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { call } from '../support/http.js';
import { freshTenant } from '../support/tenants.js';

// Trial 14 item 1: document 004's client sends queue then process per operation, each awaiting its answer, and
// a 10-a-second budget refused a backlog halfway (the client then loses the operation). Its routes spend the
// `sequential` budget (docs/operations.md "Rate limits"). This file's in-process App uses the shipped defaults:
// 10 a second for `other`, 1200 a minute for `sequential`.
process.env.RATE_LIMIT_OTHER_PER_SECOND = '10';
delete process.env.RATE_LIMIT_SEQUENTIAL_PER_MINUTE;

const BASE = 'http://localhost/api/compat/clinic/api/v1/sync';
let tenant: Tenant;
let nurse: string;

beforeAll(async () => {
  tenant = await freshTenant('ccrl', ['clinic']);
  const manager = await tokenFor(tenant.id, ['MANAGER'], 'u-manager');
  const grant = await api(manager, 'PUT', 'v1/scopes/clinic-a/members/u-nurse-rl');
  expect([200, 201], grant.text).toContain(grant.status);
  nurse = await tokenFor(tenant.id, ['OPERATOR'], 'u-nurse-rl');
  // Every hit in one window whatever the clock (as rate-limit.test.ts), so the test fails on a slow machine
  // too when the routes spend a budget smaller than the backlog (the old 10 a second refused the 11th).
  const app = getApp();
  const real = app.rateLimits;
  const start = Date.now();
  app.rateLimits = { hit: (key, _windowStart, windowSeconds) => real.hit(key, start, windowSeconds) };
});
afterAll(() => closeApp());

describe('compat/clinic rate limits', () => {
  it('classes every clinic route as sequential, with the documented default of 1200 a minute', () => {
    expect(CLINIC_ROUTES.map((r) => routeClassOf(r))).toEqual(CLINIC_ROUTES.map(() => 'sequential'));
    expect(getApp().config.rateLimits).toMatchObject({ otherPerSecond: 10, sequentialPerMinute: 1200 });
  });

  it('completes a 60-operation backlog sent as the document’s client does (queue, process, one after another) with no 429', async () => {
    // Prepare: 60 encounters recorded offline.
    const statuses: number[] = [];
    const outcomes: string[] = [];
    const started = Date.now();
    // Act: the client's syncAll — for each operation queue, then process the answered id, awaiting each answer.
    for (let i = 0; i < 60; i += 1) {
      const queued = await call(clinicQueue, {
        method: 'POST',
        url: `${BASE}/queue`,
        token: nurse,
        json: {
          userId: 'u-nurse-rl',
          deviceId: 'tab-rl',
          operation: 'CREATE',
          resourceType: 'encounter',
          data: { patientId: `p-${i}`, diagnosis: `backlog ${i}` },
          createdAtClient: new Date(started - (60 - i) * 1000).toISOString(),
          version: 1,
        },
      });
      statuses.push(queued.status);
      const id = (queued.body as { id?: string }).id ?? 'undefined';
      const processed = await call(clinicProcess, {
        method: 'POST',
        url: `${BASE}/process/${id}`,
        params: { id },
        token: nurse,
      });
      statuses.push(processed.status);
      outcomes.push((processed.body as { status?: string }).status ?? '');
    }
    // Assess: 120 requests, none refused, every operation SYNCED.
    expect(statuses.filter((s) => s === 429)).toEqual([]);
    expect(outcomes).toEqual(outcomes.map(() => 'SYNCED'));
    const seconds = (Date.now() - started) / 1000;
    console.info(
      `60 operations (120 requests) in ${seconds.toFixed(1)} s, ${(120 / seconds).toFixed(1)} req/s`,
    );
  }, 300_000);

  it('still refuses a flood beyond the allowance: 1200 requests in a minute pass, the rest get 429', async () => {
    // Prepare: the limiter with the shipped figures and counters of this test alone (one minute window).
    const config = loadConfig({ ...process.env, RATE_LIMIT_SEQUENTIAL_PER_MINUTE: undefined });
    const counts = new Map<string, number>();
    const rateLimits = {
      hit: (key: string, windowStart: number) => {
        const k = `${key}@${windowStart}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
        return Promise.resolve(counts.get(k) ?? 0);
      },
    };
    const principal: Principal = { tenantId: tenant.id, userId: `u-${randomUUID()}`, roles: ['OPERATOR'] };
    const deps = { config, rateLimits, log: createLogger('silent') };
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    // Act: 1300 requests at once (a client not awaiting answers, or a loop gone wrong), in one minute window.
    const results = await Promise.allSettled(
      Array.from({ length: 1300 }, () =>
        enforceRateLimit(deps, principal, clinicQueueRoute, undefined, () => minute + 1000),
      ),
    );
    // Assess
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(results.length - refused.length).toBe(1200);
    expect(refused).toHaveLength(100);
    expect(refused[0]).toBeInstanceOf(RateLimitedError);
    expect((refused[0] as RateLimitedError).message).toMatch(/rate limit of 1200 requests per minute/);
  });
});
