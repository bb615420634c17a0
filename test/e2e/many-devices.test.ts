import { inject, afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { BatchOutcome, PushAccepted } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { mixedEvent, type RawEvent } from '../support/events.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';
import { waitFor } from '../support/wait.js';

// 50 devices push 1000 events each at the same moment, over HTTP, to the local Functions host, which
// also runs the processor. Some events are sent twice (a device re-sending, another device copying).
const base = inject('hostUrl');
let t: SeededTenant;

beforeAll(async () => {
  t = await seededTenant('many');
});
afterAll(() => closeApp());

/**
 * Pushes as a device does: a 503 (a dependency, e.g. the tenant's small connection pool, too busy) means
 * nothing was kept, so it waits Retry-After and sends the same batch again.
 */
async function post(token: string, body: unknown): Promise<Response> {
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(`${base}/v1/sync/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (response.status !== 503 || attempt === 8) return response;
    retried += 1;
    const wait = Math.min(2, Number(response.headers.get('retry-after') ?? 1));
    await new Promise((r) => setTimeout(r, wait * 1000));
  }
}
let retried = 0;

describe('50 devices × 1000 events at once', () => {
  it('stores every unique event exactly once', async () => {
    const devices = 50;
    const perDevice = 1000;
    const batches: RawEvent[][] = Array.from({ length: devices }, (_, d) =>
      Array.from({ length: perDevice }, (_, i) => mixedEvent(d * perDevice + i, t.wellId, t.equipmentId)),
    );
    // Duplicates on purpose: each device re-sends 20 events of the previous device's batch.
    for (let d = 1; d < devices; d += 1) {
      const previous = batches[d - 1] ?? [];
      const own = batches[d] ?? [];
      own.splice(0, 20, ...previous.slice(100, 120));
    }
    const unique = new Set(batches.flat().map((e) => e.id));
    const tokens = await Promise.all(batches.map((_, d) => tokenFor(t.tenant.id, ['OPERATOR'], `user-${d}`)));

    const responses = await Promise.all(
      batches.map(async (events, d) => {
        const response = await post(tokens[d] ?? '', { deviceId: `device-${d}`, events });
        expect(response.status).toBe(202);
        return (await response.json()) as PushAccepted;
      }),
    );
    const reportedAccepted = responses.reduce((sum, r) => sum + r.accepted, 0);
    const reportedDuplicates = responses.reduce((sum, r) => sum + r.duplicates.length, 0);
    expect(reportedAccepted).toBe(unique.size);
    expect(reportedAccepted + reportedDuplicates).toBe(devices * perDevice);
    expect(responses.every((r) => r.rejected.length === 0)).toBe(true);
    if (retried) console.log(`[many-devices] ${retried} push(es) answered 503 and were sent again`);

    // Wait until every batch is settled (the host's processor also works other files' batches meanwhile).
    for (const [d, accepted] of responses.entries()) {
      await waitFor(
        async () => {
          const outcome = (await (
            await fetch(`${base}/v1/sync/batches/${accepted.batchId}`, {
              headers: { authorization: `Bearer ${tokens[d]}` },
            })
          ).json()) as BatchOutcome;
          return outcome.status === 'COMPLETED';
        },
        { what: `the batch of device-${d} to settle`, timeoutMs: 180_000, intervalMs: 200 },
      );
    }

    const pool = getApp().tenantPool(t.tenant);
    const { rows } = await pool.query<{ events: number; pending: number; distinct_ids: number }>(
      `select count(*)::int as events, count(*) filter (where status = 'PENDING')::int as pending,
              count(distinct id)::int as distinct_ids from sync_events`,
    );
    expect(rows[0]).toEqual({ events: unique.size, pending: 0, distinct_ids: unique.size });
    // Each appended effect exists once per applied event: no event applied twice.
    const effects = await pool.query<{ n: number }>(
      `select (select count(*) from well_readings) + (select count(*) from maintenance_logs)
            + (select count(*) from inspections) + (select count(*) from notes) as n`,
    );
    const applied = await pool.query<{ n: number }>(
      `select count(*)::int as n from sync_events where status = 'APPLIED' and type <> 'PRODUCTION_LOGGED'`,
    );
    expect(Number(effects.rows[0]?.n)).toBe(applied.rows[0]?.n);
  }, 300_000);
});
