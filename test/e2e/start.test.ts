import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/ports.js';

// `npm start` as a new user runs it: its own embedded stack in a fresh data folder, nothing given.
const root = join(import.meta.dirname, '..', '..');
const dataDir = mkdtempSync(join(tmpdir(), 'fieldsync-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function start(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; output: () => string; url: string; token: string }> {
  const child = spawn(process.execPath, [join(root, 'dist', 'local', 'start.js')], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 60_000;
  while (!/Ctrl-C stops everything/.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`start failed:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = /serving \d+ functions at (\S+)/.exec(output)?.[1] ?? '';
  const token = /^(eyJ[\w-]+\.[\w-]+\.[\w-]+)$/m.exec(output)?.[1] ?? '';
  return { child, output: () => output, url, token };
}

const stopWithCtrlC = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGINT');
  });

/** Processes whose command line mentions the data folder (Postgres) or its ports (Azurite). */
const leftovers = (needle: string) =>
  execFileSync('ps', ['-eo', 'pid,args'])
    .toString()
    .split('\n')
    .filter((line) => line.includes(needle) && !line.includes('ps -eo'));

/** The settings of one `npm start` run: this file's data folder and free loopback ports for its servers. */
const startEnv = async () => ({
  FIELDSYNC_DATA_DIR: dataDir,
  PORT: String(await freePort()),
  LOCAL_POSTGRES_PORT: String(await freePort()),
  LOCAL_BLOB_PORT: String(await freePort()),
  LOCAL_COSMOS_PORT: String(await freePort()),
});

describe('npm start', () => {
  it('prints the base URL and a working token, stops cleanly on Ctrl-C, and keeps data across restarts', async () => {
    const env = await startEnv();
    const first = await start(env);
    expect(first.url).toBe(`http://127.0.0.1:${env.PORT}/api`);
    // The README's sample output names the number of functions start serves now (it drifted once: 43 vs 49).
    const served = /serving (\d+) functions/.exec(first.output())?.[1];
    const documented = /serving (\d+) functions/.exec(readFileSync(join(root, 'README.md'), 'utf8'))?.[1];
    expect(served).toBeDefined();
    expect(documented).toBe(served);
    // The printed sample token is what it says it is: tenant acme, user u-operator-1, an operator, not expired.
    const claims = JSON.parse(Buffer.from(first.token.split('.')[1] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({ tid: 'acme', sub: 'u-operator-1', roles: ['OPERATOR'] });
    expect(Number(claims.exp) * 1000).toBeGreaterThan(Date.now());
    expect((await fetch(`${first.url}/health`)).status).toBe(200);

    // The managers' console URL: the page is served, and the token rides in the fragment (never sent to a
    // server) as acme's demo manager, whom the API accepts for a manager's read.
    const consoleUrl = /managers' console \(.*\): (\S+)/.exec(first.output())?.[1] ?? '';
    const [page, fragment = ''] = consoleUrl.split('#');
    expect(page).toBe(`${first.url}/console/`);
    expect((await fetch(page ?? '')).headers.get('content-type')).toBe('text/html; charset=utf-8');
    const consoleToken = /^token=(eyJ[\w-]+\.[\w-]+\.[\w-]+)$/.exec(fragment)?.[1] ?? '';
    expect(JSON.parse(Buffer.from(consoleToken.split('.')[1] ?? '', 'base64url').toString())).toMatchObject({
      tid: 'acme',
      sub: 'u-manager-1',
      roles: ['MANAGER'],
    });
    const devices = await fetch(`${first.url}/v1/devices`, {
      headers: { authorization: `Bearer ${consoleToken}` },
    });
    expect(devices.status).toBe(200);

    // The printed token works, and a write made now must survive the restart.
    const managerToken = execFileSync(
      process.execPath,
      [join(root, 'dist', 'local', 'token-cli.js'), '--tenant', 'acme', '--user', 'm1', '--role', 'MANAGER'],
      {
        env: { PATH: process.env.PATH ?? '', FIELDSYNC_DATA_DIR: dataDir },
      },
    )
      .toString()
      .trim();
    expect(managerToken).toMatch(/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/);
    const put = await fetch(`${first.url}/v1/wells/kept-well`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${managerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Kept',
        apiNumber: '42-111-22222',
        latitude: 31,
        longitude: -102,
        status: 'ACTIVE',
      }),
    });
    expect(put.status).toBe(201);
    const asOperator = await fetch(`${first.url}/v1/wells/kept-well`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(asOperator.status).toBe(403); // the sample token is valid (not 401) and is an operator's

    // A demo tenant per pack (SPEC v1.1), with its collections and a little data over two scopes.
    const demoToken = (tenant: string, user = 'd1') =>
      execFileSync(
        process.execPath,
        [
          join(root, 'dist', 'local', 'token-cli.js'),
          '--tenant',
          tenant,
          '--user',
          user,
          '--role',
          'OPERATOR',
        ],
        { env: { PATH: process.env.PATH ?? '', FIELDSYNC_DATA_DIR: dataDir } },
      )
        .toString()
        .trim();
    for (const [tenant, pack, collections] of [
      ['clinic-demo', 'clinic', ['encounters', 'patients']],
      ['facilities-demo', 'facilities', ['buildings', 'equipment', 'spatial_anchors']],
      ['acme', 'oil-gas', ['production', 'users', 'well_equipment', 'wells']],
    ] as const) {
      const schema = await fetch(`${first.url}/v1/schema`, {
        headers: { authorization: `Bearer ${demoToken(tenant)}` },
      });
      expect(schema.status, tenant).toBe(200);
      const body = (await schema.json()) as { packs: string[]; collections: { name: string }[] };
      expect(body.packs, tenant).toEqual([pack]);
      expect(body.collections.map((c) => c.name)).toEqual(collections);
    }

    // The pack demo records are pushed by a demo manager's device and applied by the engine shortly after
    // start; each demo OPERATOR is granted one scope and pulls only it (the printed help names them).
    for (const [tenant, user, field, scope, count] of [
      ['clinic-demo', 'u-nurse-1', 'clinicId', 'clinic-north', 3],
      ['facilities-demo', 'u-tech-1', 'buildingId', 'bldg-hq', 5], // 2 buildings (unscoped) + 3 of bldg-hq
    ] as const) {
      expect(first.output()).toContain(`${user} OPERATOR [${scope}]`);
      const token = demoToken(tenant, user);
      let records: { data: Record<string, unknown> }[] = [];
      const deadline = Date.now() + 30_000;
      while (records.length < count && Date.now() < deadline) {
        const pulled = await fetch(`${first.url}/v1/sync/pull?deviceId=e2e-${user}&limit=100`, {
          headers: { authorization: `Bearer ${token}` },
        });
        expect(pulled.status, tenant).toBe(200);
        records = ((await pulled.json()) as { records: typeof records }).records;
        if (records.length < count) await new Promise((r) => setTimeout(r, 200));
      }
      expect(records, tenant).toHaveLength(count);
      for (const r of records) expect([undefined, scope], tenant).toContain(r.data[field]);
    }

    expect(await stopWithCtrlC(first.child)).toBe(0);
    expect(leftovers(dataDir)).toEqual([]);
    expect(leftovers(`--blobPort ${env.LOCAL_BLOB_PORT}`)).toEqual([]);

    const second = await start(env);
    const again = await fetch(`${second.url}/v1/wells/kept-well`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${managerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'Kept',
        apiNumber: '42-111-22222',
        latitude: 31,
        longitude: -102,
        status: 'ACTIVE',
      }),
    });
    expect(again.status).toBe(200); // replaced, not created: the row survived the restart
    expect(await stopWithCtrlC(second.child)).toBe(0);
    expect(leftovers(dataDir)).toEqual([]);
  }, 120_000);

  it('after kill -9, the next start stops the orphaned Azurite and Postgres servers and runs fresh ones (LOCAL_EXTRA_SERVERS too)', async () => {
    // Prepare: a run with a second Postgres server (LOCAL_EXTRA_SERVERS), killed as `kill -9` kills it.
    const secondPort = await freePort();
    const env = { ...(await startEnv()), LOCAL_EXTRA_SERVERS: `second:${secondPort}` };
    const azurites = () =>
      leftovers(`--blobPort ${env.LOCAL_BLOB_PORT}`).map((l) => Number(l.trim().split(/\s+/)[0]));
    const killed = await start(env);
    expect(killed.output()).toContain(`postgres second 127.0.0.1:${secondPort}`);
    const [orphan] = azurites();
    expect(orphan).toBeGreaterThan(0);
    await new Promise((resolve) => {
      killed.child.once('exit', resolve);
      killed.child.kill('SIGKILL');
    });
    // The crash left its children running: the situation the next start must clean up.
    expect(azurites()).toEqual([orphan]);
    expect(leftovers(join(dataDir, 'postgres-second')).length).toBeGreaterThan(0);

    // Act: start again on the same folder and ports.
    const next = await start(env);

    // Assess: the orphans were named and stopped, a new Azurite serves, the second server takes tenants.
    expect(next.output()).toContain(
      `stopping an Azurite server left running by an earlier run (pid ${orphan})`,
    );
    expect(next.output()).toContain('stopping a Postgres server left running by an earlier run');
    const [fresh] = azurites();
    expect(azurites()).toHaveLength(1);
    expect(fresh).not.toBe(orphan);
    expect(next.output()).toMatch(/"msg":"timer run by the local runner","function":"sweepOutbox"/);
    expect(next.output()).not.toMatch(/trigger not supported by the local host","function":"sweepOutbox/);
    const health = await fetch(`${next.url}/health`);
    expect(health.status).toBe(200);
    expect(JSON.stringify(await health.json())).toContain('postgres:second');
    const created = execFileSync(
      process.execPath,
      [join(root, 'dist', 'local', 'tenant-cli.js'), 'create', 'on-second', '--server', 'second'],
      { env: { PATH: process.env.PATH ?? '', ...env } },
    ).toString();
    expect(created).toMatch(/tenant on-second: .* on server second/);
    expect(await stopWithCtrlC(next.child)).toBe(0);
    expect(leftovers(dataDir)).toEqual([]);
    expect(azurites()).toEqual([]);
  }, 150_000);

  it('stops with a message naming a bad setting', async () => {
    const child = spawn(process.execPath, [join(root, 'dist', 'local', 'start.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        FIELDSYNC_DATA_DIR: dataDir,
        POSTGRES_URL: 'postgres://u:p@127.0.0.1:1/x',
        StorageConnection: 'UseDevelopmentStorage=true',
        CosmosConnection: 'AccountEndpoint=https://127.0.0.1:1/;AccountKey=a2V5;',
        TENANT_POOL_MAX: 'lots',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toMatch(/TENANT_POOL_MAX/);
  });
});
