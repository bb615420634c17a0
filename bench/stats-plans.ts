// `npm run bench:plans`: the managers' statements (GET /v1/sync/stats, the device counts of GET /v1/devices and
// GET /v1/sync/status) on a tenant with a large event log, with and without the indexes of migration 0005 —
// the measurement docs/operations.md ("Query plans on a million events") reports. Starts a private Postgres,
// fills a scratch tenant, prints each statement's plan summary and time. Flags: --events N (1,000,000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { closeApp, getApp } from '../shared/app.js';
import { deviceCountsSql, syncStatsSql } from '../shared/adapters/postgres/stats-store.js';
import { loadConfig } from '../shared/config.js';
import { provisionTenant } from '../shared/usecases/tenants.js';
import { migrateControlDatabase } from '../local/bootstrap.js';
import { freePort } from '../local/ports.js';
import { startLocalStack } from '../local/stack.js';

const say = (line: string) => process.stdout.write(`${line}\n`);
const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 0 });
const ms = (n: number) => (n >= 1000 ? `${(n / 1000).toFixed(2)} s` : `${n.toFixed(1)} ms`);

/** The data set: 180 days of events, 200 devices, 50 users, batches of 100 with one in ten refusing an event. */
const DATA_SET = {
  events: `
insert into sync_events (id, batch_id, device_id, user_id, type, payload, location, payload_hash,
                         occurred_at, received_at, applied_at, status, error, attempts)
select md5('e' || g)::uuid, md5('b' || (g / 100))::uuid,
       'device-' || ((g / 100) % 200), 'user-' || ((g / 100) % 200 % 50), 'PRODUCTION_LOGGED',
       jsonb_build_object('wellId', 'well-' || (g % 500), 'productionDate', '2025-10-01',
                          'oilVolume', round((random() * 100)::numeric, 2),
                          'gasVolume', round((random() * 300)::numeric, 2),
                          'notes', 'routine reading, nothing to report at this site today'),
       jsonb_build_object('latitude', 31.99, 'longitude', -102.07, 'accuracy', 12),
       md5('h' || g), r.received_at - random() * interval '8 hours', r.received_at,
       case when s.status <> 'PENDING' then r.received_at + (50 + random() * 2000) * interval '1 ms' end,
       s.status,
       case when s.status in ('REJECTED', 'FAILED') then '{"code":"WELL_NOT_FOUND","message":"no well","retryable":false}'::jsonb end,
       1
from generate_series(1, $1::int) g
cross join lateral (select now() - interval '180 days' + (g / 100) * interval '180 days' / ($1::int / 100) as received_at) r
cross join lateral (select case when r.received_at > now() - interval '10 minutes' then 'PENDING'
                                when g % 200 = 7 then 'FAILED' when g % 50 = 1 then 'DUPLICATE'
                                when g % 50 = 2 then 'CONFLICT' when g % 50 = 3 then 'REJECTED'
                                else 'APPLIED' end as status) s`,
  batches: `
insert into sync_batches (id, device_id, user_id, received_at, total, accepted, rejected)
select md5('b' || b)::uuid, 'device-' || (b % 200), 'user-' || (b % 200 % 50),
       now() - interval '180 days' + b * interval '180 days' / ($1::int / 100), 100,
       case when b % 10 = 0 then 99 else 100 end,
       case when b % 10 = 0 then jsonb_build_array(jsonb_build_object('eventId', md5('x' || b)::uuid, 'index', 0,
              'code', 'INVALID_PAYLOAD', 'message', 'bad', 'retryable', false)) else '[]'::jsonb end
from generate_series(0, $1::int / 100) b`,
  // One conflict per CONFLICT event (g % 50 = 2); a quarter of them OPEN.
  conflicts: `
insert into conflicts (id, record_type, record_key, fields, event_id, server_value, client_value, resolution, status,
                       auto_resolution, reviewed_by, reviewed_at)
select md5('c' || g)::uuid, 'PRODUCTION', 'well-' || (g % 500) || '/2025-10-01', array['oilVolume'],
       md5('e' || g)::uuid, '{"oilVolume": 1}', '{"oilVolume": 2}',
       case when (g / 50) % 4 = 0 then 'PENDING_REVIEW' else 'SERVER_WINS' end,
       case when (g / 50) % 4 = 0 then 'OPEN' else 'ACKNOWLEDGED' end,
       case when (g / 50) % 4 = 0 then null else 'SERVER_WINS' end,
       case when (g / 50) % 4 = 0 then null else 'bench' end,
       case when (g / 50) % 4 = 0 then null else now() end
from generate_series(1, $1::int) g where g % 50 = 2`,
};

/** Migration 0005's indexes, as its up migration creates them (its down migration restores (device_id)). */
const INDEXES_0005 = [
  'create index sync_events_received_idx on sync_events (received_at)',
  'create index sync_events_user_received_idx on sync_events (user_id, received_at)',
  'create index sync_events_device_received_idx on sync_events (device_id, received_at)',
  'create index sync_batches_received_idx on sync_batches (received_at)',
  'create index sync_batches_user_received_idx on sync_batches (user_id, received_at)',
];
const WITHOUT_0005 = [
  'drop index sync_batches_user_received_idx',
  'drop index sync_batches_received_idx',
  'create index sync_events_device_idx on sync_events (device_id)',
  'drop index sync_events_device_received_idx',
  'drop index sync_events_user_received_idx',
  'drop index sync_events_received_idx',
];

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  'Rows Removed by Index Recheck'?: number;
  'Workers Launched'?: number;
  Plans?: PlanNode[];
}

/** The scans of the event log and batches (and their bitmap index scans): how each was read, how many rows. */
function scans(node: PlanNode, out: string[] = []): string[] {
  const table = node['Relation Name'] === 'sync_events' || node['Relation Name'] === 'sync_batches';
  if (table || node['Index Name']?.startsWith('sync_')) {
    const loops = node['Actual Loops'] ?? 1;
    const kept = (node['Actual Rows'] ?? 0) * loops;
    const read =
      kept + ((node['Rows Removed by Filter'] ?? 0) + (node['Rows Removed by Index Recheck'] ?? 0)) * loops;
    out.push(
      `${node['Node Type']}${node['Index Name'] ? ` using ${node['Index Name']}` : ''}${table ? ` on ${node['Relation Name']}` : ''} (${fmt(read)} rows read, ${fmt(kept)} kept)`,
    );
  }
  for (const child of node.Plans ?? []) scans(child, out);
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' } } });
  const events = Number(values.events);
  if (!Number.isInteger(events) || events < 10_000) throw new Error('--events must be an integer ≥ 10000');
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldsync-plans-'));
  // Only Postgres is used: the other services get placeholders so the shared config schema parses.
  const given = {
    CosmosConnection: 'AccountEndpoint=https://unused.invalid/;AccountKey=dW51c2Vk;',
    StorageConnection: 'UseDevelopmentStorage=true',
  };
  const stack = await startLocalStack({
    dataDir,
    ports: { postgres: await freePort(), blob: await freePort(), cosmos: await freePort() },
    given,
    services: ['postgres'],
  });
  Object.assign(process.env, given, stack.settings, {
    AUTH_DEV_SECRET: 'plans-secret-plans-secret-plans-secret-0123',
    AUTH_ISSUER: 'fieldsync-bench',
    AUTH_AUDIENCE: 'fieldsync-api',
    QUEUE_DRIVER: 'local',
    LOG_LEVEL: 'warn',
  });
  const config = loadConfig(process.env);
  await migrateControlDatabase(config);
  const app = getApp();
  const { tenant } = await provisionTenant(app, 'scratch-plans');
  const client = new pg.Client({
    connectionString: stack.settings.POSTGRES_URL?.replace(/\/[^/]*$/, `/${tenant.databaseName}`),
  });
  await client.connect();
  const timed = async (sql: string, params: unknown[] = []) => {
    const started = performance.now();
    await client.query(sql, params);
    return performance.now() - started;
  };
  try {
    const { rows: server } = await client.query<{ v: string; b: string; w: string }>(
      "select current_setting('server_version') as v, current_setting('shared_buffers') as b, current_setting('work_mem') as w",
    );
    say(
      `fieldsync stats plans — ${fmt(events)} events, PostgreSQL ${server[0]?.v}, shared_buffers ${server[0]?.b}, work_mem ${server[0]?.w}, Node ${process.version}`,
    );
    for (const [name, sql] of Object.entries(DATA_SET)) {
      say(`loading ${name}: ${ms(await timed(sql, [events]))}`);
    }
    await client.query('vacuum analyze sync_events');
    await client.query('vacuum analyze sync_batches');
    await client.query('vacuum analyze conflicts');
    const { rows: size } = await client.query<{ table: string; indexes: string }>(
      "select pg_size_pretty(pg_table_size('sync_events')) as table, pg_size_pretty(pg_indexes_size('sync_events')) as indexes",
    );
    say(`sync_events: table ${size[0]?.table}, indexes ${size[0]?.indexes}`);

    const now = Date.now();
    const ago = (days: number) => new Date(now - days * 86_400_000).toISOString();
    const to = new Date(now).toISOString();
    const statements = [
      {
        name: 'stats, last 24 h (the default), whole tenant',
        sql: syncStatsSql({ userId: false, deviceId: false }),
        params: [ago(1), to],
      },
      {
        name: 'stats, 7 days, one user',
        sql: syncStatsSql({ userId: true, deviceId: false }),
        params: [ago(7), to, 'user-7'],
      },
      {
        name: 'stats, 30 days, one device',
        sql: syncStatsSql({ userId: false, deviceId: true }),
        params: [ago(30), to, 'device-42'],
      },
      {
        name: 'stats, 92 days (the maximum), whole tenant',
        sql: syncStatsSql({ userId: false, deviceId: false }),
        params: [ago(92), to],
      },
      { name: 'device counts, every device', sql: deviceCountsSql(false), params: [] },
      { name: 'device counts, one device', sql: deviceCountsSql(true), params: ['device-42'] },
    ];
    /** EXPLAIN (ANALYZE, BUFFERS) of a statement as the app sends it: one warm-up, then the best of 3. */
    const explain = async ({ sql, params }: { sql: string; params: unknown[] }) => {
      let best = Infinity;
      let plan: PlanNode | undefined;
      for (let run = 0; run < 4; run += 1) {
        const { rows } = await client.query<{
          'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }];
        }>(`explain (analyze, buffers, format json) ${sql}`, params);
        const result = rows[0]?.['QUERY PLAN'][0];
        if (run > 0 && result && result['Execution Time'] < best) {
          best = result['Execution Time'];
          plan = result.Plan;
        }
      }
      return { best, plan };
    };
    const measure = async (label: string) => {
      say('');
      say(label);
      for (const statement of statements) {
        const { best, plan } = await explain(statement);
        say(`  ${statement.name}: ${ms(best)}`);
        for (const scan of plan ? scans(plan) : []) say(`      ${scan}`);
      }
    };

    await measure('with the 0005 indexes (as every tenant runs):');
    await client.query("set work_mem = '64MB'");
    const wide = statements[3];
    if (wide) say(`  ${wide.name}, work_mem 64MB: ${ms((await explain(wide)).best)}`);
    await client.query('reset work_mem');

    for (const sql of WITHOUT_0005) await client.query(sql);
    await client.query('analyze sync_events');
    await measure('without them (the indexes of migration 0002 only):');

    await client.query('drop index sync_events_device_idx');
    let build = 0;
    for (const sql of INDEXES_0005) build += await timed(sql);
    say('');
    say(`building the 0005 indexes: ${ms(build)}`);

    // HOT: settling scattered events must write no index entry (docs/operations.md, migration 0002).
    const settle = Math.min(10_000, Math.floor(events / 100));
    const hot = async () =>
      (
        await client.query<{ upd: string; hot: string }>(
          "select n_tup_upd as upd, n_tup_hot_upd as hot from pg_stat_user_tables where relname = 'sync_events'",
        )
      ).rows[0];
    await client.query('select pg_stat_force_next_flush()');
    const before = await hot();
    await client.query(
      `update sync_events set attempts = attempts + 1, applied_at = coalesce(applied_at, now())
       where id in (select md5('e' || g)::uuid from generate_series(1, $1::int, $2::int) g)`,
      [events, Math.floor(events / settle)],
    );
    await client.query('select pg_stat_force_next_flush()');
    const after = await hot();
    const updated = Number(after?.upd ?? 0) - Number(before?.upd ?? 0);
    const heapOnly = Number(after?.hot ?? 0) - Number(before?.hot ?? 0);
    say(
      `settling ${fmt(updated)} scattered events: ${fmt(heapOnly)} heap-only (HOT) updates (${((100 * heapOnly) / Math.max(updated, 1)).toFixed(0)} %)`,
    );
  } finally {
    await client.end();
    await closeApp();
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:plans failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
