import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import { FieldsyncClient, MemoryStore } from '@fieldsync/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import { tokenFor } from '../support/auth.js';
import { serverRecordOf } from '../support/field-sim.js';
import { freePort } from '../support/ports.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// Issue 15, proof 2: the server is down (connections refused), then answers 503 with Retry-After, then 429
// with Retry-After, then works. A loopback proxy in front of the local host plays those answers to the real
// client (built package, real fetch); the client waits at least as long as it was told each time, then
// completes, and the server holds every event exactly once.
let t: SeededTenant;
let proxy: Server | undefined;
const host = new URL(inject('hostUrl'));

beforeAll(async () => {
  t = await seededTenant('retry');
});
afterAll(async () => {
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await closeApp();
});

/** Forwards a request to the local host unchanged and streams its answer back. */
function passThrough(req: IncomingMessage, res: ServerResponse): void {
  const upstream = request(
    { host: host.hostname, port: host.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}

describe('server down, then 503 and 429 with Retry-After', { timeout: 90_000 }, () => {
  it('the client waits as told at each answer, then completes; nothing is lost or applied twice', async () => {
    // Prepare: a port nobody listens on yet (connection refused), and the proxy's script for it.
    const port = await freePort();
    const seen: { at: number; method: string; path: string; answer: number; retryAfterMs?: number }[] = [];
    const script = [
      { status: 503, retryAfter: 2 },
      { status: 503, retryAfter: 1 },
      { status: 429, retryAfter: 2 },
    ];
    proxy = createServer((req, res) => {
      const step = script.shift();
      const entry = { at: Date.now(), method: req.method ?? '', path: req.url ?? '' };
      if (!step) {
        seen.push({ ...entry, answer: 0 });
        passThrough(req, res);
        return;
      }
      seen.push({ ...entry, answer: step.status, retryAfterMs: step.retryAfter * 1000 });
      req.resume(); // the body is read and dropped: nothing reaches the server
      res.writeHead(step.status, {
        'content-type': 'application/problem+json',
        'retry-after': String(step.retryAfter),
      });
      res.end(JSON.stringify({ type: 'about:blank', title: 'try later', status: step.status }));
    });
    const refused: number[] = [];
    const token = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-retry');
    const client = new FieldsyncClient({
      baseUrl: `http://127.0.0.1:${port}${host.pathname}`,
      deviceId: 'retry-1',
      store: new MemoryStore(),
      getToken: () => token,
      // Short back-off of its own, so any wait of a second or more comes from Retry-After.
      retry: { baseDelayMs: 100, maxDelayMs: 400, maxAttempts: 10 },
      // Real fetch; this wrapper only notes refused connections and, after the second, starts the proxy.
      fetch: async (input, init) => {
        try {
          return await fetch(input, init);
        } catch (error) {
          refused.push(Date.now());
          if (refused.length === 2) await new Promise<void>((r) => proxy?.listen(port, '127.0.0.1', r));
          throw error;
        }
      },
    });
    const recorded = [];
    for (let i = 0; i < 12; i += 1) {
      recorded.push(
        await client.record('NOTES_ADDED', {
          target: { type: 'WELL', id: t.wellId },
          text: `note ${i} written while the server was away`,
        }),
      );
    }

    // Act
    const startedAt = Date.now();
    const report = await client.syncNow();

    // Assess: two refused connections, the three scripted answers, then the push that went through.
    expect(refused).toHaveLength(2);
    expect(seen.slice(0, 4).map((s) => [s.method, s.path.split('?')[0], s.answer])).toEqual([
      ['POST', `${host.pathname}/v1/sync/batches`, 503],
      ['POST', `${host.pathname}/v1/sync/batches`, 503],
      ['POST', `${host.pathname}/v1/sync/batches`, 429],
      ['POST', `${host.pathname}/v1/sync/batches`, 0],
    ]);
    // Each next try came no earlier than the Retry-After of the answer before it.
    const gaps = seen.slice(1, 4).map((s, i) => s.at - (seen[i]?.at ?? 0));
    for (const [i, gap] of gaps.entries()) {
      expect(gap, `gap after answer ${i}`).toBeGreaterThanOrEqual(seen[i]?.retryAfterMs ?? 0);
    }
    expect(report).toMatchObject({ applied: 12, rejected: 0, failed: 0, stillProcessing: 0 });
    expect(await client.outbox()).toEqual([]);
    const status = await client.status();
    expect(status).toMatchObject({ pending: 0, failed: 0, inFlightBatches: 0, lastError: null });
    const server = await serverRecordOf(t.tenant, 'retry-1');
    expect(server.events.map((e) => e.id).sort()).toEqual(recorded.map((r) => r.eventId).sort());
    expect(server.events.every((e) => e.status === 'APPLIED')).toBe(true);
    expect(server.effects.sort()).toEqual(recorded.map((r) => r.eventId).sort());
    console.log(
      `retry-after: refused ×2, then gaps ${gaps.join(', ')} ms after Retry-After ${script.length === 0 ? '2, 1, 2' : '?'} s; ` +
        `sync ${Date.now() - startedAt} ms`,
    );
    await client.close();
  });
});
