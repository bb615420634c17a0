// `npm run bench`: measures the push pipeline on this machine against a raw Postgres baseline measured in
// the same run. Flags: --devices N (20) --events N (1000 per device) --domain oil-gas|clinic (oil-gas: the
// v1 events; clinic: v1.1 record events over the clinic pack, issue 13).
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type pg from 'pg';
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
import { CLINICS, clinicShiftEvents, sharedEncounterId } from './records.js';

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      devices: { type: 'string', default: '20' },
      events: { type: 'string', default: '1000' },
      domain: { type: 'string', default: 'oil-gas' },
    },
  });
  const domain = values.domain;
  if (domain !== 'oil-gas' && domain !== 'clinic') throw new Error('--domain is oil-gas or clinic');
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
  const { tenant } = await provisionTenant(app, 'bench', 'Bench', domain === 'clinic' ? ['clinic'] : []);
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
  if (domain === 'clinic') {
    // Each clinician (user u-d) is granted the clinic their device works in.
    for (let d = 0; d < devices; d += 1)
      await app.scopes.grant(tenant, `clinic-${d % CLINICS}`, `u-${d}`, 'bench');
  }
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
      `fieldsync bench (${domain}) — ${devices} devices × ${perDevice} events, ${config.queue.driver} queue, Node ${process.version}`,
    );
    const shift = (d: number, count: number) =>
      domain === 'clinic' ? clinicShiftEvents(d, count) : shiftEvents(d, count, wellIds, 'pump-1');
    const bodies = Array.from({ length: devices }, (_, d) =>
      JSON.stringify({ deviceId: `bench-device-${d}`, events: shift(d, perDevice) }),
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
    // Warm-up: one small push, so connection set-up is not measured (clinic: a manager creates each
    // clinic's shared encounter, which the clinicians then edit).
    const manager = await signDevToken({
      secret,
      issuer: 'fieldsync-bench',
      audience: 'fieldsync-api',
      tenantId: 'bench',
      userId: 'u-manager',
      roles: ['MANAGER'],
    });
    const warmUp =
      domain === 'clinic'
        ? Array.from({ length: CLINICS }, (_, c) => ({
            id: randomUUID(),
            type: 'RECORD_CREATED',
            occurredAt: new Date(Date.now() - 86_400_000).toISOString(),
            payload: {
              collection: 'encounters',
              recordId: sharedEncounterId(`clinic-${c}`),
              data: {
                clinicId: `clinic-${c}`,
                patientId: 'pat-shared',
                encounteredAt: new Date(Date.now() - 86_400_000).toISOString(),
              },
            },
          }))
        : shiftEvents(999, 5, wellIds, 'pump-1');
    const warm = await fetch(`${host.url}/v1/sync/batches`, {
      method: 'POST',
      headers: { authorization: `Bearer ${manager}`, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId: 'warm-up', events: warmUp }),
    });
    if (warm.status !== 202) throw new Error(`warm-up push answered ${warm.status}: ${await warm.text()}`);
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
    if (domain === 'clinic') {
      await benchRecords(pool, host.url, manager);
      return;
    }

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

/**
 * Clinic figures: the records the pipeline wrote, the same rows upserted straight into a scratch copy of the
 * records table (one unnest statement per 1000 rows: the floor for writing them), and a manager's first
 * pull of every record (collections=patients,encounters, limit 1000, all pages) over HTTP.
 */
async function benchRecords(pool: pg.Pool, baseUrl: string, token: string): Promise<void> {
  const { rows } = await pool.query<{
    collection: string;
    id: string;
    version: number;
    data: unknown;
    field_meta: unknown;
    scope: string | null;
  }>('select collection, id, version, data, field_meta, scope from records');
  await pool.query('create table bench_raw_records (like records including all)');
  const rawStart = performance.now();
  for (let i = 0; i < rows.length; i += 1000) {
    const slice = rows.slice(i, i + 1000);
    await pool.query(
      `insert into bench_raw_records (collection, id, version, data, field_meta, scope)
       select * from unnest($1::text[], $2::text[], $3::int[], $4::jsonb[], $5::jsonb[], $6::text[])
       on conflict (collection, id) do update set data = excluded.data, version = excluded.version`,
      [
        slice.map((r) => r.collection),
        slice.map((r) => r.id),
        slice.map((r) => r.version),
        slice.map((r) => JSON.stringify(r.data)),
        slice.map((r) => JSON.stringify(r.field_meta)),
        slice.map((r) => r.scope),
      ],
    );
  }
  const rawMillis = performance.now() - rawStart;
  const conflicts = await pool.query<{ n: number }>('select count(*)::int as n from conflicts');
  say(
    `records: ${fmt(rows.length)} written (${fmt(conflicts.rows[0]?.n ?? 0)} conflicts recorded); raw upsert of the same rows: ${fmt(rows.length / (rawMillis / 1000))} rows/s`,
  );
  const pullStart = performance.now();
  let cursor: string | undefined;
  let pulled = 0;
  let pages = 0;
  for (;;) {
    const response = await fetch(
      `${baseUrl}/v1/sync/pull?deviceId=bench-manager&limit=1000&collections=patients,encounters${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    if (response.status !== 200)
      throw new Error(`pull answered ${response.status}: ${await response.text()}`);
    const page = (await response.json()) as { records: unknown[]; nextCursor: string; hasMore: boolean };
    pulled += page.records.length;
    pages += 1;
    cursor = page.nextCursor;
    if (!page.hasMore) break;
  }
  say(
    `pull: ${fmt(pulled)} records (snapshot, all pages, limit 1000) in ${fmt(performance.now() - pullStart)} ms over ${pages} pages`,
  );
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
