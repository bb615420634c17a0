import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { PullResponse } from '../../shared/contracts/pull.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { pullPage } from '../../shared/usecases/pull.js';
import { freshTenant } from '../support/tenants.js';
import { waitFor } from '../support/wait.js';

// Many writers commit concurrently in random order — some hold their transaction open for a while, some
// roll back — while a reader follows pull cursors. The reader must end with every committed change and
// must never get the same change twice.
let tenant: Tenant;
const principal = { userId: 'reader', tenantId: '', roles: ['OPERATOR' as const] };

beforeAll(async () => {
  tenant = await freshTenant('pullc');
  principal.tenantId = tenant.id;
});
afterAll(() => closeApp());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pull cursors under concurrent writers', () => {
  it('deliver every committed change exactly once, whatever the commit order', async () => {
    const app = getApp();
    const pull = (cursor?: string) =>
      pullPage(app, tenant, principal, {
        deviceId: 'reader-device',
        limit: 37,
        ...(cursor ? { cursor } : {}),
      });

    // An empty snapshot first: from its cursor on, everything is a change.
    let page: PullResponse = await pull();
    while (page.hasMore) page = await pull(page.nextCursor);
    let cursor = page.nextCursor;

    const committed = new Set<string>();
    const aborted = new Set<string>();
    const seen: string[] = [];
    let writing = true;
    /** Each delta page the reader took: for the diagnosis printed when a change comes twice. */
    const log: { from: string; to: string; ids: string[] }[] = [];

    const writer = async (w: number) => {
      const client = new pg.Client({
        connectionString: process.env.POSTGRES_URL?.replace(/\/[^/]*$/, `/${tenant.databaseName}`),
      });
      await client.connect();
      try {
        for (let t = 0; t < 12; t += 1) {
          const ids = Array.from(
            { length: 1 + Math.floor(Math.random() * 6) },
            () => `w${w}-${t}-${randomBytes(3).toString('hex')}`,
          );
          await client.query('begin');
          await client.query(
            `insert into wells (id, name, api_number, latitude, longitude, status)
             select id, 'Well ' || id, 'API-' || id, 31, -102, 'ACTIVE' from unnest($1::text[]) id`,
            [ids],
          );
          // Random hold: most short, some long (commits land out of xid order).
          await sleep(Math.random() < 0.15 ? 300 + Math.random() * 700 : Math.random() * 40);
          if (Math.random() < 0.1) {
            await client.query('rollback');
            for (const id of ids) aborted.add(id);
          } else {
            await client.query('commit');
            for (const id of ids) committed.add(id);
          }
        }
      } finally {
        await client.end();
      }
    };

    const reader = async () => {
      while (writing) {
        let next: PullResponse;
        do {
          next = await pull(cursor);
          seen.push(...next.wells.map((w) => w.id));
          log.push({ from: cursor, to: next.nextCursor, ids: next.wells.map((w) => w.id) });
          cursor = next.nextCursor;
        } while (next.hasMore);
        await sleep(15);
      }
    };

    const readerDone = reader();
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    writing = false;
    await readerDone;
    // Final catch-up once every writer has finished. Transaction ids are cluster-wide: a transaction still
    // running in another database of the server (other test files) holds the visibility horizon back, so
    // the last changes may show up a little later — later, never skipped.
    await waitFor(
      async () => {
        let last: PullResponse;
        do {
          last = await pull(cursor);
          seen.push(...last.wells.map((w) => w.id));
          cursor = last.nextCursor;
        } while (last.hasMore);
        return seen.length >= committed.size;
      },
      { what: 'every committed change to be pulled', timeoutMs: 120_000, intervalMs: 100 },
    ).catch(() => undefined); // the assertions below name what is missing

    expect(committed.size).toBeGreaterThan(100);
    // On failure, name the pages that carried a change twice (cursor in, cursor out), to tell a cursor
    // that went back from a change recorded twice.
    const twice = seen.filter((id, i) => seen.indexOf(id) !== i);
    if (twice.length)
      console.log(
        'seen twice:',
        twice,
        JSON.stringify(log.filter((l) => twice.some((d) => l.ids.includes(d)))),
      );
    expect(new Set(seen).size).toBe(seen.length); // none twice
    expect(new Set(seen)).toEqual(committed); // every committed change, and nothing rolled back
    for (const id of aborted) expect(seen).not.toContain(id);
  }, 240_000);
});
