import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { health } from '../../functions/health.js';
import { pullSync } from '../../functions/sync-pull.js';
import { migrateControlDatabase } from '../../local/bootstrap.js';
import { type RunningStack, startLocalStack } from '../../local/stack.js';
import { closeApp, getApp } from '../../shared/app.js';
import { loadConfig } from '../../shared/config.js';
import type { PullResponse } from '../../shared/contracts/pull.js';
import { DependencyUnavailableError, ValidationError } from '../../shared/errors.js';
import type { TenantDatabaseAdmin, TenantRegistry } from '../../shared/usecases/ports/tenancy.js';
import { placementOrder, provisionTenant } from '../../shared/usecases/tenants.js';
import { tokenFor } from '../support/auth.js';
import { daysAgo, production } from '../support/events.js';
import { call } from '../support/http.js';
import { freePort } from '../support/ports.js';
import { ownSyncProcessor } from '../support/processor.js';
import { push, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// Issue 17 item 6: tenants on two Postgres servers. This file has its own control database (its own
// registry, so placement counts only its tenants and no other file's job meets a tenant on a server it does
// not know) on the run's server, "primary", and a second embedded Postgres, "second", that it starts on a
// free loopback port and stops.
const outer = { POSTGRES_URL: process.env.POSTGRES_URL ?? '' };
const control = `fieldsync_ctl_${randomBytes(4).toString('hex')}`;
const dataDir = mkdtempSync(join(tmpdir(), 'fieldsync-servers-'));
let stack: RunningStack | undefined;
/** Every tenant this file made (their databases on primary are dropped at the end). */
const made: string[] = [];
const newId = (prefix: string) => {
  const id = `${prefix}-${randomBytes(4).toString('hex')}`;
  made.push(id);
  return id;
};

async function onPrimary<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: outer.POSTGRES_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

// Before ownSyncProcessor's hook builds the App: point it at this file's control database and both servers.
beforeAll(async () => {
  await onPrimary((c) => c.query(`create database ${pg.escapeIdentifier(control)}`));
  const url = new URL(outer.POSTGRES_URL);
  url.pathname = `/${control}`;
  process.env.POSTGRES_URL = url.toString();
  stack = await startLocalStack({
    dataDir,
    ports: { postgres: 0, blob: 0, cosmos: 0 },
    given: { POSTGRES_URL: process.env.POSTGRES_URL },
    services: ['postgres'],
    extraServers: [{ name: 'second', port: await freePort() }],
  });
  Object.assign(process.env, stack.settings);
  await migrateControlDatabase(loadConfig(process.env));
  await closeApp();
}, 120_000);
ownSyncProcessor('servers');

afterAll(async () => {
  await closeApp();
  await stack?.stop();
  await onPrimary(async (c) => {
    for (const id of made) {
      await c.query(
        `drop database if exists ${pg.escapeIdentifier(`fieldsync_tenant_${id.replaceAll('-', '_')}`)} with (force)`,
      );
    }
    await c.query(`drop database if exists ${pg.escapeIdentifier(control)} with (force)`);
  });
  process.env.POSTGRES_URL = outer.POSTGRES_URL;
  delete process.env.POSTGRES_SERVERS;
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

describe('placement order (pure)', () => {
  it('puts the servers with fewest tenants first, ties by name, and drops none', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(5), { minLength: 6, maxLength: 6 }),
        (servers, loads) => {
          const counts = new Map(servers.map((s, i) => [s, loads[i] ?? 0]));
          const order = placementOrder(servers, counts);
          expect([...order].sort()).toEqual([...servers].sort());
          for (let i = 1; i < order.length; i += 1) {
            const [a, b] = [order[i - 1] ?? '', order[i] ?? ''];
            const [ca, cb] = [counts.get(a) ?? 0, counts.get(b) ?? 0];
            expect(ca < cb || (ca === cb && a < b)).toBe(true);
          }
        },
      ),
    );
  });

  it('skips a server that does not answer, and names every one tried when none does', async () => {
    const tried: string[] = [];
    const admin: TenantDatabaseAdmin = {
      servers: ['a', 'b'],
      ensureDatabase: ({ server }) => {
        tried.push(server);
        return Promise.reject(new DependencyUnavailableError(`postgres server ${server}`));
      },
      migrate: () => Promise.reject(new Error('unused')),
    };
    const tenants = { find: async () => undefined, countByServer: async () => new Map([['a', 3]]) };
    const error: unknown = await provisionTenant(
      { tenantAdmin: admin, tenants: tenants as unknown as TenantRegistry, schemas: undefined as never },
      'nowhere-1',
    ).catch((e: unknown) => e);
    expect(tried).toEqual(['b', 'a']);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toMatch(/no Postgres server is reachable .*tried b, a/);
  });
});

describe('tenants on two servers', () => {
  let onPrimaryTenant: SeededTenant;
  let onSecondTenant: SeededTenant;

  it('places new tenants on the least-loaded server, or the one asked for; a tenant stays where it is', async () => {
    const app = getApp();
    expect(app.tenantAdmin.servers).toEqual(['primary', 'second']);
    // A fresh registry: 0/0 → primary (by name), 1/0 → second, then alternating.
    const placed: string[] = [];
    for (let i = 0; i < 4; i += 1) placed.push((await provisionTenant(app, newId('place'))).tenant.server);
    expect(placed).toEqual(['primary', 'second', 'primary', 'second']);
    // Asked for: second (now 3 to primary's 2), then the next unplaced one evens it out on primary.
    const asked = await provisionTenant(app, newId('asked'), undefined, [], { server: 'second' });
    expect(asked.tenant.server).toBe('second');
    expect((await provisionTenant(app, newId('place'))).tenant.server).toBe('primary');
    expect(await app.tenants.countByServer()).toEqual(
      new Map([
        ['primary', 3],
        ['second', 3],
      ]),
    );
    // Provisioning again keeps the tenant where it is, whatever the load; moving is refused.
    const again = await provisionTenant(app, asked.tenant.id);
    expect(again.tenant).toMatchObject({ server: 'second', databaseName: asked.tenant.databaseName });
    expect(again.databaseCreated).toBe(false);
    await expect(
      provisionTenant(app, asked.tenant.id, undefined, [], { server: 'primary' }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      provisionTenant(app, newId('nowhere'), undefined, [], { server: 'third' }),
    ).rejects.toBeInstanceOf(ValidationError);
    // The database is on the server the registry names, and only there.
    const onSecond = await getApp()
      .tenantPool(asked.tenant)
      .query<{ port: number }>("select current_setting('port')::int as port");
    const [second] = JSON.parse(process.env.POSTGRES_SERVERS ?? '[]') as { url: string }[];
    expect(onSecond.rows[0]?.port).toBe(Number(new URL(second?.url ?? 'x:').port));
    const onPrimaryServer = await onPrimary((c) =>
      c.query('select 1 from pg_database where datname = $1', [asked.tenant.databaseName]),
    );
    expect(onPrimaryServer.rowCount).toBe(0);
  }, 120_000);

  it('pushes and pulls for tenants on both servers', async () => {
    // Three tenants on each server so far: the next goes to primary (by name), then second.
    onPrimaryTenant = await seededTenant('srv-a');
    made.push(onPrimaryTenant.tenant.id);
    onSecondTenant = await seededTenant('srv-b');
    made.push(onSecondTenant.tenant.id);
    expect([onPrimaryTenant.tenant.server, onSecondTenant.tenant.server]).toEqual(['primary', 'second']);
    for (const [t, volume] of [
      [onPrimaryTenant, 111],
      [onSecondTenant, 222],
    ] as const) {
      const token = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-servers');
      const pushed = await push(token, {
        deviceId: 'servers-1',
        events: [production(t.wellId, { oilVolume: volume })],
      });
      expect(pushed.status, pushed.text).toBe(202);
      const outcome = await settled(token, (pushed.body as { batchId: string }).batchId);
      expect(outcome.counts).toMatchObject({ total: 1, applied: 1 });
      const pulled = await call(pullSync, {
        url: 'http://localhost/api/v1/sync/pull?deviceId=servers-1',
        token,
      });
      expect(pulled.status, pulled.text).toBe(200);
      const body = pulled.body as PullResponse;
      expect(body.tenantId).toBe(t.tenant.id);
      expect(body.production.map((p) => p.oilVolume)).toEqual([volume]);
    }
  }, 120_000);

  it('a stopped server: its tenants get 503 with Retry-After, the other server’s tenants are unaffected', async () => {
    const down = onSecondTenant;
    const up = onPrimaryTenant;
    const app = getApp();
    // Two more on primary first (6 to second's 4), so that placement below would choose second if it could.
    for (let i = 0; i < 2; i += 1)
      await provisionTenant(app, newId('load'), undefined, [], { server: 'primary' });
    await stack?.stopServer('second');

    const downToken = await tokenFor(down.tenant.id, ['OPERATOR'], 'u-servers');
    const refused = await push(downToken, {
      deviceId: 'servers-1',
      events: [production(down.wellId, { oilVolume: 333 }, { productionDate: daysAgo(2) })],
    });
    expect(refused.status, refused.text).toBe(503);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    const refusedPull = await call(pullSync, {
      url: 'http://localhost/api/v1/sync/pull?deviceId=servers-1',
      token: downToken,
    });
    expect(refusedPull.status).toBe(503);
    expect(refusedPull.headers['retry-after']).toMatch(/^\d+$/);

    const upToken = await tokenFor(up.tenant.id, ['OPERATOR'], 'u-servers');
    const pushed = await push(upToken, {
      deviceId: 'servers-1',
      events: [production(up.wellId, { oilVolume: 444 }, { productionDate: daysAgo(2) })],
    });
    expect(pushed.status, pushed.text).toBe(202);
    const outcome = await settled(upToken, (pushed.body as { batchId: string }).batchId);
    expect(outcome.counts).toMatchObject({ total: 1, applied: 1 });
    const pulled = await call(pullSync, {
      url: 'http://localhost/api/v1/sync/pull?deviceId=servers-2',
      token: upToken,
    });
    expect(pulled.status, pulled.text).toBe(200);
    expect((pulled.body as PullResponse).production.map((p) => p.oilVolume).sort()).toEqual([111, 444]);

    // Health names the server that is down; the control server is up.
    const checked = await call(health, { url: 'http://localhost/api/health' });
    expect(checked.status).toBe(503);
    const checks = (checked.body as { checks: Record<string, { status: string }> }).checks;
    expect(checks.postgres?.status).toBe('up');
    expect(checks['postgres:second']?.status).toBe('down');

    // Placement skips the server that does not answer (second holds fewer tenants)...
    expect((await provisionTenant(app, newId('skip'))).tenant.server).toBe('primary');
    // ...and a tenant asked onto it is a 503-kind error naming it, not a registration.
    const asked = newId('asked-down');
    const error: unknown = await provisionTenant(app, asked, undefined, [], { server: 'second' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toMatch(/second/);
    expect(await app.tenants.find(asked)).toBeUndefined();
  }, 120_000);
});
