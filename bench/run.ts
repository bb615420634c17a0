// `npm run bench`: measures the push pipeline on this machine against a raw Postgres baseline measured in
// the same run. Flags: --devices N (20) --events N (1000 per device).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { signDevToken } from '../shared/auth/dev-token.js';
import { closeApp, getApp } from '../shared/app.js';
import { loadConfig } from '../shared/config.js';
import { projectRoot } from '../shared/project-root.js';
import { photoDeps, timeIssuingUrls } from '../shared/usecases/photos.js';
import { provisionTenant } from '../shared/usecases/tenants.js';
import { migrateControlDatabase } from '../local/bootstrap.js';
import { startFunctionsHost } from '../local/host.js';
import { freePort } from '../local/ports.js';
import { startLocalStack } from '../local/stack.js';
import { shiftEvents } from './events.js';

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { devices: { type: 'string', default: '20' }, events: { type: 'string', default: '1000' } },
  });
  const devices = Number(values.devices);
  const perDevice = Number(values.events);
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldsync-bench-'));
  const stack = await startLocalStack({
    dataDir,
    ports: { postgres: await freePort(), blob: await freePort(), cosmos: await freePort() },
    given: {},
  });
  const secret = 'bench-secret-bench-secret-bench-secret-0123';
  Object.assign(process.env, stack.settings, {
    AUTH_DEV_SECRET: secret,
    AUTH_ISSUER: 'fieldsync-bench',
    AUTH_AUDIENCE: 'fieldsync-api',
    QUEUE_DRIVER: 'local',
    SYNC_QUEUE_NAME: 'sync-events',
    LOG_LEVEL: 'warn',
    // One local process serves every push and runs every processor: give the tenant more than the
    // serverless default of 4 connections (an Azure instance handles a slice of this load).
    TENANT_POOL_MAX: process.env.TENANT_POOL_MAX ?? '12',
  });
  const config = loadConfig(process.env);
  await migrateControlDatabase(config);
  const app = getApp();
  const { tenant } = await provisionTenant(app, 'bench');
  const wellIds = Array.from({ length: 50 }, (_, i) => `well-${i}`);
  for (const [i, id] of wellIds.entries()) {
    await app.referenceData.upsertWell(tenant, id, {
      name: `Bench Well ${i}`,
      apiNumber: `42-000-${String(i).padStart(5, '0')}`,
      latitude: 31.9,
      longitude: -102.1,
      status: 'ACTIVE',
    });
  }
  await app.referenceData.upsertEquipment(tenant, 'pump-1', {
    wellId: 'well-0',
    equipmentType: 'PUMP_JACK',
    serialNumber: 'SN-1',
    status: 'OPERATIONAL',
  });
  const host = await startFunctionsHost({
    port: await freePort(),
    functionsEntry: join(projectRoot(), 'dist', 'functions', 'index.js'),
    settings: process.env,
    ...(app.localQueue ? { queue: app.localQueue } : {}),
    log: (entry) => {
      if (entry.level === 'error' || entry.status === 'failed' || process.env.BENCH_VERBOSE)
        say(JSON.stringify(entry));
    },
  });

  try {
    say(
      `fieldsync bench — ${devices} devices × ${perDevice} events, ${config.queue.driver} queue, Node ${process.version}`,
    );
    const bodies = Array.from({ length: devices }, (_, d) =>
      JSON.stringify({ deviceId: `bench-device-${d}`, events: shiftEvents(d, perDevice, wellIds, 'pump-1') }),
    );
    const bodyBytes = bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0);
    say(`request bodies: ${(bodyBytes / 1e6).toFixed(1)} MB of JSON`);
    const tokens = await Promise.all(
      bodies.map((_, d) =>
        signDevToken({
          secret,
          issuer: 'fieldsync-bench',
          audience: 'fieldsync-api',
          tenantId: 'bench',
          userId: `u-${d}`,
          roles: ['OPERATOR'],
        }),
      ),
    );
    // Warm-up: one small push, so connection set-up is not measured.
    await fetch(`${host.url}/v1/sync/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[0]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId: 'warm-up', events: shiftEvents(999, 5, wellIds, 'pump-1') }),
    });
    await waitForNoPending(app, tenant, 30_000);

    const started = performance.now();
    const latencies: number[] = [];
    let accepted = 0;
    await Promise.all(
      bodies.map(async (body, d) => {
        const t0 = performance.now();
        const response = await fetch(`${host.url}/v1/sync/batches`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tokens[d]}`, 'content-type': 'application/json' },
          body,
        });
        latencies.push(performance.now() - t0);
        if (response.status !== 202)
          throw new Error(`push answered ${response.status}: ${await response.text()}`);
        accepted += ((await response.json()) as { accepted: number }).accepted;
      }),
    );
    const acceptedAt = performance.now();
    await waitForNoPending(app, tenant, 300_000);
    const settledAt = performance.now();
    const pipelineRate = accepted / ((settledAt - started) / 1000);

    // Baseline, same run: the same rows straight into a scratch table, one unnest statement per 1000 rows.
    const pool = app.tenantPool(tenant);
    await pool.query('create table bench_raw (like sync_events including all)');
    const { rows } = await pool.query(
      'select id, batch_id, device_id, user_id, type, payload, location, payload_hash, occurred_at, received_at from sync_events',
    );
    const rawStart = performance.now();
    for (let i = 0; i < rows.length; i += 1000) {
      const slice = rows.slice(i, i + 1000);
      await pool.query(
        `insert into bench_raw (id, batch_id, device_id, user_id, type, payload, location, payload_hash, occurred_at, received_at)
         select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::text[],
                              $9::timestamptz[], $10::timestamptz[])
         on conflict (id) do nothing`,
        [
          slice.map((r) => r.id),
          slice.map((r) => r.batch_id),
          slice.map((r) => r.device_id),
          slice.map((r) => r.user_id),
          slice.map((r) => r.type),
          slice.map((r) => JSON.stringify(r.payload)),
          slice.map((r) => (r.location ? JSON.stringify(r.location) : null)),
          slice.map((r) => r.payload_hash),
          slice.map((r) => r.occurred_at),
          slice.map((r) => r.received_at),
        ],
      );
    }
    const rawRate = rows.length / ((performance.now() - rawStart) / 1000);
    const counts = await pool.query<{ status: string; n: number }>(
      'select status, count(*)::int as n from sync_events group by status order by status',
    );

    say('');
    say(
      `push accept latency per push (${devices} concurrent): p50 ${fmt(percentile(latencies, 50))} ms, p95 ${fmt(percentile(latencies, 95))} ms, max ${fmt(Math.max(...latencies))} ms`,
    );
    say(
      `all pushes accepted after ${fmt(acceptedAt - started)} ms (${fmt(accepted / ((acceptedAt - started) / 1000))} events/s accepted)`,
    );
    say(
      `end to end: ${fmt(accepted)} events applied in ${fmt(settledAt - started)} ms = ${fmt(pipelineRate)} events/s`,
    );
    say(`outcomes: ${counts.rows.map((r) => `${r.status} ${r.n}`).join(', ')}`);
    say(
      `raw Postgres baseline (INSERT … SELECT FROM unnest … ON CONFLICT, same rows): ${fmt(rawRate)} rows/s`,
    );
    say(`ratio pipeline / raw: ${(pipelineRate / rawRate).toFixed(2)}`);

    // Pull: a first sync of a tenant with 10,000 wells, through every page (limit 1000), over HTTP.
    await pool.query(
      `insert into wells (id, name, api_number, latitude, longitude, status)
       select 'pull-well-' || i, 'Pull Well ' || i, 'API-P-' || i, 31.9, -102.1, 'ACTIVE' from generate_series(1, 10000) i`,
    );
    const pullStart = performance.now();
    let cursor: string | undefined;
    let pulledWells = 0;
    let pages = 0;
    for (;;) {
      const response = await fetch(
        `${host.url}/v1/sync/pull?deviceId=bench-device-0&limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { headers: { authorization: `Bearer ${tokens[0]}` } },
      );
      const page = (await response.json()) as { wells: unknown[]; nextCursor: string; hasMore: boolean };
      pulledWells += page.wells.length;
      pages += 1;
      cursor = page.nextCursor;
      if (!page.hasMore) break;
    }
    const urlTimes: number[] = [];
    for (let i = 0; i < 5; i += 1) urlTimes.push(await timeIssuingUrls(photoDeps(app), tenant, 50));
    say(
      `photos: 50 upload URLs issued in ${Math.min(...urlTimes).toFixed(1)} ms (best of 5; median ${percentile(urlTimes, 50).toFixed(1)} ms)`,
    );
    say(
      `pull: ${fmt(pulledWells)} wells (snapshot, all pages, limit 1000) in ${fmt(performance.now() - pullStart)} ms over ${pages} pages`,
    );
  } finally {
    await host.stop();
    await closeApp();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function waitForNoPending(
  app: ReturnType<typeof getApp>,
  tenant: Parameters<ReturnType<typeof getApp>['tenantPool']>[0],
  millis: number,
) {
  const deadline = Date.now() + millis;
  for (;;) {
    const { rows } = await app
      .tenantPool(tenant)
      .query<{ n: number }>("select count(*)::int as n from sync_events where status = 'PENDING'");
    if (rows[0]?.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]?.n} events still pending`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
