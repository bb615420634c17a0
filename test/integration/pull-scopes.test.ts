import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pullSync } from '../../functions/sync-pull.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { PullResponse, RecordEntity } from '../../shared/contracts/pull.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { tokenFor } from '../support/auth.js';
import { call } from '../support/http.js';
import { freshTenant } from '../support/tenants.js';
import { pullHorizonPassed } from '../support/wait.js';

// Selective sync (SPEC v1.1 "Scopes", docs/selective-sync.md) through the pull route: collections and
// records are written with SQL into the test's own tenant (the records trigger logs each change, as the
// record engine's writes will), devices follow cursors, and each device's copy — records upserted, records
// deleted — is compared with what it should hold. Scope B's records carry the marker "secret-b" in their
// data: an operator granted only A must never see it, nor any id of B, in any answer.
let tenant: Tenant;
let pool: pg.Pool;

beforeAll(async () => {
  tenant = await freshTenant('pscope');
  pool = getApp().tenantPool(tenant);
  await pool.query(`
    insert into sync_collections (name, schema, scope_field) values
      ('patients', '{"type":"object"}', 'clinicId'),
      ('visits', '{"type":"object"}', 'clinicId'),
      ('leaflets', '{"type":"object"}', null);
    insert into sync_schema_changes (schema_version, collection, collection_version, definition) values
      (1, 'patients', 1, '{}'), (2, 'visits', 1, '{}'), (3, 'leaflets', 1, '{}');`);
  for (const [id, scope] of [
    ['p-a1', 'A'],
    ['p-a2', 'A'],
    ['p-a3', 'A'],
    ['p-a4', 'A'],
    ['p-b1', 'B'],
    ['p-b2', 'B'],
    ['p-b3', 'B'],
    ['p-none', null],
  ] as const) {
    await insert('patients', id, scope);
  }
  await insert('visits', 'v-a1', 'A');
  await insert('visits', 'v-b1', 'B');
  await insert('leaflets', 'l-1', null);
  await insert('leaflets', 'l-2', null);
  // v1 entities too: the snapshot sends them first, then the records, within the same page size.
  for (const id of ['well-1', 'well-2']) {
    await getApp().referenceData.upsertWell(tenant, id, {
      name: id,
      apiNumber: `42-${id}`,
      latitude: 31,
      longitude: -102,
      status: 'ACTIVE',
    });
  }
});
afterAll(() => closeApp());

const dataOf = (id: string, scope: string | null) => ({
  name: `${id}${scope === 'B' ? ' secret-b' : ''}`,
  ...(scope === null ? {} : { clinicId: scope }),
});

async function insert(collection: string, id: string, scope: string | null): Promise<void> {
  await pool.query('insert into records (collection, id, data, scope) values ($1, $2, $3, $4)', [
    collection,
    id,
    dataOf(id, scope),
    scope,
  ]);
}

/** Moves a record to another scope (its scope field and the copied-out column), as an update would. */
async function move(collection: string, id: string, scope: string): Promise<void> {
  await pool.query(
    `update records set scope = $3, data = $4, version = version + 1, updated_at = now()
     where collection = $1 and id = $2`,
    [collection, id, scope, dataOf(id, scope)],
  );
}

async function grant(scope: string, userId: string): Promise<void> {
  await getApp().scopes.grant(tenant, scope, userId, 'test');
}

/** Every change committed so far is visible to a pull (support/wait.ts). */
const horizon = () => pullHorizonPassed(pool);

/** One device: its cursor, its copy of the records (`collection/id` → record), and every answer's text. */
class Device {
  cursor: string | undefined;
  readonly held = new Map<string, RecordEntity>();
  readonly texts: string[] = [];
  readonly deletedIds: string[] = [];
  readonly pages: PullResponse[] = [];

  constructor(
    readonly id: string,
    private readonly token: string,
  ) {}

  /** Follows the cursor until hasMore is false, with `query` (e.g. `&scopes=A`) on every page. */
  async sync(query = '', limit = 3): Promise<void> {
    for (let n = 0; n < 200; n += 1) {
      const cursor = this.cursor ? `&cursor=${encodeURIComponent(this.cursor)}` : '';
      const response = await call(pullSync, {
        url: `http://localhost/api/v1/sync/pull?deviceId=${this.id}&limit=${limit}${query}${cursor}`,
        token: this.token,
      });
      expect(response.status, response.text).toBe(200);
      const page = response.body as PullResponse;
      this.texts.push(response.text);
      this.pages.push(page);
      for (const d of page.deleted) {
        if (d.type !== 'RECORD') continue;
        this.deletedIds.push(d.id);
        this.held.delete(`${d.collection}/${d.id}`);
      }
      for (const r of page.records) this.held.set(`${r.collection}/${r.id}`, r);
      this.cursor = page.nextCursor;
      if (!page.hasMore) return;
    }
    throw new Error('no end of pages');
  }

  keys(): string[] {
    return [...this.held.keys()].sort();
  }
}

/** What a device holding these collections and scopes must have, from the database (live records). */
async function expected(collections: string[], scopes: string[] | null): Promise<string[]> {
  const { rows } = await pool.query<{ key: string }>(
    `select r.collection || '/' || r.id as key from records r join sync_collections c on c.name = r.collection
     where r.deleted_at is null and r.collection = any($1)
       and (c.scope_field is null or $2::text[] is null or r.scope = any($2))
     order by 1`,
    [collections, scopes],
  );
  return rows.map((r) => r.key);
}

const ALL = ['leaflets', 'patients', 'visits'];

describe('selective pull', () => {
  it('an OPERATOR granted A never gets B: not in the snapshot, not in the delta, not even an id', async () => {
    await grant('A', 'op-a');
    await horizon();
    const device = new Device('dev-a', await tokenFor(tenant.id, ['OPERATOR'], 'op-a'));
    // Asking for B too changes nothing: a scope that is not granted is not served.
    await device.sync('&scopes=A,B');
    expect(device.keys()).toEqual(await expected(ALL, ['A']));
    expect(device.pages.at(-1)?.schemaVersion).toBe(3);
    expect(device.pages.flatMap((p) => p.wells.map((w) => w.id)).sort()).toEqual(['well-1', 'well-2']);
    for (const p of device.pages) {
      const items = p.wells.length + p.equipment.length + p.users.length + p.production.length;
      expect(items + p.records.length + p.deleted.length).toBeLessThanOrEqual(3);
    }
    // Changes in both scopes, a record deleted in B.
    await insert('patients', 'p-a9', 'A');
    await insert('patients', 'p-b9', 'B');
    await pool.query(
      `update records set data = data || '{"note":"secret-b"}', version = version + 1 where id = 'p-b2'`,
    );
    await pool.query(`update records set deleted_at = now(), version = version + 1 where id = 'p-b3'`);
    await horizon();
    await device.sync('&scopes=A,B');
    expect(device.keys()).toEqual(await expected(ALL, ['A']));
    expect(device.keys()).toContain('patients/p-a9');
    const everything = device.texts.join('\n');
    expect(everything).not.toContain('secret-b');
    expect(everything).not.toMatch(/p-b\d|v-b1|p-none/);
  });

  it('a revoked grant arrives as deletions of its records; granted again, as a snapshot of them', async () => {
    await grant('A', 'op-x');
    await grant('B', 'op-x');
    await horizon();
    const token = await tokenFor(tenant.id, ['OPERATOR'], 'op-x');
    const device = new Device('dev-x', token);
    await device.sync();
    expect(device.keys()).toEqual(await expected(ALL, ['A', 'B']));

    await getApp().scopes.revoke(tenant, 'B', 'op-x');
    const seenBefore = device.texts.length;
    await device.sync();
    expect(device.keys()).toEqual(await expected(ALL, ['A']));
    const afterRevoke = device.texts.slice(seenBefore).join('\n');
    expect(afterRevoke).not.toContain('secret-b'); // only ids of B, never data
    for (const key of await expected(['patients', 'visits'], ['B'])) {
      expect(device.deletedIds).toContain(key.split('/')[1]);
    }

    await grant('B', 'op-x');
    await device.sync();
    expect(device.keys()).toEqual(await expected(ALL, ['A', 'B']));
  });

  it('a record whose scope moves A → B: a deletion on the A device, an upsert on the B device', async () => {
    await grant('A', 'op-a2');
    await grant('B', 'op-b2');
    await horizon();
    const a = new Device('dev-a2', await tokenFor(tenant.id, ['OPERATOR'], 'op-a2'));
    const b = new Device('dev-b2', await tokenFor(tenant.id, ['OPERATOR'], 'op-b2'));
    await a.sync();
    await b.sync();
    expect(a.keys()).toContain('patients/p-a1');
    expect(b.keys()).not.toContain('patients/p-a1');

    await move('patients', 'p-a1', 'B');
    await horizon();
    const aPages = a.pages.length;
    await a.sync();
    await b.sync();
    expect(a.keys()).not.toContain('patients/p-a1');
    expect(a.pages.slice(aPages).flatMap((p) => p.deleted)).toContainEqual({
      type: 'RECORD',
      collection: 'patients',
      id: 'p-a1',
    });
    expect(b.held.get('patients/p-a1')?.data).toEqual({ name: 'p-a1 secret-b', clinicId: 'B' });
    expect(a.keys()).toEqual(await expected(ALL, ['A']));
    expect(b.keys()).toEqual(await expected(ALL, ['B']));
    // And back: the B device loses it, the A device gets it again.
    await move('patients', 'p-a1', 'A');
    await horizon();
    await a.sync();
    await b.sync();
    expect(a.keys()).toEqual(await expected(ALL, ['A']));
    expect(b.keys()).toEqual(await expected(ALL, ['B']));
  });

  it('collections and scopes filters: a manager narrows and widens what a device holds', async () => {
    const device = new Device('dev-m', await tokenFor(tenant.id, ['MANAGER'], 'boss'));
    await horizon();
    await device.sync('&collections=leaflets');
    expect(device.keys()).toEqual(await expected(['leaflets'], null));
    // Widen: patients of A join as a snapshot.
    await device.sync('&collections=leaflets,patients&scopes=A');
    expect(device.keys()).toEqual(await expected(['leaflets', 'patients'], ['A']));
    // Narrow: leaflets leave as deletions.
    await device.sync('&collections=patients&scopes=A');
    expect(device.keys()).toEqual(await expected(['patients'], ['A']));
    // Everything (a manager's default: every scope, scope-less records of a scoped collection included).
    await device.sync();
    expect(device.keys()).toEqual(await expected(ALL, null));
    expect(device.keys()).toContain('patients/p-none');

    // The held sets a cursor names are kept server-side: one pruned (unused past the retention) cannot be
    // diffed against, so a change of set with that cursor is a 410 RESYNC_REQUIRED, as an old cursor is.
    await pool.query('delete from pull_held_sets');
    const gone = await call(pullSync, {
      url: `http://localhost/api/v1/sync/pull?deviceId=dev-m&scopes=B&cursor=${encodeURIComponent(device.cursor ?? '')}`,
      token: await tokenFor(tenant.id, ['MANAGER'], 'boss'),
    });
    expect(gone.status).toBe(410);
    expect(gone.body).toMatchObject({ code: 'RESYNC_REQUIRED' });
    // The same set as the cursor's needs no lookup: the delta goes on.
    await device.sync();
    expect(device.keys()).toEqual(await expected(ALL, null));

    const unknown = await call(pullSync, {
      url: 'http://localhost/api/v1/sync/pull?deviceId=dev-m&collections=patients,nope',
      token: await tokenFor(tenant.id, ['MANAGER'], 'boss'),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ errors: [{ path: 'collections' }] });
    // An empty list, or a scope no grant could name, would silently sync nothing: refused with its parameter.
    for (const [query, path] of [
      ['collections=', 'collections'],
      ['scopes=,', 'scopes'],
      ['scopes=a%2Fb', 'scopes[0]'],
    ] as const) {
      const refused = await call(pullSync, {
        url: `http://localhost/api/v1/sync/pull?deviceId=dev-m&${query}`,
        token: await tokenFor(tenant.id, ['MANAGER'], 'boss'),
      });
      expect(refused.status, query).toBe(400);
      expect(refused.body, query).toMatchObject({ errors: [{ path }] });
    }
  });
});
