import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { LocalQueue } from '../../shared/adapters/local-queue/pg-boss-queue.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { OutgoingMessage } from '../../shared/usecases/ports/queue.js';
import { api, until } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { note } from '../support/events.js';

// SPEC "Ops": provision a tenant and migrate all tenants, and replay dead-lettered messages, from the command
// line. The commands run as `npm run tenant` / `npm run dlq` run them (scripts/run.mjs and the built entry),
// in a child process given only the test stack's settings, and are judged by exit code, output and effect.
const root = join(import.meta.dirname, '..', '..');
const settings = inject('settings');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node scripts/run.mjs <entry> ...args` against the test stack; never the developer's own settings. */
function run(entry: string, args: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const child = spawn(process.execPath, [join(root, 'scripts', 'run.mjs'), entry, ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...settings,
      FIELDSYNC_DATA_DIR: inject('dataDir'),
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} ${args.join(' ')} did not exit in 60 s:\n${stdout}\n${stderr}`));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
const tenantCli = (...args: string[]) => run('local/tenant-cli.js', args);

/** Renames a tenant's database away (connections refused as for a database that is down), or back. */
async function admin(sql: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: settings.POSTGRES_URL });
  await client.connect();
  try {
    for (const statement of sql) await client.query(statement);
  } finally {
    await client.end();
  }
}

afterAll(() => closeApp());

// Each command starts Node and connects afresh (a few seconds each on a loaded machine).
describe('npm run tenant', { timeout: 120_000 }, () => {
  it('create: provisions a tenant the API then serves; again: finds it there, exit 0 both times', async () => {
    // Prepare
    const id = `cli-${randomBytes(4).toString('hex')}`;
    // Act
    const created = await tenantCli('create', id, '--name', 'CLI Energy');
    const again = await tenantCli('create', id);
    // Assess
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(
      new RegExp(
        `^tenant ${id}: database \\S+ created on server primary, [1-9]\\d* migration\\(s\\) applied, registered$`,
        'm',
      ),
    );
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      new RegExp(
        `^tenant ${id}: database \\S+ already existed on server primary, 0 migration\\(s\\) applied`,
        'm',
      ),
    );
    const tenant = await getApp().tenants.find(id);
    expect(tenant).toMatchObject({ id, displayName: 'CLI Energy' });
    // The API serves it: a push is accepted and applied in its database.
    const token = await tokenFor(id, ['OPERATOR'], 'u-cli');
    const noWell = await api(
      token,
      'POST',
      'v1/sync/batches',
      { deviceId: 'cli-dev', events: [note('no-well')] },
      {
        prefer: 'wait=20',
      },
    );
    expect(noWell.status, noWell.text).toBe(200);
    expect(noWell.body.events[0]).toMatchObject({ status: 'REJECTED', error: { code: 'WELL_NOT_FOUND' } });
  });

  it('create while another migrator holds the control database: waits for it, then succeeds', async () => {
    // Prepare: hold node-pg-migrate's migration lock on the control database, as a second command would.
    const migrationLock = '7241865325823964'; // node-pg-migrate's PG_MIGRATE_LOCK_ID
    const holder = new pg.Client({ connectionString: settings.POSTGRES_URL });
    await holder.connect();
    const id = `cli-${randomBytes(4).toString('hex')}`;
    try {
      await holder.query('select pg_advisory_lock($1::bigint)', [migrationLock]);
      // Act: the command starts, finds the lock held, and must wait (it used to fail "already running").
      const pending = tenantCli('create', id);
      let exited: Run | undefined;
      void pending.then((r) => (exited = r));
      await until(
        'the command to wait on the migration lock',
        async () => {
          const done = exited;
          if (done) throw new Error(`the command exited (${done.code}) instead of waiting: ${done.stderr}`);
          const { rows } = await holder.query<{ n: number }>(
            `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted`,
          );
          return (rows[0]?.n ?? 0) > 0;
        },
        60_000,
      );
      await holder.query('select pg_advisory_unlock($1::bigint)', [migrationLock]);
      const result = await pending;
      // Assess
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^tenant ${id}: database \\S+ created`, 'm'));
      expect(await getApp().tenants.find(id)).toMatchObject({ id, status: 'ACTIVE' });
    } finally {
      await holder.end();
    }
  });

  it('list: prints each registered tenant with its status, server and database', async () => {
    const id = `cli-${randomBytes(4).toString('hex')}`;
    expect((await tenantCli('create', id, '--name', 'Listed')).code).toBe(0);
    const listed = await tenantCli('list');
    expect(listed.code, listed.stderr).toBe(0);
    const tenant = await getApp().tenants.find(id);
    expect(listed.stdout.split('\n')).toContain(`${id}\tACTIVE\tprimary\t${tenant?.databaseName}\tListed`);
  });

  it('create --server: a server not in the list is refused (exit 1, the known servers named), nothing registered', async () => {
    const id = `cli-${randomBytes(4).toString('hex')}`;
    const refused = await tenantCli('create', id, '--server', 'nowhere');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/unknown server "nowhere"/);
    expect(refused.stderr).toMatch(/primary/);
    expect(await getApp().tenants.find(id)).toBeUndefined();
    const placed = await tenantCli('create', id, '--server', 'primary');
    expect(placed.code, placed.stderr).toBe(0);
    expect(placed.stdout).toMatch(new RegExp(`^tenant ${id}: database \\S+ created on server primary,`, 'm'));
  });

  it('grant, grants, revoke: scope grants from the command line; a missing grant exits 1', async () => {
    const id = `cli-${randomBytes(4).toString('hex')}`;
    expect((await tenantCli('create', id)).code).toBe(0);
    const granted = await tenantCli('grant', id, 'clinic-a', 'nurse-1');
    expect(granted.code, granted.stderr).toBe(0);
    expect(granted.stdout).toBe(`${id}: nurse-1 granted scope clinic-a\n`);
    expect((await tenantCli('grant', id, 'clinic-a', 'nurse-1')).stdout).toContain('already had');
    const tenant = await getApp().tenants.find(id);
    expect(tenant && (await getApp().scopes.scopesOf(tenant, 'nurse-1'))).toEqual(['clinic-a']);
    const listed = await tenantCli('grants', id, 'nurse-1');
    expect(listed.stdout).toMatch(/^clinic-a\tnurse-1\tcli\t\d{4}-/);
    expect((await tenantCli('revoke', id, 'clinic-a', 'nurse-1')).code).toBe(0);
    expect(tenant && (await getApp().scopes.scopesOf(tenant, 'nurse-1'))).toEqual([]);
    const again = await tenantCli('revoke', id, 'clinic-a', 'nurse-1');
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no grant of scope clinic-a');
    // None left: said so, not an empty output; a scope no grant can name: the reason, not the usage.
    expect((await tenantCli('grants', id)).stdout).toBe(`${id}: no scope grants\n`);
    const comma = await tenantCli('grant', id, 'a,b', 'nurse-1');
    expect(comma.code).toBe(1);
    expect(comma.stderr).toMatch(/^scope: must not contain "\/" or ","/m);
  });

  it('migrate --all: each tenant reported; exit 1 exactly when one fails (here: a database taken down)', async () => {
    // Prepare: two tenants of this test, one of them with its database out of reach.
    const [up, down] = [`cli-${randomBytes(4).toString('hex')}`, `cli-${randomBytes(4).toString('hex')}`];
    for (const id of [up, down]) expect((await tenantCli('create', id)).code).toBe(0);
    const db = (await getApp().tenants.find(down))?.databaseName ?? '';
    const name = pg.escapeIdentifier(db);
    await admin([
      `alter database ${name} with allow_connections false`,
      `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${db}'`,
      `alter database ${name} rename to ${pg.escapeIdentifier(`${db}_down`)}`,
    ]);
    let migrated: Run;
    try {
      // Act
      migrated = await tenantCli('migrate', '--all');
    } finally {
      await admin([
        `alter database ${pg.escapeIdentifier(`${db}_down`)} rename to ${name}`,
        `alter database ${name} with allow_connections true`,
      ]);
    }
    // Assess
    expect(migrated.code).toBe(1);
    expect(migrated.stdout).toMatch(new RegExp(`\\] ${up}: up to date$`, 'm'));
    expect(migrated.stdout).toMatch(new RegExp(`\\] ${down}: FAILED: `, 'm'));
    const summary = /^(\d+) migrated, (\d+) failed$/m.exec(migrated.stdout);
    expect(Number(summary?.[2])).toBeGreaterThanOrEqual(1);
    // Back up: the same command succeeds for it (exit 0 unless another test's tenant is down meanwhile).
    const after = await tenantCli('migrate', '--all');
    expect(after.stdout).toMatch(new RegExp(`\\] ${down}: up to date$`, 'm'));
    const failed = Number(/^\d+ migrated, (\d+) failed$/m.exec(after.stdout)?.[1]);
    expect(after.code).toBe(failed > 0 ? 1 : 0);
  });

  it('strategy: sets a tenant strategy the API reports; refuses bad input with exit 1 and the usage', async () => {
    const id = `cli-${randomBytes(4).toString('hex')}`;
    expect((await tenantCli('create', id)).code).toBe(0);
    const set = await tenantCli('strategy', id, 'PRODUCTION_LOGGED', 'SERVER_WINS');
    expect(set.code, set.stderr).toBe(0);
    const manager = await tokenFor(id, ['MANAGER'], 'u-cli-boss');
    expect((await api(manager, 'GET', 'v1/settings/conflict-strategies')).body.strategies).toMatchObject({
      PRODUCTION_LOGGED: 'SERVER_WINS',
    });
    const refusals = [
      ['strategy', id, 'PRODUCTION_LOGGED', 'LOUDEST_WINS'],
      ['strategy', 'no-such-tenant', 'PRODUCTION_LOGGED', 'LWW'],
      ['migrate'],
    ];
    for (const args of refusals) {
      const refused = await tenantCli(...args);
      expect(refused.code, args.join(' ')).toBe(1);
      expect(refused.stderr, args.join(' ')).toMatch(/usage:/);
    }
    expect((await api(manager, 'GET', 'v1/settings/conflict-strategies')).body.strategies).toMatchObject({
      PRODUCTION_LOGGED: 'SERVER_WINS',
    });
  });

  it('create --pack: installs the packs (SPEC v1.1) the API then lists; without --pack: oil-gas', async () => {
    // Prepare
    const id = `cli-${randomBytes(4).toString('hex')}`;
    const plain = `cli-${randomBytes(4).toString('hex')}`;
    // Act
    const created = await tenantCli('create', id, '--pack', 'clinic', '--pack', 'facilities');
    const defaulted = await tenantCli('create', plain);
    // Assess
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^ {2}pack clinic: encounters created$/m);
    expect(created.stdout).toMatch(/^ {2}pack facilities: spatial_anchors created$/m);
    const seen = await api(await tokenFor(id, ['OPERATOR'], 'u-cli'), 'GET', 'v1/schema');
    expect(seen.body.packs).toEqual(['facilities', 'clinic']);
    expect(seen.body.collections.map((c: { name: string }) => c.name)).toEqual([
      'buildings',
      'encounters',
      'equipment',
      'patients',
      'spatial_anchors',
    ]);
    expect(seen.body.schemaVersion).toBe(5);
    expect(defaulted.code, defaulted.stderr).toBe(0);
    const v1 = await api(await tokenFor(plain, ['OPERATOR'], 'u-cli'), 'GET', 'v1/schema');
    expect(v1.body.packs).toEqual(['oil-gas']);
    expect(v1.body.collections.every((c: { builtin: boolean }) => c.builtin)).toBe(true);
  });

  it('create --pack combines oil-gas and facilities (the v1 well equipment is well_equipment), refuses unknown packs', async () => {
    const both = `cli-${randomBytes(4).toString('hex')}`;
    const created = await tenantCli('create', both, '--pack', 'oil-gas', '--pack', 'facilities');
    expect(created.code, created.stderr).toBe(0);
    const seen = await api(await tokenFor(both, ['OPERATOR'], 'u-cli'), 'GET', 'v1/schema');
    expect(
      seen.body.collections
        .filter((c: { name: string }) => c.name.endsWith('equipment'))
        .map((c: { name: string; pack: string; builtin: boolean }) => [c.name, c.pack, c.builtin]),
    ).toEqual([
      ['equipment', 'facilities', false],
      ['well_equipment', 'oil-gas', true],
    ]);
    const unknown = await tenantCli('create', `cli-${randomBytes(4).toString('hex')}`, '--pack', 'bakery');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown pack\(s\) bakery/);
  });

  it('schema <id> <file>: puts every collection; prints refusals with their reasons and exits 1', async () => {
    // Prepare: a clinic tenant and a file adding a collection, widening patients, and breaking encounters
    const id = `cli-${randomBytes(4).toString('hex')}`;
    expect((await tenantCli('create', id, '--pack', 'clinic')).code).toBe(0);
    const { loadPack } = await import('../../shared/packs/packs.js');
    const clinic = loadPack('clinic').collections;
    const patients = structuredClone(clinic.patients) as { schema: { properties: Record<string, unknown> } };
    patients.schema.properties.bloodGroup = { type: 'string' };
    const encounters = structuredClone(clinic.encounters) as {
      schema: { properties: Record<string, unknown> };
    };
    delete encounters.schema.properties.diagnosis;
    const dir = mkdtempSync(join(tmpdir(), 'fieldsync-schema-'));
    const file = join(dir, 'schema.json');
    const goodFile = join(dir, 'good.json');
    const referrals = {
      schema: { type: 'object', properties: { clinicId: { type: 'string' } } },
      scope: 'clinicId',
    };
    writeFileSync(file, JSON.stringify({ collections: { referrals, patients, encounters } }));
    writeFileSync(goodFile, JSON.stringify({ referrals }));
    try {
      // Act
      const run1 = await tenantCli('schema', id, file);
      const run2 = await tenantCli('schema', id, goodFile);
      // Assess
      expect(run1.code, run1.stderr).toBe(1);
      expect(run1.stdout).toMatch(/^referrals: created, version 1 \(schema version 3\)$/m);
      expect(run1.stdout).toMatch(/^patients: updated, version 2 \(schema version 4\)$/m);
      expect(run1.stdout).toMatch(/^encounters: REFUSED \(SCHEMA_INCOMPATIBLE\)/m);
      expect(run1.stdout).toMatch(/^ {4}schema\.properties\.diagnosis: property diagnosis removed/m);
      expect(run2.code, run2.stderr).toBe(0);
      expect(run2.stdout).toMatch(/^referrals: unchanged, version 1 \(schema version 4\)$/m);
      const seen = await api(await tokenFor(id, ['OPERATOR'], 'u-cli'), 'GET', 'v1/schema');
      expect(seen.body.schemaVersion).toBe(4);
      expect(seen.body.collections.find((c: { name: string }) => c.name === 'encounters').version).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run dlq', { timeout: 120_000 }, () => {
  it('list prints a dead letter of the sync queue; replay sends it back (exit 0), after which none is left', async () => {
    // Prepare: a sync queue of this test's own (SYNC_QUEUE_NAME), so the host's processor never takes its
    // replayed message. One delivery, which fails: dead-lettered (and kept: nothing consumes dead letters).
    const queueName = `cli-dlq-${randomBytes(4).toString('hex')}`;
    const env = { SYNC_QUEUE_NAME: queueName };
    const queue = new LocalQueue({
      connection: settings.POSTGRES_URL ?? '',
      queue: { queueName, maxDeliveryCount: 1, lockSeconds: 30, dedupeWindowSeconds: 3600 },
      log: { info: () => {}, warn: () => {}, error: () => {} },
    });
    const tenantId = `t-${randomBytes(3).toString('hex')}`;
    const body = {
      tenantId,
      batchId: randomUUID(),
      deviceId: 'dev-dlq',
      eventIds: [randomUUID()],
      reason: 'push' as const,
    };
    const message: OutgoingMessage = {
      messageId: randomUUID(),
      body,
      applicationProperties: { tenantId, deviceId: 'dev-dlq', batchId: body.batchId, reason: 'push' },
    };
    const replayed: unknown[] = [];
    try {
      const failing = await queue.subscribe(queueName, async () => {
        throw new Error('tenant database down');
      });
      await queue.send([message]);
      await until('the dead letter', async () => (await queue.list({ tenantId })).length === 1);
      await failing.stop();

      // Act + assess
      const listed = await run('local/dlq-cli.js', ['list', '--tenant', tenantId], env);
      expect(listed.code, listed.stderr).toBe(0);
      const lines = listed.stdout.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]?.split('\t')).toEqual(
        expect.arrayContaining([
          message.messageId,
          `tenant=${tenantId}`,
          `batch=${body.batchId}`,
          'device=dev-dlq',
          'reason=MaxDeliveryCountExceeded',
        ]),
      );
      expect(listed.stderr).toMatch(/^1 dead letter\(s\)$/m);
      const otherTenant = await run('local/dlq-cli.js', ['list', '--tenant', 'nobody'], env);
      expect([otherTenant.code, otherTenant.stdout]).toEqual([0, '']);

      const replay = await run('local/dlq-cli.js', ['replay', '--tenant', tenantId], env);
      expect(replay.code, replay.stderr).toBe(0);
      expect(replay.stdout).toMatch(/^1 dead letter\(s\) replayed$/m);
      await queue.subscribe(queueName, async (delivery) => {
        replayed.push(delivery.body);
      });
      await until('the replayed message', async () => replayed.length === 1);
      expect(replayed[0]).toEqual({ ...body, reason: 'replay' });
      const empty = await run('local/dlq-cli.js', ['list', '--tenant', tenantId], env);
      expect([empty.code, empty.stdout, empty.stderr]).toEqual([0, '', '0 dead letter(s)\n']);

      const bad = await run('local/dlq-cli.js', ['list', '--max', '0'], env);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/--max must be a positive integer/);
    } finally {
      await queue.stop();
    }
  });
});
