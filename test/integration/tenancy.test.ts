import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PoolCache } from '../../shared/adapters/postgres/pools.js';
import { closeApp, getApp } from '../../shared/app.js';
import { ValidationError } from '../../shared/errors.js';
import { migrateAllTenants, provisionTenant, tenantDatabaseName } from '../../shared/usecases/tenants.js';
import { onlyTenants, unregisterTenant } from '../support/tenants.js';

afterAll(() => closeApp());

const newId = () => `tn-${randomBytes(4).toString('hex')}`;
const tables = async (pool: pg.Pool) =>
  (
    await pool.query<{ t: string }>(
      "select tablename as t from pg_tables where schemaname = 'public' order by 1",
    )
  ).rows.map((r) => r.t);

describe('tenant provisioning', () => {
  it('creates the database, migrates it and registers it; a second run changes nothing', async () => {
    // Prepare
    const app = getApp();
    const id = newId();
    expect(await app.tenants.find(id)).toBeUndefined();
    // Act
    const first = await provisionTenant(app, id, 'First Co');
    const second = await provisionTenant(app, id);
    // Assess
    expect(first.databaseCreated).toBe(true);
    expect(first.migrationsApplied.length).toBeGreaterThan(0);
    expect(first.tenant).toMatchObject({
      id,
      databaseName: tenantDatabaseName(id),
      status: 'ACTIVE',
      displayName: 'First Co',
    });
    expect(second).toMatchObject({ databaseCreated: false, migrationsApplied: [] });
    expect(await tables(app.tenantPool(first.tenant))).toEqual(
      expect.arrayContaining(['wells', 'equipment', 'users', 'pgmigrations']),
    );
    expect((await app.tenants.list()).map((t) => t.id)).toContain(id);
  });

  it('refuses tenant ids that could not map to a database name one-to-one', async () => {
    for (const bad of ['ACME', 'a_b', 'x', '-acme', 'acme-', "acme';drop", 'é-tenant']) {
      await expect(provisionTenant(getApp(), bad)).rejects.toBeInstanceOf(ValidationError);
    }
  });

  it('migrates every tenant with progress, going on past a broken one', async () => {
    const app = getApp();
    const good = newId();
    await provisionTenant(app, good);
    // A registered tenant whose database is missing: its migration fails, the others still run.
    const broken = newId();
    await app.tenants.register({ id: broken, databaseName: tenantDatabaseName(broken), server: 'primary' });
    const progress: { tenantId: string; error?: string; index: number; total: number }[] = [];
    try {
      // Over this test's two tenants only: other files provision and migrate theirs at the same time.
      const summary = await migrateAllTenants(
        { ...app, tenants: onlyTenants(app.tenants, [good, broken]) },
        (p) => progress.push(p),
      );
      expect(summary).toEqual({ migrated: 1, failed: 1 });
      expect(progress.map((p) => [p.tenantId, p.index, p.total])).toEqual(
        [good, broken].sort().map((id, i) => [id, i + 1, 2]),
      );
      expect(progress.find((p) => p.tenantId === good)?.error).toBeUndefined();
      expect(progress.find((p) => p.tenantId === broken)?.error).toMatch(/database \S+ does not exist/);
    } finally {
      // Unregister the broken tenant: no other file's job that walks every tenant should meet it.
      await unregisterTenant(broken);
    }
  });
});

describe('tenant pools', () => {
  it('are made on first use, kept small, and closed once idle', async () => {
    const url = process.env.POSTGRES_URL ?? '';
    const cache = new PoolCache(
      ({ databaseName }) => ({ connectionString: url.replace(/\/[^/]*$/, `/${databaseName}`) }),
      {
        max: 2,
        idleMillis: 60_000,
      },
    );
    try {
      expect(cache.size).toBe(0);
      const pool = cache.get({ server: 'primary', databaseName: 'fieldsync' });
      expect(cache.get({ server: 'primary', databaseName: 'fieldsync' })).toBe(pool);
      await Promise.all([1, 2, 3, 4].map(() => pool.query('select pg_sleep(0.05)')));
      expect(pool.totalCount).toBeLessThanOrEqual(2);
      expect(cache.size).toBe(1);
      // Closed once idle for idleMillis, on the clock closeIdle is given: not yet now, and then a minute on.
      await cache.closeIdle();
      expect(cache.size).toBe(1);
      await cache.closeIdle(Date.now() + 60_000);
      expect(cache.size).toBe(0);
      expect(pool.ended).toBe(true);
    } finally {
      await cache.closeAll();
    }
  });
});
