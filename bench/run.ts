// `npm run bench`: measures the push pipeline on this machine against a raw Postgres baseline measured in
// the same run, and counts what it costs per 1,000 events (Postgres statements, queue operations, Cosmos
// requests). Flags (bench/args.ts): --devices N (20) --events N (1000 per device) --domain oil-gas|clinic
// (oil-gas: the v1 events; clinic: v1.1 record events over the clinic pack, issue 13) --unloaded N (7 single
// pushes for the unloaded p50) --workers 1,2,4 (scaling mode: N processor processes against one Postgres).
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { signDevToken } from '../shared/auth/dev-token.js';
import { closeApp, getApp } from '../shared/app.js';
import { loadConfig } from '../shared/config.js';
import { projectRoot } from '../shared/project-root.js';
import type { Tenant } from '../shared/usecases/ports/tenancy.js';
import { photoDeps, timeIssuingUrls } from '../shared/usecases/photos.js';
import { provisionTenant } from '../shared/usecases/tenants.js';
import { migrateControlDatabase } from '../local/bootstrap.js';
import { startFunctionsHost } from '../local/host.js';
import { freePort } from '../local/ports.js';
import { startLocalStack } from '../local/stack.js';
import { type BenchArgs, parseBenchArgs } from './args.js';
import { postgresCpuSeconds, postmasterPid, startProfile } from './cpu.js';
import {
  type CostSnapshot,
  formatCosts,
  installCounters,
  mergeSnapshots,
  peekSnapshot,
  takeSnapshot,
  uncountedPool,
  unsettledDeliveries,
} from './counters.js';
import { shiftEvents } from './events.js';
import { CLINICS, clinicShiftEvents, sharedEncounterId } from './records.js';
import type { FromWorker, ToWorker } from './worker.js';

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
/** Set once stdout's reader has gone (`npm run bench | head`): the run goes on quietly and stops what it started. */
let readerGone = false;
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  readerGone = true;
});
const say = (line: string) => {
  if (!readerGone) process.stdout.write(`${line}\n`);
};
/**
 * Stops the private stack and removes its folder: set once the stack runs, called on the way out whatever
 * the way (done, failed, Ctrl-C, SIGTERM), so no Postgres or Azurite outlives the bench.
 */
let stopStack: (() => Promise<void>) | undefined;
let stopping: Promise<void> | undefined;
/** One stop, whoever asks first; later callers wait for the same one. */
const stopStackOnce = (): Promise<void> => (stopping ??= stopStack?.() ?? Promise.resolve());
/** While the stack is starting, a signal is kept here and acted on as soon as it is up (and can be stopped). */
let startingStack = false;
let exitWhenStarted: number | undefined;
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    if (startingStack) {
      exitWhenStarted = code;
      return;
    }
    void stopStackOnce()
      .catch(() => undefined)
      .finally(() => process.exit(code));
  });
}
/** CPU-seconds per 1,000 events, two decimals. */
const perThousand = (seconds: number, events: number) => ((seconds * 1000) / Math.max(1, events)).toFixed(2);

/**
 * One push over HTTP; returns its latency and what it answered (throws unless 202). With `idempotencyKey`
 * it sends an Idempotency-Key header, as the fieldsync client does (the claim and the stored response cost
 * two Cosmos writes).
 */
async function push(
  url: string,
  token: string,
  body: string,
  idempotencyKey?: string,
): Promise<{ millis: number; accepted: number; batchId: string }> {
  const t0 = performance.now();
  const response = await fetch(`${url}/v1/sync/batches`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    },
    body,
  });
  const millis = performance.now() - t0;
  if (response.status !== 202) throw new Error(`push answered ${response.status}: ${await response.text()}`);
  const answer = (await response.json()) as { accepted: number; batchId: string };
  return { millis, accepted: answer.accepted, batchId: answer.batchId };
}

/** A device's first sync (a pull of one item): from then on the device is its user's, as in the field. */
async function firstPull(url: string, token: string, deviceId: string): Promise<void> {
  const response = await fetch(`${url}/v1/sync/pull?deviceId=${deviceId}&limit=1`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (response.status !== 200) throw new Error(`first pull answered ${response.status}`);
  await response.arrayBuffer();
}

/** Statements of the tenant database that Postgres JIT-compiled since the reset, and the time it took. */
async function jitCompilations(observer: pg.Pool): Promise<{ statements: number; millis: number }> {
  const { rows } = await observer.query<{ statements: number; millis: number }>(
    `select count(*) filter (where jit_functions > 0)::int as statements,
            coalesce(sum(jit_generation_time + jit_inlining_time + jit_optimization_time + jit_emission_time), 0)
              as millis
     from pg_stat_statements where dbid = (select oid from pg_database where datname = current_database())`,
  );
  return rows[0] ?? { statements: 0, millis: 0 };
}

/** Row updates per table of the tenant database since it was made, and how many were heap-only (HOT). */
async function heapOnlyUpdates(
  observer: pg.Pool,
): Promise<{ table: string; updates: number; hot: number }[]> {
  // Statistics reach the shared counters when a backend flushes them (at most about once a second).
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const { rows } = await observer.query<{ relname: string; n_tup_upd: string; n_tup_hot_upd: string }>(
    `select relname, n_tup_upd, n_tup_hot_upd from pg_stat_user_tables where n_tup_upd > 0
     order by n_tup_upd desc`,
  );
  return rows.map((r) => ({
    table: r.relname,
    updates: Number(r.n_tup_upd),
    hot: Number(r.n_tup_hot_upd),
  }));
}

/** The tenant database's statements since the reset, by total execution time (pg_stat_statements). */
async function topStatements(
  observer: pg.Pool,
): Promise<{ totalMs: number; calls: number; rows: number; query: string }[]> {
  const { rows } = await observer.query<{ total_ms: number; calls: string; rows: string; query: string }>(
    `select total_exec_time as total_ms, calls, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 110) as query
     from pg_stat_statements
     where dbid = (select oid from pg_database where datname = current_database())
       and query not like '%pg_stat_statements%'
     order by total_exec_time desc
     limit 14`,
  );
  return rows.map((r) => ({
    totalMs: r.total_ms,
    calls: Number(r.calls),
    rows: Number(r.rows),
    query: r.query,
  }));
}

/** Labels for the cost lines: the tenant's database, and the control database (registry, local queue). */
function databaseLabels(snapshot: CostSnapshot, tenant: Tenant): Record<string, string> {
  return Object.fromEntries(
    Object.keys(snapshot.postgres).map((db) => [
      db,
      db === tenant.databaseName ? `tenant db` : `control db ${db} (registry, local queue)`,
    ]),
  );
}

async function main(): Promise<void> {
  const args = parseBenchArgs(process.argv.slice(2));
  // Before the app exists: the wrappers count every statement, queue operation and Cosmos request it makes.
  installCounters();
  const { domain, devices, events: perDevice } = args;
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldsync-bench-'));
  startingStack = true;
  const stack = await startLocalStack({
    dataDir,
    ports: { postgres: await freePort(), blob: await freePort(), cosmos: await freePort() },
    given: {},
    ...(args.statements
      ? {
          postgresSettings: [
            'shared_preload_libraries=pg_stat_statements',
            'pg_stat_statements.track_utility=on',
          ],
        }
      : {}),
  });
  stopStack = async () => {
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  startingStack = false;
  if (exitWhenStarted !== undefined) {
    await stopStackOnce();
    process.exit(exitWhenStarted);
  }
  const secret = 'bench-secret-bench-secret-bench-secret-0123';
  Object.assign(process.env, stack.settings, {
    AUTH_DEV_SECRET: secret,
    AUTH_ISSUER: 'fieldsync-bench',
    AUTH_AUDIENCE: 'fieldsync-api',
    QUEUE_DRIVER: 'local',
    SYNC_QUEUE_NAME: 'sync-events',
    LOG_LEVEL: 'warn',
    BENCH_TENANT: 'bench',
    // The serverless default of 4 connections per tenant unless TENANT_POOL_MAX is given. Measured on 2 cores
    // (docs/architecture.md "Performance"): more connections were slower (12: 5.5–6.1k events/s, 4: 7.2–7.5k),
    // the extra backends only contending for the same cores.
    TENANT_POOL_MAX: process.env.TENANT_POOL_MAX ?? '4',
  });
  const config = loadConfig(process.env);
  await migrateControlDatabase(config);
  const app = getApp();
  const { tenant } = await provisionTenant(app, 'bench', 'Bench', domain === 'clinic' ? ['clinic'] : []);
  // The bench's own queries (waiting for the pipeline) go through a pool the counters leave out.
  const observer = uncountedPool({
    ...(app.tenantPool(tenant) as pg.Pool & { options: pg.PoolConfig }).options,
    max: 2,
  });
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
  const scaling = args.workers !== undefined;
  const host = await startFunctionsHost({
    port: await freePort(),
    functionsEntry: join(projectRoot(), 'dist', 'functions', 'index.js'),
    settings: process.env,
    // Scaling mode: this process serves the pushes only; the processors run in the worker processes.
    ...(app.localQueue && !scaling ? { queue: app.localQueue } : {}),
    log: (entry) => {
      if (entry.level === 'error' || entry.status === 'failed' || process.env.BENCH_VERBOSE)
        say(JSON.stringify(entry));
    },
  });

  try {
    const tokens = await Promise.all(
      Array.from({ length: devices }, (_, d) =>
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
    await push(host.url, manager, JSON.stringify({ deviceId: 'warm-up', events: warmUp }));
    // Each device has synced before, as at the end of a shift: its first pull (limit 1) made it its user's.
    for (let d = 0; d < devices; d += 1) await firstPull(host.url, tokens[d] as string, `bench-device-${d}`);

    const shift = (d: number, count: number) =>
      domain === 'clinic' ? clinicShiftEvents(d, count) : shiftEvents(d, count, wellIds, 'pump-1');
    if (scaling) {
      await benchScaling({
        args,
        url: host.url,
        tokens,
        tenant,
        observer,
        pool: app.tenantPool(tenant),
        shift,
      });
      return;
    }
    await waitForNoPending(observer, 30_000);

    say(
      `fieldsync bench (${domain}) — ${devices} devices × ${perDevice} events, ${config.queue.driver} queue, Node ${process.version}`,
    );
    const bodies = Array.from({ length: devices }, (_, d) =>
      JSON.stringify({ deviceId: `bench-device-${d}`, events: shift(d, perDevice) }),
    );
    const bodyBytes = bodies.reduce((sum, body) => sum + Buffer.byteLength(body), 0);
    say(`request bodies: ${(bodyBytes / 1e6).toFixed(1)} MB of JSON`);

    const postmaster = await postmasterPid(observer);
    const pgCpu0 = postgresCpuSeconds(postmaster);
    const nodeCpu0 = process.cpuUsage();
    await settledDeliveries();
    if (args.statements) {
      await observer.query('create extension if not exists pg_stat_statements');
      await observer.query('select pg_stat_statements_reset()');
    }
    takeSnapshot();
    const profiler = args.cpuProfile ? await startProfile() : undefined;
    const started = performance.now();
    const latencies: number[] = [];
    let accepted = 0;
    let pushedBatches = 0;
    await Promise.all(
      bodies.map(async (body, d) => {
        const answer = await push(host.url, tokens[d] as string, body);
        latencies.push(answer.millis);
        accepted += answer.accepted;
        if (answer.accepted > 0) pushedBatches += 1;
      }),
    );
    const acceptedAt = performance.now();
    await waitForDrained(observer, 300_000, pushedBatches);
    const settledAt = performance.now();
    if (profiler && args.cpuProfile) await profiler.stop(args.cpuProfile);
    await settledDeliveries();
    const costs = takeSnapshot();
    const nodeCpu = process.cpuUsage(nodeCpu0);
    const pgCpu1 = postgresCpuSeconds(postmaster);
    const statements = args.statements ? await topStatements(observer) : [];
    const updates = args.statements ? await heapOnlyUpdates(observer) : [];
    const jit = args.statements ? await jitCompilations(observer) : undefined;
    const pipelineRate = accepted / ((settledAt - started) / 1000);

    const pool = app.tenantPool(tenant);
    const rawRate = await rawBaseline(pool);
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
    say(
      `outcomes of every event so far (the loaded run and the ${warmUp.length}-event warm-up): ${counts.rows.map((r) => `${r.status} ${r.n}`).join(', ')}`,
    );
    say(
      `raw Postgres baseline (INSERT … SELECT FROM unnest … ON CONFLICT, same rows): ${fmt(rawRate)} rows/s`,
    );
    say(`ratio pipeline / raw: ${(pipelineRate / rawRate).toFixed(2)}`);

    // Unloaded: one push at a time (nothing else running), accepted = the 202, applied = its message
    // completed (watched in-process every 2 ms, so applied is late by at most that) and none of its events PENDING.
    const acceptedMs: number[] = [];
    const appliedMs: number[] = [];
    // These devices have synced before too (a first pull), as the loaded run's have.
    for (let k = 0; k < args.unloaded; k += 1)
      await firstPull(host.url, tokens[k % devices] as string, `bench-unloaded-${k}`);
    for (let k = 0; k < args.unloaded; k += 1) {
      const body = JSON.stringify({ deviceId: `bench-unloaded-${k}`, events: shift(k % devices, perDevice) });
      await settledDeliveries();
      takeSnapshot();
      const t0 = performance.now();
      const answer = await push(host.url, tokens[k % devices] as string, body);
      acceptedMs.push(answer.millis);
      await waitForDrained(observer, 60_000, answer.accepted > 0 ? 1 : 0, answer.batchId);
      appliedMs.push(performance.now() - t0);
    }
    say(
      `unloaded push (${perDevice} events, ${args.unloaded} pushes one at a time): accepted p50 ${fmt(percentile(acceptedMs, 50))} ms (min ${fmt(Math.min(...acceptedMs))}, max ${fmt(Math.max(...acceptedMs))}), applied p50 ${fmt(percentile(appliedMs, 50))} ms (min ${fmt(Math.min(...appliedMs))}, max ${fmt(Math.max(...appliedMs))})`,
    );
    for (const line of formatCosts(costs, accepted, databaseLabels(costs, tenant), 'the loaded run'))
      say(line);
    say(
      `  cpu: this process (HTTP, processors, in-process Cosmos emulator, load generator) ${perThousand((nodeCpu.user + nodeCpu.system) / 1e6, accepted)} s, Postgres ${pgCpu0 === undefined || pgCpu1 === undefined ? '–' : perThousand(pgCpu1 - pgCpu0, accepted)} s`,
    );

    if (statements.length) {
      say(`tenant db statements of the loaded run by total time (ms per 1,000 events; pg_stat_statements):`);
      for (const st of statements)
        say(
          `  ${perThousand(st.totalMs, accepted).padStart(7)} ms  ${String(st.calls).padStart(5)} calls  ${fmt(st.rows)} rows  ${st.query}`,
        );
      if (jit)
        say(`JIT compilations in the tenant db: ${fmt(jit.statements)} statements, ${fmt(jit.millis)} ms`);
      // An update that is not heap-only writes an entry in every index of its table.
      say(
        `row updates of the tenant db so far, heap-only of all: ${updates.map((u) => `${u.table} ${fmt(u.hot)}/${fmt(u.updates)}`).join(', ')}`,
      );
    }

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
    await observer.end();
    await closeApp();
    await stopStackOnce();
  }
}

/**
 * The same rows as the pipeline wrote, straight into a scratch table, one `INSERT … SELECT FROM unnest …
 * ON CONFLICT` per 1000 rows: the floor for writing them on this machine now. Returns rows/s.
 */
async function rawBaseline(pool: pg.Pool): Promise<number> {
  await pool.query('create table if not exists bench_raw (like sync_events including all)');
  await pool.query('truncate bench_raw');
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
  return rows.length / ((performance.now() - rawStart) / 1000);
}

/** A forked processor worker (bench/worker.ts) and the messages it sent. */
interface Worker {
  child: ChildProcess;
  ready: Promise<void>;
  counts: Promise<{ snapshot: CostSnapshot; cpuSeconds: number }>;
  exited: Promise<void>;
}

function startWorker(): Worker {
  const child = fork(join(projectRoot(), 'dist', 'bench', 'worker.js'), [], {
    env: process.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ready: () => void = () => undefined;
  let counted: (c: { snapshot: CostSnapshot; cpuSeconds: number }) => void = () => undefined;
  let failed: (e: Error) => void = () => undefined;
  const readyP = new Promise<void>((resolve, reject) => {
    ready = resolve;
    failed = reject;
  });
  const counts = new Promise<{ snapshot: CostSnapshot; cpuSeconds: number }>((resolve, reject) => {
    counted = resolve;
    const previous = failed;
    failed = (e) => {
      previous(e);
      reject(e);
    };
  });
  readyP.catch(() => undefined);
  counts.catch(() => undefined);
  child.on('message', (message: FromWorker) => {
    if (message.type === 'ready') ready();
    else if (message.type === 'counts') counted(message);
    else failed(new Error(`bench worker ${child.pid} failed: ${message.error}`));
  });
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code) => {
      failed(new Error(`bench worker ${child.pid} exited with ${code}`));
      resolve();
    });
  });
  return { child, ready: readyP, counts, exited };
}

const tell = (worker: Worker, message: ToWorker) => worker.child.send(message);

/** One round of the scaling mode: N workers draining what the round's pushes left in the queue. */
interface Round {
  n: number;
  events: number;
  millis: number;
  rate: number;
  push: CostSnapshot;
  processors: CostSnapshot;
  /** CPU-seconds: this process while the pushes ran, the workers while they drained, Postgres in each phase. */
  pushNodeCpu: number;
  pushPgCpu: number | undefined;
  processorNodeCpu: number;
  processorPgCpu: number | undefined;
}

/**
 * Scaling mode: for each N of --workers (the list run --repeat times, interleaved), the round's pushes
 * (devices × events, concurrent over HTTP) are all accepted first with no processor running; then N worker
 * processes start, and the clock runs from their common "go" until no event is PENDING. Prints throughput
 * per N (median of its rounds) against N = 1 and the raw baseline, and the cost of each side per 1,000 events.
 */
async function benchScaling(options: {
  args: BenchArgs;
  url: string;
  tokens: string[];
  tenant: Tenant;
  observer: pg.Pool;
  pool: pg.Pool;
  shift: (device: number, count: number) => unknown[];
}): Promise<void> {
  const { args, url, tokens, tenant, observer, pool, shift } = options;
  const workers = args.workers ?? [];
  say(
    `fieldsync bench, scaling mode — per round ${args.devices} devices × ${args.events} events (with Idempotency-Key) accepted first, then N processor processes (local queue, Node ${process.version}); N = ${workers.join(', ')}, ${args.repeat} time(s)`,
  );
  const postmaster = await postmasterPid(observer);
  const delta = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : b - a;
  const rounds: Round[] = [];
  let round = 0;
  for (let r = 0; r < args.repeat; r += 1) {
    for (const n of workers) {
      round += 1;
      // Left PENDING before the round (the warm-up push, which no processor took in this mode): not its events.
      const before = await pendingCount(observer);
      takeSnapshot();
      const pg0 = postgresCpuSeconds(postmaster);
      const node0 = process.cpuUsage();
      const latencies: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: args.devices }, async (_, d) => {
          const body = JSON.stringify({
            deviceId: `bench-r${round}-device-${d}`,
            events: shift(d, args.events),
          });
          latencies.push((await push(url, tokens[d] as string, body, randomUUID())).millis);
        }),
      );
      const acceptMillis = performance.now() - t0;
      const pending = (await pendingCount(observer)) - before;
      const nodeCpu = process.cpuUsage(node0);
      const pg1 = postgresCpuSeconds(postmaster);
      const started = Array.from({ length: n }, () => startWorker());
      try {
        await Promise.all(started.map((w) => w.ready));
        const pushCosts = takeSnapshot();
        const pg2 = postgresCpuSeconds(postmaster);
        const go = performance.now();
        for (const w of started) tell(w, { type: 'go' });
        await waitForNoPending(observer, 600_000);
        const millis = performance.now() - go;
        const pg3 = postgresCpuSeconds(postmaster);
        for (const w of started) tell(w, { type: 'stop' });
        const counts = await Promise.all(started.map((w) => w.counts));
        await Promise.all(started.map((w) => w.exited));
        const rate = pending / (millis / 1000);
        rounds.push({
          n,
          events: pending,
          millis,
          rate,
          push: pushCosts,
          processors: mergeSnapshots(counts.map((c) => c.snapshot)),
          pushNodeCpu: (nodeCpu.user + nodeCpu.system) / 1e6,
          pushPgCpu: delta(pg0, pg1),
          processorNodeCpu: counts.reduce((sum, c) => sum + c.cpuSeconds, 0),
          processorPgCpu: delta(pg2, pg3),
        });
        say(
          `round ${round}, N=${n}: ${fmt(pending)} events accepted in ${fmt(acceptMillis)} ms (accept p50 ${fmt(percentile(latencies, 50))} ms), then applied by ${n} worker${n === 1 ? '' : 's'} in ${fmt(millis)} ms = ${fmt(rate)} events/s`,
        );
      } finally {
        for (const w of started) if (w.child.exitCode === null) w.child.kill();
      }
    }
  }
  const rawRate = await rawBaseline(pool);
  say('');
  say(`raw Postgres baseline (INSERT … SELECT FROM unnest … ON CONFLICT, same rows): ${fmt(rawRate)} rows/s`);
  const medianRate = (n: number) =>
    percentile(
      rounds.filter((r) => r.n === n).map((r) => r.rate),
      50,
    );
  const base = workers.includes(1) ? medianRate(1) : undefined;
  for (const n of [...new Set(workers)]) {
    const rates = rounds.filter((r) => r.n === n).map((r) => r.rate);
    const rate = medianRate(n);
    say(
      `workers ${n}: ${fmt(rate)} events/s applied (median of ${rates.length}: ${rates.map(fmt).join(', ')}), × ${base ? (rate / base).toFixed(2) : '–'} of N=1, ratio to raw ${(rate / rawRate).toFixed(2)}`,
    );
  }
  const events = rounds.reduce((sum, r) => sum + r.events, 0);
  const pushSide = mergeSnapshots(rounds.map((r) => r.push));
  const processors = mergeSnapshots(rounds.map((r) => r.processors));
  for (const line of formatCosts(
    pushSide,
    events,
    databaseLabels(pushSide, tenant),
    'push side (this process)',
  ))
    say(line);
  const sum = (values: (number | undefined)[]) =>
    values.some((v) => v === undefined) ? undefined : values.reduce<number>((a, v) => a + (v ?? 0), 0);
  const pushPg = sum(rounds.map((r) => r.pushPgCpu));
  say(
    `  cpu: this process (HTTP pushes, in-process Cosmos emulator, load generator) ${perThousand(sum(rounds.map((r) => r.pushNodeCpu)) ?? 0, events)} s, Postgres ${pushPg === undefined ? '–' : perThousand(pushPg, events)} s`,
  );
  for (const line of formatCosts(
    processors,
    events,
    databaseLabels(processors, tenant),
    'processor side (all workers)',
  ))
    say(line);
  const procPg = sum(rounds.map((r) => r.processorPgCpu));
  say(
    `  cpu: the workers ${perThousand(sum(rounds.map((r) => r.processorNodeCpu)) ?? 0, events)} s, Postgres ${procPg === undefined ? '–' : perThousand(procPg, events)} s`,
  );
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

/**
 * A handler settles its message just after its events are no longer PENDING: wait (at most 2 s) until every
 * delivery of this process is settled, so the queue counts of a phase hold its own completions only.
 */
async function settledDeliveries(): Promise<void> {
  for (let i = 0; i < 200 && unsettledDeliveries() > 0; i += 1) await new Promise((r) => setTimeout(r, 10));
}

async function pendingCount(pool: pg.Pool, batchId?: string): Promise<number> {
  // Two statements, so that one batch's count reads the batch index (a `$1 is null or …` filter cannot, and
  // scanned the whole event log inside the unloaded push's applied time).
  const { rows } = batchId
    ? await pool.query<{ n: number }>(
        "select count(*)::int as n from sync_events where batch_id = $1 and status = 'PENDING'",
        [batchId],
      )
    : await pool.query<{ n: number }>("select count(*)::int as n from sync_events where status = 'PENDING'");
  return rows[0]?.n ?? 0;
}

/**
 * The loaded run's wait: watches this process's queue counters (at least `messages` sent since the snapshot —
 * one per accepted push, whose message names its batch — and every one completed or abandoned, none in a
 * handler) with no database load while the pipeline runs — a count over sync_events every 20 ms cost
 * Postgres about a quarter of what the pipeline did — then confirms with one count that nothing is PENDING (a
 * message left to the outbox sweep or scheduled for later keeps it waiting, checked every 100 ms). Counting the
 * messages matters: the 202 comes before the relay's send, and a wait that found "every message sent so far
 * completed" then slept 100 ms added up to that much to the unloaded push's applied time (until 2026-12-01).
 */
async function waitForDrained(
  pool: pg.Pool,
  millis: number,
  messages: number,
  batchId?: string,
): Promise<void> {
  const deadline = Date.now() + millis;
  for (;;) {
    const { queue } = peekSnapshot();
    const drained =
      queue.messagesSent >= messages &&
      queue.completed + queue.abandoned >= queue.messagesSent + queue.scheduled &&
      unsettledDeliveries() === 0;
    if (drained && (await pendingCount(pool, batchId)) === 0) return;
    if (Date.now() > deadline) throw new Error(`${await pendingCount(pool, batchId)} events still pending`);
    await new Promise((r) => setTimeout(r, drained ? 100 : 2));
  }
}

/** Waits until no event (of one batch, when given) is PENDING, polling every `everyMillis`. */
async function waitForNoPending(pool: pg.Pool, millis: number, batchId?: string, everyMillis = 20) {
  const deadline = Date.now() + millis;
  for (;;) {
    const n = await pendingCount(pool, batchId);
    if (n === 0) return;
    if (Date.now() > deadline) throw new Error(`${n} events still pending`);
    await new Promise((r) => setTimeout(r, everyMillis));
  }
}

main().catch(async (error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  await stopStackOnce().catch(() => undefined);
  process.exit(1);
});
