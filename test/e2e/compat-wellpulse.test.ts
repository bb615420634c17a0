import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { PullResponse } from '../../shared/contracts/pull.js';
import { api, pushSettled } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { daysAgo, production } from '../support/events.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';
import { waitFor } from '../support/wait.js';

// Seed document 001 ("Offline Sync API") served under /api/compat/wellpulse, over HTTP against the local
// Functions host: the flow its client performs (pull, record entries offline, push, push the same shift
// again, status, delta pull after others wrote), every field that client reads, and the same data seen
// through v1 in both directions.
const BASE = 'compat/wellpulse';
const TABLET = 'FIELD_TABLET_001';

interface WpPull {
  wells: Record<string, unknown>[];
  users: Record<string, unknown>[];
  lastSyncTimestamp: string;
  tenantId: string;
}
interface WpPush {
  succeeded: number;
  failed: number;
  conflicts: { entryId: string; wellId: string; recordedAt: string; reason: string; resolution: string }[];
  errors: { wellId: string; error: string }[];
  syncedAt: string;
}

let t: SeededTenant;
let operator: string; // the tablet's user
let operator2: string; // another crew member, on a v1 device
let manager: string;
let headers: Record<string, string>;

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const apiNumber = () => `42-${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  t = await seededTenant('wp');
  operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-wp-jake');
  operator2 = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-wp-maria');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-wp-boss');
  headers = { 'x-tenant-subdomain': t.tenant.id };
  await getApp().referenceData.upsertUsers(t.tenant, [
    {
      id: 'u-wp-jake',
      displayName: 'Jake Thompson',
      email: 'operator@permianpetroleum.com',
      role: 'OPERATOR',
    },
    { id: 'u-wp-boss', displayName: 'Pat Boss', email: null, role: 'MANAGER' },
  ]);
  const put = await api(manager, 'PUT', 'v1/wells/wp-well-2', {
    name: 'Spraberry Unit #2',
    apiNumber: apiNumber(),
    latitude: 31.99,
    longitude: -102.07,
    status: 'ACTIVE',
    lease: 'Spraberry Unit',
    field: 'Spraberry Trend',
    operator: 'Permian Petroleum LLC',
  });
  expect(put.status, put.text).toBe(201);
});
afterAll(() => closeApp());

const pull = async (query = '', token = operator): Promise<WpPull> => {
  const response = await api(token, 'GET', `${BASE}/sync/pull${query}`, undefined, headers);
  expect(response.status, response.text).toBe(200);
  return response.body as WpPull;
};
const pushEntries = (entries: unknown[], deviceId = TABLET, token = operator) =>
  api(token, 'POST', `${BASE}/sync/push`, { deviceId, entries }, headers);
/**
 * Pushes until every entry is settled, as the document's client does on its next auto-sync (entries still
 * processing when the answer came are in neither count, and come back as duplicates): returns the first
 * answer and the settled one.
 */
async function pushUntilSettled(entries: unknown[], deviceId = TABLET, token = operator) {
  const first = await pushEntries(entries, deviceId, token);
  expect(first.status, first.text).toBe(200);
  let last = first.body as WpPush;
  await waitFor(
    async () => {
      if (last.succeeded + last.failed === entries.length) return true;
      const again = await pushEntries(entries, deviceId, token);
      expect(again.status, again.text).toBe(200);
      last = again.body as WpPush;
      return last.succeeded + last.failed === entries.length;
    },
    { what: 'every entry settled', timeoutMs: 120_000, intervalMs: 200 },
  );
  return { first: first.body as WpPush, settled: last };
}
/** Follows a v1 pull to its end from `cursor`. */
async function v1PullAll(token: string, deviceId: string, cursor?: string) {
  const pages: PullResponse[] = [];
  for (let next = cursor; ;) {
    const response = await api(
      token,
      'GET',
      `v1/sync/pull?deviceId=${deviceId}${next ? `&cursor=${encodeURIComponent(next)}` : ''}`,
    );
    expect(response.status, response.text).toBe(200);
    const page = response.body as PullResponse;
    pages.push(page);
    if (!page.hasMore) return { pages, cursor: page.nextCursor };
    next = page.nextCursor;
  }
}
const count = async (sql: string, params: unknown[]) =>
  Number((await getApp().tenantPool(t.tenant).query<{ n: string }>(sql, params)).rows[0]?.n);

describe('compat/wellpulse (seed document 001)', () => {
  let lastSync = '';
  const recordedAt = minutesAgo(120);
  const shift = [
    {
      wellId: 'well-1',
      entryType: 'PRODUCTION',
      data: { oilVolume: 82.3, gasVolume: 375.8, waterVolume: 28.4, runtime: 24 },
      recordedAt,
      latitude: 31.9973,
      longitude: -102.0779,
      notes: 'Equipment running smoothly',
    },
    {
      wellId: 'well-1',
      entryType: 'INSPECTION',
      data: {
        inspectionType: 'DETAILED',
        equipmentStatus: 'DEGRADED',
        leaksDetected: true,
        safetyHazards: false,
        visualCondition: 'FAIR',
        correctiveActions: ['Tighten flange', 'Replace gasket'],
        nextInspectionDate: '2030-01-15T00:00:00.000Z',
      },
      recordedAt: minutesAgo(110),
      notes: 'Small drip at the wellhead',
    },
    {
      wellId: 'wp-well-2',
      entryType: 'MAINTENANCE',
      data: {
        maintenanceType: 'PREVENTIVE',
        workPerformed: ['Changed oil'],
        partsReplaced: ['Oil filter'],
        downtime: 2,
        cost: 150,
        vendorName: 'Basin Services',
      },
      recordedAt: minutesAgo(100),
      photos: ['https://photos.example/wp-1.jpg'],
    },
  ];

  it('pull: ACTIVE wells and the users, as the document writes them, with lastSyncTimestamp and tenantId', async () => {
    const before = Date.now();
    const body = await pull(`?deviceId=${TABLET}`);
    expect(Object.keys(body).sort()).toEqual(['lastSyncTimestamp', 'tenantId', 'users', 'wells']);
    expect(body.tenantId).toBe(t.tenant.id);
    expect(body.wells.map((w) => w.id).sort()).toEqual(['well-1', 'wp-well-2']); // well-off is INACTIVE
    expect(body.wells.find((w) => w.id === 'wp-well-2')).toEqual({
      id: 'wp-well-2',
      name: 'Spraberry Unit #2',
      apiNumber: expect.stringMatching(/^42-/),
      latitude: 31.99,
      longitude: -102.07,
      status: 'ACTIVE',
      lease: 'Spraberry Unit',
      field: 'Spraberry Trend',
      operator: 'Permian Petroleum LLC',
    });
    expect(body.wells.find((w) => w.id === 'well-1')).toMatchObject({
      lease: null,
      field: null,
      operator: null,
    });
    expect(body.users).toEqual(
      expect.arrayContaining([
        { id: 'u-wp-jake', email: 'operator@permianpetroleum.com', name: 'Jake Thompson', role: 'OPERATOR' },
        { id: 'u-wp-boss', email: '', name: 'Pat Boss', role: 'MANAGER' },
      ]),
    );
    // An ISO 8601 time the client can read (when the pull began), which it stores as its lastSync.
    const at = Date.parse(body.lastSyncTimestamp);
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(at).toBeLessThanOrEqual(Date.now());
    // A plain UTC time to the millisecond, which strict parsers (Java Instant, .NET, JS) read and write back
    // unchanged: nothing hidden in extra fraction digits.
    expect(body.lastSyncTimestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(new Date(body.lastSyncTimestamp).toISOString()).toBe(body.lastSyncTimestamp);
    lastSync = body.lastSyncTimestamp;
  });

  it('push: entries recorded offline are stored through the v1 events, once however often they are re-sent', async () => {
    const { first, settled } = await pushUntilSettled(shift);
    expect(first.failed).toBe(0);
    expect(first.succeeded).toBeLessThanOrEqual(3);
    expect(settled).toEqual({
      succeeded: 3,
      failed: 0,
      conflicts: [],
      errors: [],
      syncedAt: expect.any(String),
    });
    expect(Math.abs(Date.parse(settled.syncedAt) - Date.now())).toBeLessThan(120_000);

    // The v1 effects: one production record for (well, day), one inspection, the maintenance as a note.
    const day = recordedAt.slice(0, 10);
    const row = await getApp()
      .tenantPool(t.tenant)
      .query(
        'select oil_volume, gas_volume, water_volume, runtime, notes from production_records where well_id = $1 and production_date = $2',
        ['well-1', day],
      );
    expect(row.rows).toEqual([
      {
        oil_volume: 82.3,
        gas_volume: 375.8,
        water_volume: 28.4,
        runtime: 24,
        notes: 'Equipment running smoothly',
      },
    ]);
    const inspection = await getApp()
      .tenantPool(t.tenant)
      .query(
        'select inspection_type, status, equipment_status, leaks_detected, safety_hazards, visual_condition, corrective_actions, next_inspection_date::text as next from inspections where device_id = $1',
        [TABLET],
      );
    expect(inspection.rows).toEqual([
      {
        inspection_type: 'DETAILED',
        status: 'NEEDS_ATTENTION',
        equipment_status: 'MAINTENANCE',
        leaks_detected: true,
        safety_hazards: 'NONE',
        visual_condition: 'FAIR',
        corrective_actions: 'Tighten flange\nReplace gasket',
        next: '2030-01-15',
      },
    ]);
    const note = await getApp()
      .tenantPool(t.tenant)
      .query('select target_type, target_id, text from notes where device_id = $1', [TABLET]);
    expect(note.rows).toEqual([
      {
        target_type: 'WELL',
        target_id: 'wp-well-2',
        text: [
          'Maintenance (PREVENTIVE)',
          'Work performed: Changed oil',
          'Parts replaced: Oil filter',
          'Downtime: 2 h',
          'Cost: 150 USD',
          'Vendor: Basin Services',
          'Photos: https://photos.example/wp-1.jpg',
        ].join('\n'),
      },
    ]);

    // The same shift again (the client lost the answer): all succeeded, nothing stored twice.
    const again = await pushEntries(shift);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      succeeded: 3,
      failed: 0,
      conflicts: [],
      errors: [],
      syncedAt: expect.any(String),
    });
    expect(await count('select count(*) as n from sync_events where device_id = $1', [TABLET])).toBe(3);
    expect(await count('select count(*) as n from inspections where device_id = $1', [TABLET])).toBe(1);
    expect(await count('select count(*) as n from notes where device_id = $1', [TABLET])).toBe(1);
    expect(
      await count(
        'select count(*) as n from production_records where well_id = $1 and production_date = $2',
        ['well-1', day],
      ),
    ).toBe(1);
  });

  it('push: a bad entry is 400 in the document’s error body with field paths; a business rule fails only its entry', async () => {
    const bad = await pushEntries([
      shift[0],
      { ...shift[0], data: { oilVolume: -5 }, recordedAt: minutesAgo(90) },
    ]);
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toMatch(/^application\/json/);
    expect(bad.body).toEqual({
      statusCode: 400,
      message: 'Validation failed',
      errors: [{ field: 'entries[1].data.oilVolume', message: expect.any(String) }],
    });
    // Every 400 is worded so, one about the whole request too (a body that is not JSON: field `$`).
    const notJson = await api(operator, 'POST', `${BASE}/sync/push`, '{"deviceId":', headers);
    expect(notJson.status).toBe(400);
    expect(notJson.body).toEqual({
      statusCode: 400,
      message: 'Validation failed',
      errors: [{ field: '$', message: expect.stringContaining('JSON') }],
    });

    const inactive = {
      wellId: 'well-off',
      entryType: 'PRODUCTION',
      data: { oilVolume: 5 },
      recordedAt: minutesAgo(80),
    };
    const future = { ...shift[0], recordedAt: new Date(Date.now() + 3_600_000).toISOString() };
    const fresh = { ...shift[0], data: { oilVolume: 60 }, recordedAt: minutesAgo(3 * 24 * 60) };
    const { settled } = await pushUntilSettled([inactive, future, fresh]);
    expect(settled.succeeded).toBe(1);
    expect(settled.failed).toBe(2);
    expect(settled.errors).toEqual([
      { wellId: 'well-off', error: expect.stringMatching(/^WELL_INACTIVE: /) },
      { wellId: 'well-1', error: expect.stringMatching(/^CLOCK_SKEW: /) },
    ]);
    // Re-pushed (the client retries what failed): the refused entry is a duplicate answered with its original
    // outcome — failed again, never counted succeeded.
    const again = await pushEntries([inactive]);
    expect(again.status, again.text).toBe(200);
    expect(again.body).toMatchObject({
      succeeded: 0,
      failed: 1,
      conflicts: [],
      errors: [{ wellId: 'well-off', error: expect.stringMatching(/^WELL_INACTIVE: /) }],
    });
  });

  it('status: the last sync of the device and the changes it has not pulled yet', async () => {
    const status = await api(operator, 'GET', `${BASE}/sync/status?deviceId=${TABLET}`, undefined, headers);
    expect(status.status).toBe(200);
    const body = status.body as { deviceId: string; lastSyncAt: string; pendingEntries: number };
    expect(Object.keys(body).sort()).toEqual(['deviceId', 'lastSyncAt', 'pendingEntries']);
    expect(body.deviceId).toBe(TABLET);
    expect(Date.parse(body.lastSyncAt)).toBeGreaterThanOrEqual(Date.parse(lastSync));
    // Its own entries became production changes after its pull: they are what it has not pulled yet.
    expect(body.pendingEntries).toBeGreaterThan(0);
    // A device that only pulled (with its id) has synced: its last sync is that pull.
    const beforePull = Date.now();
    await pull('?deviceId=PULL_ONLY_TABLET');
    const pulledOnly = await api(
      operator,
      'GET',
      `${BASE}/sync/status?deviceId=PULL_ONLY_TABLET`,
      undefined,
      headers,
    );
    expect(pulledOnly.status).toBe(200);
    const pulledAt = (pulledOnly.body as { lastSyncAt: string | null }).lastSyncAt;
    expect(pulledAt).not.toBeNull();
    expect(Date.parse(pulledAt ?? '')).toBeGreaterThanOrEqual(beforePull - 1);
    expect(Date.parse(pulledAt ?? '')).toBeLessThanOrEqual(Date.now());
    const unknown = await api(operator, 'GET', `${BASE}/sync/status?deviceId=NEVER_SEEN`, undefined, headers);
    expect(unknown.body).toEqual({ deviceId: 'NEVER_SEEN', lastSyncAt: null, pendingEntries: 0 });
    // Someone else's device: 403 in the document's body.
    const foreign = await api(operator2, 'GET', `${BASE}/sync/status?deviceId=${TABLET}`, undefined, headers);
    expect(foreign.status).toBe(403);
    expect(foreign.body).toMatchObject({ statusCode: 403, message: expect.any(String) });
    // Pushing nothing on someone else's device is refused the same (trial 14, item 10; v1 and WellOS alike).
    const foreignPush = await api(
      operator2,
      'POST',
      `${BASE}/sync/push`,
      { deviceId: TABLET, entries: [] },
      headers,
    );
    expect(foreignPush.status).toBe(403);
    expect(foreignPush.body).toMatchObject({ statusCode: 403, message: expect.any(String) });
  });

  it('delta pull: what others changed since lastSync (a well leaving ACTIVE included), nothing else; then nothing pending', async () => {
    // Another client (v1, the manager's) renames one well and shuts the other in.
    const renamed = await api(manager, 'PUT', 'v1/wells/well-1', {
      name: 'Spraberry Unit #1A (renamed)',
      apiNumber: apiNumber(),
      latitude: 31.9973,
      longitude: -102.0779,
      status: 'ACTIVE',
    });
    expect(renamed.status).toBe(200);
    const shutIn = await api(manager, 'PUT', 'v1/wells/wp-well-2', {
      name: 'Spraberry Unit #2',
      apiNumber: apiNumber(),
      latitude: 31.99,
      longitude: -102.07,
      status: 'INACTIVE',
    });
    expect(shutIn.status).toBe(200);

    // Changes committed after a transaction still open anywhere in the cluster (another test file's) wait for
    // it (never skipped, docs/selective-sync.md): ask again from the same lastSync until they arrive.
    const delta = await waitFor(
      async () => {
        const answer = await pull(`?deviceId=${TABLET}&lastSync=${encodeURIComponent(lastSync)}`);
        return answer.wells.length >= 2 && answer;
      },
      { what: 'the delta since lastSync' },
    );
    expect(delta.users).toEqual([]);
    expect(delta.wells.map((w) => [w.id, w.name, w.status]).sort()).toEqual([
      ['well-1', 'Spraberry Unit #1A (renamed)', 'ACTIVE'],
      ['wp-well-2', 'Spraberry Unit #2', 'INACTIVE'],
    ]);
    expect(delta.lastSyncTimestamp).not.toBe(lastSync);
    lastSync = delta.lastSyncTimestamp;
    // Likewise a change delivered while such a transaction was open may come once more; then nothing is left.
    const empty = await waitFor(
      async () => {
        const answer = await pull(`?deviceId=${TABLET}&lastSync=${encodeURIComponent(lastSync)}`);
        lastSync = answer.lastSyncTimestamp;
        return answer.wells.length === 0 && answer;
      },
      { what: 'an empty delta' },
    );
    expect(empty).toMatchObject({ wells: [], users: [] });
    lastSync = empty.lastSyncTimestamp;
    const status = await api(operator, 'GET', `${BASE}/sync/status?deviceId=${TABLET}`, undefined, headers);
    expect(status.body).toMatchObject({ deviceId: TABLET, pendingEntries: 0 });

    const garbage = await api(operator, 'GET', `${BASE}/sync/pull?lastSync=yesterday`, undefined, headers);
    expect(garbage.status).toBe(400);
    expect(garbage.body).toEqual({
      statusCode: 400,
      message: 'Validation failed',
      errors: [{ field: 'lastSync', message: expect.any(String) }],
    });
  });

  it('lastSync re-serialised by the client (same instant) resumes exactly; a time never issued is a delta from 15 minutes before it; an old one the full set', async () => {
    // Nothing changed since the last pull: an exact resume is empty, whatever form the instant comes back in —
    // while a time read as a time (below) would send the wells changed in the last minutes again.
    const issued = await pull(`?deviceId=${TABLET}&lastSync=${encodeURIComponent(lastSync)}`);
    const at = issued.lastSyncTimestamp;
    const forms = [
      at,
      at.replace('Z', '+00:00'),
      at.replace(/\.?0+Z$/, 'Z'), // Java Instant.toString drops trailing zeros
      at.replace('Z', '0000Z'), // .NET "o": seven fraction digits
      at.replace('Z', '000000Z'),
      at.toLowerCase(),
      // The same instant in another offset.
      `${new Date(Date.parse(at) - 5 * 3_600_000).toISOString().slice(0, -1)}-05:00`,
    ];
    for (const form of forms) {
      const again = await pull(`?deviceId=${TABLET}&lastSync=${encodeURIComponent(form)}`);
      expect(again, form).toMatchObject({ wells: [], users: [] });
    }
    // A '+' offset the client did not encode arrives as a space: still that instant.
    const raw = await pull(`?deviceId=${TABLET}&lastSync=${at.replace('Z', '+00:00')}`);
    expect(raw).toMatchObject({ wells: [], users: [] });
    // The same instant issued to another device (or to the pulls that name none) is not this one's point.
    expect((await pull(`?lastSync=${encodeURIComponent(at)}`)).wells.length).toBeGreaterThan(0);

    // A time this server never issued (client-made, or pruned): the changes from 15 minutes before it — the
    // wells changed in this test run, the one that left ACTIVE with its status (a full set would not have it).
    const made = await pull(
      `?deviceId=${TABLET}&lastSync=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`,
    );
    expect(made.wells.map((w) => [w.id, w.status])).toEqual(
      expect.arrayContaining([['wp-well-2', 'INACTIVE']]),
    );
    // One below the millisecond is never an issued instant either.
    const sub = await pull(`?deviceId=${TABLET}&lastSync=${encodeURIComponent(at.replace('Z', '4Z'))}`);
    expect(sub.wells.map((w) => w.id)).toContain('wp-well-2');
    // Older than the change history kept (30 days): the full set, ACTIVE wells only.
    const old = await pull(`?deviceId=${TABLET}&lastSync=2020-01-01T00:00:00.000Z`);
    expect(old.wells.map((w) => w.id).sort()).toEqual(['well-1']);
    expect(old.users.length).toBeGreaterThan(0);
    lastSync = old.lastSyncTimestamp;
  });

  it('delta pull skips nothing under concurrent writers: a change committed late, but made before lastSync, still comes', async () => {
    const pool = getApp().tenantPool(t.tenant);
    const held = await pool.connect();
    try {
      // A writer changes well-1 and keeps its transaction open…
      await held.query('begin');
      await held.query("update wells set name = 'Held rename', updated_at = now() where id = 'well-1'");
      // …while another change commits, and the tablet pulls (its lastSync is now later than the held write).
      const other = await api(manager, 'PUT', 'v1/wells/wp-late', {
        name: 'Late well',
        apiNumber: apiNumber(),
        latitude: 32,
        longitude: -102,
        status: 'ACTIVE',
      });
      expect(other.status).toBe(201);
      const during = await pull(`?lastSync=${encodeURIComponent(lastSync)}`);
      expect(during.wells.map((w) => w.name)).not.toContain('Held rename');
      lastSync = during.lastSyncTimestamp;
      await held.query('commit');
    } finally {
      held.release();
    }
    const seen = new Set<unknown>();
    await waitFor(
      async () => {
        const after = await pull(`?lastSync=${encodeURIComponent(lastSync)}`);
        lastSync = after.lastSyncTimestamp;
        for (const well of after.wells) seen.add(well.name);
        return seen.has('Held rename') && seen.has('Late well');
      },
      { what: 'both changes in the delta pulls' },
    );
  });

  it('no change is skipped while writers commit out of order and the device echoes lastSync, re-serialised or not (property)', async () => {
    const pool = getApp().tenantPool(t.tenant);
    /** A form a client's date library may send the instant back in (all the same instant). */
    const reserialise = (at: string, form: number) =>
      [
        encodeURIComponent(at),
        encodeURIComponent(at.replace('Z', '+00:00')),
        encodeURIComponent(at.replace(/\.?0+Z$/, 'Z')),
        encodeURIComponent(at.replace('Z', '000000Z')),
        at.replace('Z', '+00:00'), // '+' not encoded: arrives as a space
      ][form % 5] ?? '';
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            open: fc.integer({ min: 0, max: 2 }), // write transactions begun (and held open) in this step
            rename: fc.boolean(), // …renaming a committed well rather than creating one
            commit: fc.array(fc.nat(), { maxLength: 3 }), // which held ones commit (any order) before the pull
            form: fc.nat(),
          }),
          { minLength: 2, maxLength: 6 },
        ),
        async (steps) => {
          run += 1;
          const device = `CONC_${run}`;
          const cache = new Map<string, unknown>(); // the device's wells: id → name, as it applies pulls
          const apply = (body: WpPull) => {
            for (const well of body.wells) cache.set(well.id as string, well.name);
            return body.lastSyncTimestamp;
          };
          let at = apply(await pull(`?deviceId=${device}`));
          const committed = new Map<string, string>(); // id → the name its last commit wrote
          const held: { client: pg.PoolClient; id: string; name: string }[] = [];
          let n = 0;
          const commit = async (index: number) => {
            const [h] = held.splice(index % held.length, 1);
            if (!h) return;
            await h.client.query('commit');
            h.client.release();
            committed.set(h.id, h.name);
          };
          try {
            for (const step of steps) {
              for (let i = 0; i < step.open && held.length < 4; i += 1) {
                const client = await pool.connect();
                await client.query('begin');
                const free = [...committed.keys()].filter((id) => !held.some((h) => h.id === id));
                const name = `c${run}-${(n += 1)}`;
                if (step.rename && free.length) {
                  const id = free[n % free.length] ?? '';
                  await client.query('update wells set name = $2, updated_at = now() where id = $1', [
                    id,
                    name,
                  ]);
                  held.push({ client, id, name });
                } else {
                  const id = `wpc-${run}-${n}`;
                  await client.query(
                    "insert into wells (id, name, api_number, latitude, longitude, status) values ($1, $2, $3, 32, -102, 'ACTIVE')",
                    [id, name, apiNumber()],
                  );
                  held.push({ client, id, name });
                }
              }
              for (const index of step.commit) if (held.length) await commit(index);
              at = apply(await pull(`?deviceId=${device}&lastSync=${reserialise(at, step.form)}`));
            }
          } finally {
            while (held.length) await commit(0);
          }
          // Once every writer committed, the device's next pulls (echoing lastSync) bring its cache to the
          // server's state: every well created, every rename last committed — none skipped.
          await waitFor(
            async () => {
              at = apply(await pull(`?deviceId=${device}&lastSync=${reserialise(at, run)}`));
              return [...committed].every(([id, name]) => cache.get(id) === name);
            },
            { what: `run ${run}: every committed write in the device's cache`, timeoutMs: 15_000 },
          );
        },
      ),
      { numRuns: 6 },
    );
  }, 180_000);

  it('cross-dialect: a wellpulse entry is in the v1 pull; a conflict with a v1 device is reported to the entry', async () => {
    // A v1 device logs production for a day first, with a later clock than the tablet's entry.
    const day = daysAgo(2);
    const v1 = await pushSettled(operator2, 'v1-phone-1', [
      production('well-1', { oilVolume: 90 }, { productionDate: day, occurredAt: minutesAgo(10) }),
    ]);
    expect(v1.events).toMatchObject([{ status: 'APPLIED' }]);
    // The tablet's entry for the same day was recorded earlier: the oil volume conflicts (the v1 write wins,
    // last writer), its gas volume merges in.
    const entry = {
      wellId: 'well-1',
      entryType: 'PRODUCTION',
      data: { oilVolume: 70, gasVolume: 300 },
      recordedAt: `${day}T08:30:00.000Z`,
    };
    const { settled } = await pushUntilSettled([entry]);
    expect(settled).toMatchObject({ succeeded: 1, failed: 0, errors: [] });
    expect(settled.conflicts).toEqual([
      {
        entryId: expect.stringMatching(
          /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
        ),
        wellId: 'well-1',
        recordedAt: entry.recordedAt,
        reason: expect.stringContaining('oilVolume'),
        resolution: 'SERVER_WINS',
      },
    ]);
    // Re-pushed, the entry is a duplicate answered with its original outcome: the conflict is reported again.
    const again = await pushEntries([entry]);
    expect(again.body).toMatchObject({ succeeded: 1, failed: 0, conflicts: settled.conflicts, errors: [] });
    // The v1 device's next pull has the merged record: its oil volume, the tablet's gas volume; and the
    // tablet's first shift's production of today.
    const { pages } = await v1PullAll(operator2, 'v1-phone-1');
    const production2 = pages.flatMap((p) => p.production);
    expect(production2.find((p) => p.productionDate === day)).toMatchObject({
      wellId: 'well-1',
      oilVolume: 90,
      gasVolume: 300,
    });
    expect(production2.find((p) => p.productionDate === recordedAt.slice(0, 10))).toMatchObject({
      wellId: 'well-1',
      oilVolume: 82.3,
      notes: 'Equipment running smoothly',
    });
  });

  it('X-Tenant-Subdomain must name the token’s tenant: 403 in the document’s body on every route', async () => {
    const wrong = { 'x-tenant-subdomain': 'someone-else' };
    const calls = [
      api(operator, 'GET', `${BASE}/sync/pull`, undefined, wrong),
      api(operator, 'POST', `${BASE}/sync/push`, { deviceId: TABLET, entries: [] }, wrong),
      api(operator, 'GET', `${BASE}/sync/status?deviceId=${TABLET}`, undefined, wrong),
    ];
    for (const response of await Promise.all(calls)) {
      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        statusCode: 403,
        message: expect.stringContaining('X-Tenant-Subdomain'),
      });
    }
    // Without the header (subdomain routing) and with the id in another case, it is served.
    expect((await api(operator, 'GET', `${BASE}/sync/pull`)).status).toBe(200);
    const upper = { 'x-tenant-subdomain': t.tenant.id.toUpperCase() };
    expect((await api(operator, 'GET', `${BASE}/sync/pull`, undefined, upper)).status).toBe(200);
    const noToken = await api(undefined, 'GET', `${BASE}/sync/pull`);
    expect(noToken.status).toBe(401);
    expect(noToken.body).toEqual({ statusCode: 401, message: expect.any(String) });
  });
});
