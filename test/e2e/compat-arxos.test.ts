import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import { api, pushSettled } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { pullAll, recordEvent } from '../support/records.js';
import { freshTenant } from '../support/tenants.js';

// Seed 002 (ArxOS mobile) served under /api/compat/arxos, over HTTP against the local host: the flow its
// client code performs — a batch upload of its sync queue, per-entity create/update/delete with a 409 carrying
// the server version and a forced retry, incremental updates per building with `last_sync` echoed back as
// `since` while another device writes — and the same records seen through the v1.1 routes.
afterAll(() => closeApp());

const ARXOS = 'compat/arxos/api/v1';
const secondsAgo = (n: number) => Date.now() - n * 1000;

/** The columns the document's client caches for a piece of equipment (its `equipment` table). */
const EQUIPMENT_COLUMNS = [
  'id',
  'building_id',
  'name',
  'type',
  'status',
  'location_x',
  'location_y',
  'location_z',
  'metadata',
  'version',
  'updated_at',
];

interface Equipment {
  id: string;
  building_id: string;
  name: string;
  type: string;
  status: string | null;
  location_x: number | null;
  location_y: number | null;
  location_z: number | null;
  metadata: Record<string, unknown> | null;
  version: number;
  updated_at: number;
}
interface Updates {
  updates: { equipment: Equipment; updated_at: string }[];
  deletes: string[];
  last_sync: string;
}
interface BatchResponse {
  success: string[];
  conflicts: {
    entity_type: string;
    entity_id: string;
    operation: string;
    fields: string[];
    resolution: string;
    local_version: Record<string, unknown>;
    server_version: Record<string, unknown> | null;
  }[];
  errors: {
    index: number;
    entity_type: string | null;
    entity_id: string | null;
    operation: string | null;
    code: string;
    error: string;
    retryable: boolean;
    errors?: { path: string; message: string }[];
  }[];
}

let tenantId: string;
let manager: string;
let techA: string; // building b1
let techB: string; // buildings b1 and b2
let stranger: string; // no building

beforeAll(async () => {
  tenantId = (await freshTenant('arx', ['facilities'])).id;
  manager = await tokenFor(tenantId, ['MANAGER'], 'u-arx-mgr');
  techA = await tokenFor(tenantId, ['OPERATOR'], 'u-arx-a');
  techB = await tokenFor(tenantId, ['OPERATOR'], 'u-arx-b');
  stranger = await tokenFor(tenantId, ['OPERATOR'], 'u-arx-none');
  for (const [scope, user] of [
    ['b1', 'u-arx-a'],
    ['b1', 'u-arx-b'],
    ['b2', 'u-arx-b'],
  ] as const) {
    const grant = await api(manager, 'PUT', `v1/scopes/${scope}/members/${user}`);
    expect(grant.status, grant.text).toBe(201);
  }
});

/** The client's cache after applying an updates answer (its db.applyUpdates): upserts, then deletes. */
function apply(cache: Map<string, Equipment>, body: Updates): void {
  for (const u of body.updates) cache.set(u.equipment.id, u.equipment);
  for (const id of body.deletes) cache.delete(id);
}

const updates = (token: string, building: string, since?: string) =>
  api(
    token,
    'GET',
    `${ARXOS}/mobile/equipment/building/${building}/updates${since === undefined ? '' : `?since=${encodeURIComponent(since)}`}`,
  );

describe('seed 002 (arxos) served under compat/arxos', () => {
  it('uploads a batch of queued operations: success, errors with paths, conflicts; visible through v1 pull', async () => {
    // Prepare: technician A's sync queue (more than 10 items: the client batches them), oldest first.
    const at = (n: number) => new Date(secondsAgo(600 - n)).toISOString();
    const unit = (n: number) => ({
      entity_type: 'equipment',
      entity_id: `ahu-${n}`,
      operation: 'create',
      payload: {
        id: `ahu-${n}`,
        building_id: 'b1',
        name: `AHU ${n}`,
        type: 'HVAC',
        status: 'OPERATIONAL',
        location_x: n,
        location_y: 2.5,
        location_z: 0,
        metadata: { serial: `SN-${n}` },
        created_at: secondsAgo(700),
        updated_at: secondsAgo(700),
        sync_status: 'pending',
        version: 1,
      },
      local_time: at(n),
    });
    const operations = [
      {
        entity_type: 'building',
        entity_id: 'b1',
        operation: 'create',
        payload: { name: 'HQ', address: '1 Main St', status: 'ACTIVE', created_at: 1, updated_at: 1 },
        local_time: at(0),
      },
      ...[1, 2, 3, 4, 5, 6, 7, 8].map(unit),
      {
        entity_type: 'anchor',
        entity_id: 'anc-1',
        operation: 'create',
        payload: {
          building_id: 'b1',
          equipment_id: 'ahu-1',
          position_x: 1,
          position_y: 2.5,
          position_z: 0.2,
          confidence: 0.9,
          anchor_type: 'QR',
        },
        local_time: at(9),
      },
      {
        entity_type: 'equipment',
        entity_id: 'ahu-2',
        operation: 'update',
        payload: { id: 'ahu-2', status: 'MAINTENANCE', version: 1 },
        local_time: at(10),
      },
      { entity_type: 'equipment', entity_id: 'ahu-8', operation: 'delete', payload: {}, local_time: at(11) },
      { entity_type: 'pump', entity_id: 'x', operation: 'create', payload: {}, local_time: at(12) },
      {
        entity_type: 'equipment',
        entity_id: 'ahu-9',
        operation: 'create',
        payload: { building_id: 'b1', name: 'AHU 9', type: 'HVAC', colour: 'red', location_x: 1 },
        local_time: at(13),
      },
      {
        entity_type: 'equipment',
        entity_id: 'ahu-elsewhere',
        operation: 'create',
        payload: { building_id: 'b2', name: 'Not mine', type: 'HVAC' },
        local_time: at(14),
      },
      {
        entity_type: 'equipment',
        entity_id: 'ahu-bad-type',
        operation: 'create',
        payload: { building_id: 'b1', name: 42, type: 'HVAC', location_x: 1, location_y: 1, location_z: 0 },
        local_time: at(15),
      },
    ];

    // Act
    const first = await api(techA, 'POST', `${ARXOS}/mobile/sync/batch`, { operations });

    // Assess: the document's three lists, every field the client reads.
    expect(first.status, first.text).toBe(200);
    const body = first.body as BatchResponse;
    expect(body.success.sort()).toEqual(
      ['b1', 'ahu-1', 'ahu-2', 'ahu-3', 'ahu-4', 'ahu-5', 'ahu-6', 'ahu-7', 'ahu-8', 'anc-1'].sort(),
    );
    expect(body.conflicts).toEqual([]);
    expect(body.errors).toEqual([
      expect.objectContaining({
        index: 12,
        entity_type: 'pump',
        entity_id: 'x',
        code: 'INVALID_PAYLOAD',
        retryable: false,
        errors: [expect.objectContaining({ path: 'operations[12].entity_type' })],
      }),
      expect.objectContaining({
        index: 13,
        entity_id: 'ahu-9',
        operation: 'create',
        code: 'INVALID_PAYLOAD',
        errors: expect.arrayContaining([
          expect.objectContaining({ path: 'operations[13].payload.colour' }),
          expect.objectContaining({ path: 'operations[13].payload.location_y' }),
          expect.objectContaining({ path: 'operations[13].payload.location_z' }),
        ]),
      }),
      expect.objectContaining({ index: 14, entity_id: 'ahu-elsewhere', code: 'SCOPE_NOT_GRANTED' }),
      expect.objectContaining({
        index: 15,
        entity_id: 'ahu-bad-type',
        code: 'INVALID_PAYLOAD',
        errors: [expect.objectContaining({ path: 'operations[15].payload.name' })],
      }),
    ]);
    expect(body.errors.every((e) => typeof e.error === 'string' && e.error.length > 0)).toBe(true);

    // The same queue sent again (the client retries after a lost answer): nothing applied twice.
    const again = await api(techA, 'POST', `${ARXOS}/mobile/sync/batch`, { operations });
    expect(again.status, again.text).toBe(200);
    expect((again.body as BatchResponse).success.sort()).toEqual(body.success.sort());
    expect((again.body as BatchResponse).errors.map((e) => [e.index, e.code])).toEqual(
      body.errors.map((e) => [e.index, e.code]),
    );

    // A conflict in a batch: A renames ahu-3; B's rename, made earlier offline on version 1, comes after.
    const rename = (name: string, time: number) => ({
      operations: [
        {
          entity_type: 'equipment',
          entity_id: 'ahu-3',
          operation: 'update',
          payload: { id: 'ahu-3', name, version: 1 },
          local_time: new Date(time).toISOString(),
        },
      ],
    });
    const byA = await api(techA, 'POST', `${ARXOS}/mobile/sync/batch`, rename('AHU 3 (roof)', secondsAgo(5)));
    expect(byA.body).toEqual({ success: ['ahu-3'], conflicts: [], errors: [] });
    const byB = await api(
      techB,
      'POST',
      `${ARXOS}/mobile/sync/batch`,
      rename('AHU 3 (old)', secondsAgo(120)),
    );
    expect(byB.status, byB.text).toBe(200);
    expect(byB.body).toEqual({
      success: [],
      errors: [],
      conflicts: [
        {
          entity_type: 'equipment',
          entity_id: 'ahu-3',
          operation: 'update',
          fields: ['name'],
          resolution: 'server_wins',
          local_version: { id: 'ahu-3', name: 'AHU 3 (old)', version: 1 },
          server_version: expect.objectContaining({
            id: 'ahu-3',
            building_id: 'b1',
            name: 'AHU 3 (roof)',
            location_x: 3,
            version: 2,
            created_at: expect.any(Number),
            updated_at: expect.any(Number),
          }),
        },
      ],
    });

    // Cross-dialect: the records, in the pack's fields, through the v1.1 pull.
    const pulled = await pullAll(manager, 'mgr-console', '&collections=equipment,spatial_anchors,buildings');
    const byId = new Map(pulled.records.map((r) => [r.id, r]));
    expect(byId.get('ahu-1')).toMatchObject({
      collection: 'equipment',
      version: 1,
      data: {
        buildingId: 'b1',
        name: 'AHU 1',
        type: 'HVAC',
        status: 'OPERATIONAL',
        location: { x: 1, y: 2.5, z: 0 },
        metadata: { serial: 'SN-1' },
      },
    });
    expect(byId.get('ahu-2')).toMatchObject({ version: 2, data: { status: 'MAINTENANCE' } });
    expect(byId.has('ahu-8')).toBe(false);
    expect(byId.has('ahu-elsewhere')).toBe(false);
    expect(byId.get('anc-1')).toMatchObject({
      collection: 'spatial_anchors',
      data: {
        buildingId: 'b1',
        equipmentId: 'ahu-1',
        position: { x: 1, y: 2.5, z: 0.2 },
        confidence: 0.9,
        anchorType: 'QR',
      },
    });
    expect(byId.get('b1')).toMatchObject({
      collection: 'buildings',
      data: { name: 'HQ', address: '1 Main St', status: 'ACTIVE' },
    });
  });

  it('per-entity: create, update with a stale version → 409 with the server version → force; delete', async () => {
    // Prepare: technician A creates a unit; technician B edits its status afterwards.
    const created = await api(techA, 'POST', `${ARXOS}/equipment`, {
      id: 'vav-1',
      building_id: 'b1',
      name: 'VAV 1',
      type: 'VAV',
      status: 'OPERATIONAL',
      location_x: 4,
      location_y: 5,
      location_z: 3,
      updated_at: secondsAgo(120),
      version: 1,
    });
    expect(created.status, created.text).toBe(201);
    const local = created.body as Equipment;
    expect(Object.keys(local).sort()).toEqual(expect.arrayContaining(EQUIPMENT_COLUMNS.sort()));
    expect(local).toMatchObject({
      id: 'vav-1',
      building_id: 'b1',
      name: 'VAV 1',
      type: 'VAV',
      status: 'OPERATIONAL',
      location_x: 4,
      location_y: 5,
      location_z: 3,
      metadata: null,
      version: 1,
    });
    expect(typeof local.updated_at).toBe('number');
    const byB = await api(techB, 'PUT', `${ARXOS}/equipment/vav-1`, {
      ...local,
      status: 'MAINTENANCE',
      updated_at: secondsAgo(30),
    });
    expect(byB.status, byB.text).toBe(200);
    expect(byB.body).toMatchObject({ id: 'vav-1', status: 'MAINTENANCE', version: 2, name: 'VAV 1' });

    // Act: A's offline edit, made before B's, based on version 1.
    const stale = { ...local, status: 'FAILED', updated_at: secondsAgo(60) };
    const conflict = await api(techA, 'PUT', `${ARXOS}/equipment/vav-1`, stale);

    // Assess: 409, the server's version as the client's handleConflict reads it.
    expect(conflict.status, conflict.text).toBe(409);
    const server = (conflict.body as { serverVersion: Equipment; conflict: { fields: string[] } })
      .serverVersion;
    expect(server).toMatchObject({ id: 'vav-1', status: 'MAINTENANCE', version: 2, building_id: 'b1' });
    expect((conflict.body as { conflict: { fields: string[] } }).conflict.fields).toEqual(['status']);
    // The document's rule: the local edit is older than the server's, so the server wins on the device.
    expect(stale.updated_at > server.updated_at).toBe(false);

    // The user keeps the local value anyway: the same update with force: true.
    const forced = await api(techA, 'PUT', `${ARXOS}/equipment/vav-1`, { ...stale, force: true });
    expect(forced.status, forced.text).toBe(200);
    expect(forced.body).toMatchObject({ id: 'vav-1', status: 'FAILED', version: 3, location_x: 4 });

    // Nothing to change (the cached row equals the server's): 200, same version.
    const same = await api(techA, 'PUT', `${ARXOS}/equipment/vav-1`, forced.body);
    expect(same.status, same.text).toBe(200);
    expect(same.body).toMatchObject({ version: 3 });

    // Refusals: unknown unit, a building not granted, an unknown field.
    expect((await api(techA, 'PUT', `${ARXOS}/equipment/no-such`, { status: 'X', version: 1 })).status).toBe(
      404,
    );
    const elsewhere = await api(techA, 'POST', `${ARXOS}/equipment`, {
      building_id: 'b2',
      name: 'N',
      type: 'T',
    });
    expect(elsewhere.status, elsewhere.text).toBe(403);
    const unknownField = await api(techA, 'PUT', `${ARXOS}/equipment/vav-1`, { colour: 'red' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body).toMatchObject({ errors: [{ path: 'colour' }] });

    // Delete, twice (the second is already done), then an update of the deleted unit.
    expect((await api(techA, 'DELETE', `${ARXOS}/equipment/vav-1`)).status).toBe(204);
    expect((await api(techA, 'DELETE', `${ARXOS}/equipment/vav-1`)).status).toBe(204);
    expect((await api(techA, 'DELETE', `${ARXOS}/equipment/never-was`)).status).toBe(404);
  });

  it('incremental updates: last_sync echoed back misses nothing while another device writes; moves and deletes arrive', async () => {
    // Prepare: building b3 with units of its own, and technician A's first sync of it.
    const grant = await api(manager, 'PUT', `v1/scopes/b3/members/u-arx-a`);
    expect(grant.status).toBe(201);
    const grantB = await api(manager, 'PUT', `v1/scopes/b3/members/u-arx-b`);
    expect(grantB.status).toBe(201);
    const seed = await api(techB, 'POST', `${ARXOS}/mobile/sync/batch`, {
      operations: [1, 2, 3, 4].map((n) => ({
        entity_type: 'equipment',
        entity_id: `fan-${n}`,
        operation: 'create',
        payload: { building_id: 'b3', name: `Fan ${n}`, type: 'FAN', status: 'OPERATIONAL' },
        local_time: new Date(secondsAgo(300)).toISOString(),
      })),
    });
    expect((seed.body as BatchResponse).success).toHaveLength(4);
    const cache = new Map<string, Equipment>();
    const initial = await updates(techA, 'b3');
    expect(initial.status, initial.text).toBe(200);
    const firstBody = initial.body as Updates;
    apply(cache, firstBody);
    expect([...cache.keys()].sort()).toEqual(['fan-1', 'fan-2', 'fan-3', 'fan-4']);
    expect(firstBody.deletes).toEqual([]);
    // Every column of the client's equipment table, created_at (NOT NULL there) included.
    expect(Object.keys(firstBody.updates[0]?.equipment ?? {}).sort()).toEqual(
      [...EQUIPMENT_COLUMNS, 'created_at'].sort(),
    );
    expect(Number.isNaN(Date.parse(firstBody.updates[0]?.updated_at ?? ''))).toBe(false);
    // last_sync is opaque (not a time the client could compute itself).
    expect(firstBody.last_sync).not.toMatch(/^\d+$/);
    expect(Number.isNaN(Date.parse(firstBody.last_sync))).toBe(true);

    // Act: technician B writes 12 edits one after another (arxos updates, a v1 RECORD_UPDATED, a move, a
    // delete) while A syncs over and over, echoing last_sync back as since.
    let lastSync = firstBody.last_sync;
    let writing = true;
    const syncs: Updates[] = [];
    const reader = (async () => {
      while (writing) {
        const response = await updates(techA, 'b3', lastSync);
        expect(response.status, response.text).toBe(200);
        const body = response.body as Updates;
        apply(cache, body);
        syncs.push(body);
        lastSync = body.last_sync;
      }
    })();
    const writer = (async () => {
      try {
        // Two writers at once, so their transactions interleave: B's phone through arxos, the manager's
        // console through the arxos batch.
        await Promise.all([
          (async () => {
            for (let round = 1; round <= 3; round += 1) {
              for (const n of [1, 2, 3]) {
                const put = await api(techB, 'PUT', `${ARXOS}/equipment/fan-${n}`, {
                  name: `Fan ${n} r${round}`,
                  updated_at: Date.now(),
                });
                expect(put.status, put.text).toBe(200);
              }
            }
          })(),
          (async () => {
            for (let round = 1; round <= 4; round += 1) {
              const batch = await api(manager, 'POST', `${ARXOS}/mobile/sync/batch`, {
                operations: [
                  {
                    entity_type: 'equipment',
                    entity_id: 'fan-4',
                    operation: 'update',
                    payload: { type: `FAN-${round}` },
                    local_time: new Date().toISOString(),
                  },
                ],
              });
              expect((batch.body as BatchResponse).success, batch.text).toEqual(['fan-4']);
            }
          })(),
        ]);
        // Cross-dialect: a v1 RECORD_UPDATED from B's other device.
        const v1 = await pushSettled(techB, 'b-tablet', [
          recordEvent('RECORD_UPDATED', new Date().toISOString(), {
            collection: 'equipment',
            recordId: 'fan-4',
            baseVersion: 5,
            changes: { status: 'FAILED', metadata: { via: 'v1' } },
          }),
        ]);
        expect(v1.events.map((e) => e.status)).toEqual(['APPLIED']);
        // fan-2 moves to building b2; fan-3 is deleted.
        const moved = await api(techB, 'PUT', `${ARXOS}/equipment/fan-2`, {
          building_id: 'b2',
          updated_at: Date.now(),
        });
        expect(moved.status, moved.text).toBe(200);
        expect((await api(techB, 'DELETE', `${ARXOS}/equipment/fan-3`)).status).toBe(204);
      } finally {
        writing = false;
      }
    })();
    await Promise.all([writer, reader]);
    // One more sync after the writer is done, as the client's next background sync would.
    const last = await updates(techA, 'b3', lastSync);
    expect(last.status).toBe(200);
    apply(cache, last.body as Updates);
    syncs.push(last.body as Updates);

    // Assess: the cache is exactly the server's building b3, field by field.
    const truth = await pullAll(manager, 'mgr-truth', '&collections=equipment&scopes=b3');
    expect([...cache.keys()].sort()).toEqual(['fan-1', 'fan-4']);
    for (const record of truth.records) {
      const cached = cache.get(record.id);
      expect(cached, record.id).toBeDefined();
      expect(cached).toMatchObject({
        version: record.version,
        name: record.data.name,
        status: record.data.status,
      });
    }
    expect(cache.get('fan-1')).toMatchObject({ name: 'Fan 1 r3', building_id: 'b3' });
    expect(cache.get('fan-4')).toMatchObject({ type: 'FAN-4', status: 'FAILED', metadata: { via: 'v1' } });
    const deletes = syncs.flatMap((s) => s.deletes);
    expect(deletes).toEqual(expect.arrayContaining(['fan-2', 'fan-3']));
    expect(syncs.length).toBeGreaterThan(1);
  });

  it('since as a plain time (the client’s building.synced_at): every update and deletion after it, whoever wrote it', async () => {
    // Prepare: building b5 with three units, synced by technician A at T (epoch ms, as the client stores it).
    expect((await api(manager, 'PUT', `v1/scopes/b5/members/u-arx-a`)).status).toBe(201);
    expect((await api(manager, 'PUT', `v1/scopes/b5/members/u-arx-b`)).status).toBe(201);
    const seed = await api(techA, 'POST', `${ARXOS}/mobile/sync/batch`, {
      operations: [1, 2, 3].map((n) => ({
        entity_type: 'equipment',
        entity_id: `chiller-${n}`,
        operation: 'create',
        payload: { building_id: 'b5', name: `Chiller ${n}`, type: 'CHILLER', status: 'OPERATIONAL' },
        local_time: new Date(secondsAgo(600)).toISOString(),
      })),
    });
    expect((seed.body as BatchResponse).success).toHaveLength(3);
    const T = Date.now();
    // Act: after T, chiller-1 is deleted and B sends an edit of chiller-2 it made offline an hour ago (its LWW time
    // is before T, its commit after).
    const deleted = await api(techB, 'DELETE', `${ARXOS}/equipment/chiller-1`);
    expect(deleted.status, deleted.text).toBe(204);
    const offline = await api(techB, 'POST', `${ARXOS}/mobile/sync/batch`, {
      operations: [
        {
          entity_type: 'equipment',
          entity_id: 'chiller-2',
          operation: 'update',
          payload: JSON.stringify({ status: 'MAINTENANCE', version: 1 }),
          local_time: new Date(secondsAgo(3600)).toISOString(),
        },
      ],
    });
    expect((offline.body as BatchResponse).success, offline.text).toEqual(['chiller-2']);
    // Assess: since = T - 50 ms, as epoch ms, Unix seconds and RFC 3339, gives the deletion and the edit.
    for (const since of [String(T - 50), String((T - 50) / 1000), new Date(T - 50).toISOString()]) {
      const answer = await updates(techA, 'b5', since);
      expect(answer.status, answer.text).toBe(200);
      const body = answer.body as Updates;
      expect(body.deletes, since).toEqual(['chiller-1']);
      const byId = new Map(body.updates.map((u) => [u.equipment.id, u.equipment]));
      expect(byId.get('chiller-2'), since).toMatchObject({ status: 'MAINTENANCE', version: 2 });
      expect(byId.has('chiller-1')).toBe(false);
      expect(body.last_sync).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
      // Applied to a cache that had the three units, the cache is the server's building.
      const cache = new Map<string, Equipment>(
        ['chiller-1', 'chiller-2', 'chiller-3'].map((id) => [id, { id } as Equipment]),
      );
      apply(cache, body);
      expect([...cache.keys()].sort()).toEqual(['chiller-2', 'chiller-3']);
    }
    // A time older than the change history kept (30 days): the whole building, no deletes (documented).
    const ancient = await updates(techA, 'b5', String(Date.now() - 40 * 86_400_000));
    expect(ancient.status, ancient.text).toBe(200);
    expect((ancient.body as Updates).updates.map((u) => u.equipment.id).sort()).toEqual([
      'chiller-2',
      'chiller-3',
    ]);
    expect((ancient.body as Updates).deletes).toEqual([]);
  });

  it('since as a plain time (first sync), a since never given, and a building not granted', async () => {
    // A Unix time in seconds, as in the document's example: units changed after it (and some before).
    const before = Math.floor(Date.now() / 1000) - 3600;
    const fromTime = await updates(techA, 'b1', String(before));
    expect(fromTime.status, fromTime.text).toBe(200);
    const ids = (fromTime.body as Updates).updates.map((u) => u.equipment.id);
    expect(ids).toEqual(expect.arrayContaining(['ahu-1', 'ahu-2']));
    const future = await updates(techA, 'b1', String(Math.floor(Date.now() / 1000) + 3600));
    expect(future.status, future.text).toBe(200);
    expect((future.body as Updates).last_sync).not.toBe('');

    // The forms the document's client may send back (`since = building.synced_at || 0`): last_sync as given,
    // with every character percent-encoded (the same value once the host decodes it), a time whose '+' offset
    // was not URL-encoded (it arrives as a space), fractional Unix seconds — never a 400.
    const given = (future.body as Updates).last_sync;
    const raw = (query: string) =>
      api(techA, 'GET', `${ARXOS}/mobile/equipment/building/b1/updates?since=${query}`);
    const plain = await raw(given);
    expect(plain.status, plain.text).toBe(200);
    const encoded = await raw(
      [...given].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join(''),
    );
    expect(encoded.status, encoded.text).toBe(200);
    const { last_sync: _a, ...plainChanges } = plain.body as Updates;
    const { last_sync: _b, ...encodedChanges } = encoded.body as Updates;
    expect(encodedChanges).toEqual(plainChanges);
    const hourAhead = new Date(Date.now() + 3_600_000).toISOString().replace('Z', '+00:00');
    const unencodedPlus = await raw(hourAhead);
    expect(unencodedPlus.status, unencodedPlus.text).toBe(200);
    const fractional = await raw(String(before + 0.5));
    expect(fractional.status, fractional.text).toBe(200);
    expect((fractional.body as Updates).updates.map((u) => u.equipment.id)).toEqual(
      expect.arrayContaining(['ahu-1', 'ahu-2']),
    );

    const bad = await updates(techA, 'b1', 'yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ errors: [{ path: 'since' }] });
    const forged = await updates(techA, 'b1', 'eyJ2IjoxfQ.c2lnbmF0dXJl');
    expect(forged.status).toBe(400);

    const notGranted = await updates(stranger, 'b1');
    expect(notGranted.status).toBe(403);
    expect(notGranted.body).toMatchObject({ code: 'SCOPE_NOT_GRANTED' });
    // A manager reads every building.
    expect((await updates(manager, 'b1')).status).toBe(200);
  });

  it('initial sync (download): getBuilding, getEquipmentByBuilding, getSpatialAnchors give every column the client stores', async () => {
    // Prepare: a manager uploads building b7 (two units, one later deleted, one with no optional field, two
    // anchors) and building b8 (a unit and an anchor that must not show in b7's lists); technician A gets b7.
    const t = (n: number) => new Date(secondsAgo(300 - n)).toISOString();
    const seeded = await api(manager, 'POST', `${ARXOS}/mobile/sync/batch`, {
      operations: [
        {
          entity_type: 'building',
          entity_id: 'b7',
          operation: 'create',
          payload: { name: 'Annex', address: '3 Side St', status: 'ACTIVE' },
          local_time: t(0),
        },
        {
          entity_type: 'building',
          entity_id: 'b8',
          operation: 'create',
          payload: { name: 'Depot' },
          local_time: t(1),
        },
        {
          entity_type: 'equipment',
          entity_id: 'pump-1',
          operation: 'create',
          payload: {
            building_id: 'b7',
            name: 'Pump 1',
            type: 'PUMP',
            status: 'OPERATIONAL',
            location_x: 1,
            location_y: 2,
            location_z: 0.5,
            metadata: { serial: 'P-1' },
          },
          local_time: t(2),
        },
        {
          entity_type: 'equipment',
          entity_id: 'pump-2',
          operation: 'create',
          payload: { building_id: 'b7', name: 'Pump 2', type: 'PUMP' },
          local_time: t(3),
        },
        {
          entity_type: 'equipment',
          entity_id: 'pump-gone',
          operation: 'create',
          payload: { building_id: 'b7', name: 'Old', type: 'PUMP' },
          local_time: t(4),
        },
        {
          entity_type: 'equipment',
          entity_id: 'pump-gone',
          operation: 'delete',
          payload: {},
          local_time: t(5),
        },
        {
          entity_type: 'equipment',
          entity_id: 'crane-1',
          operation: 'create',
          payload: { building_id: 'b8', name: 'Crane', type: 'CRANE' },
          local_time: t(6),
        },
        {
          entity_type: 'anchor',
          entity_id: 'anc-1',
          operation: 'create',
          payload: {
            building_id: 'b7',
            equipment_id: 'pump-1',
            position_x: 1,
            position_y: 2.1,
            position_z: 0.5,
            confidence: 0.9,
            anchor_type: 'PLANE',
          },
          local_time: t(7),
        },
        {
          entity_type: 'anchor',
          entity_id: 'anc-2',
          operation: 'create',
          payload: { building_id: 'b7', position_x: 9, position_y: 0, position_z: 1 },
          local_time: t(8),
        },
        {
          entity_type: 'anchor',
          entity_id: 'anc-b8',
          operation: 'create',
          payload: { building_id: 'b8', position_x: 0, position_y: 0, position_z: 0 },
          local_time: t(9),
        },
      ],
    });
    expect(seeded.status, seeded.text).toBe(200);
    expect((seeded.body as BatchResponse).errors).toEqual([]);
    // Ten operations, pump-gone created then deleted: nine ids, each once.
    expect((seeded.body as BatchResponse).success).toHaveLength(9);
    const grant = await api(manager, 'PUT', 'v1/scopes/b7/members/u-arx-a');
    expect(grant.status, grant.text).toBe(201);

    // Act: the client's syncBuilding('b7'), as technician A.
    const building = await api(techA, 'GET', `${ARXOS}/buildings/b7`);
    const equipment = await api(techA, 'GET', `${ARXOS}/equipment/building/b7`);
    const anchors = await api(techA, 'GET', `${ARXOS}/spatial-anchors/building/b7`);

    // Assess: every column of the document's buildings / equipment / spatial_anchors tables that the server
    // owns (synced_at, sync_status and full_sync_at are the client's own), with the values uploaded.
    expect(building.status, building.text).toBe(200);
    const b = building.body as Record<string, unknown>;
    expect(b).toMatchObject({ id: 'b7', name: 'Annex', address: '3 Side St', status: 'ACTIVE', version: 1 });
    for (const column of ['created_at', 'updated_at']) expect(typeof b[column], column).toBe('number');

    expect(equipment.status, equipment.text).toBe(200);
    const units = equipment.body as (Equipment & { created_at: number })[];
    expect(units.map((u) => u.id)).toEqual(['pump-1', 'pump-2']); // live, this building only, by id
    for (const u of units) {
      expect(Object.keys(u)).toEqual(expect.arrayContaining([...EQUIPMENT_COLUMNS, 'created_at']));
      expect(typeof u.created_at).toBe('number');
      expect(typeof u.updated_at).toBe('number');
    }
    expect(units[0]).toMatchObject({
      building_id: 'b7',
      name: 'Pump 1',
      type: 'PUMP',
      status: 'OPERATIONAL',
      location_x: 1,
      location_y: 2,
      location_z: 0.5,
      metadata: { serial: 'P-1' },
      version: 1,
    });
    // An optional field the unit lacks is null, so the client's row is whole.
    expect(units[1]).toMatchObject({
      name: 'Pump 2',
      status: null,
      location_x: null,
      location_y: null,
      location_z: null,
      metadata: null,
    });
    // The same row shape as the updates route gives for the same unit.
    const viaUpdates = (await updates(techA, 'b7')).body as Updates;
    const pump1 = viaUpdates.updates.find((u) => u.equipment.id === 'pump-1')?.equipment;
    expect(pump1).toBeDefined();
    expect(units[0]).toMatchObject(pump1 as Equipment);
    // Including created_at, which the client's equipment table requires (NOT NULL).
    expect((pump1 as Equipment & { created_at?: unknown }).created_at).toBe(units[0]?.created_at);

    expect(anchors.status, anchors.text).toBe(200);
    const list = anchors.body as Record<string, unknown>[];
    expect(list.map((a) => a.id)).toEqual(['anc-1', 'anc-2']);
    const ANCHOR_COLUMNS = [
      'id',
      'building_id',
      'equipment_id',
      'position_x',
      'position_y',
      'position_z',
      'confidence',
      'anchor_type',
      'created_at',
    ];
    for (const a of list) {
      expect(Object.keys(a)).toEqual(expect.arrayContaining(ANCHOR_COLUMNS));
      expect(typeof a.created_at).toBe('number');
    }
    expect(list[0]).toMatchObject({
      building_id: 'b7',
      equipment_id: 'pump-1',
      position_x: 1,
      position_y: 2.1,
      position_z: 0.5,
      confidence: 0.9,
      anchor_type: 'PLANE',
    });
    expect(list[1]).toMatchObject({
      equipment_id: null,
      position_x: 9,
      position_y: 0,
      position_z: 1,
      confidence: null,
      anchor_type: null,
    });
    // What the client returns: { success, equipment: equipment.length, anchors: anchors.length }.
    expect([units.length, list.length]).toEqual([2, 2]);
  });

  it('initial sync reads: 403 for a building not granted, 404 for an unknown one', async () => {
    for (const path of ['buildings/b8', 'equipment/building/b8', 'spatial-anchors/building/b8']) {
      // Technician A has b1, b3 and b7, not b8 (which exists): refused, as the other arxos routes refuse.
      const refused = await api(techA, 'GET', `${ARXOS}/${path}`);
      expect(refused.status, `${path} ${refused.text}`).toBe(403);
      expect(refused.body).toMatchObject({ code: 'SCOPE_NOT_GRANTED' });
      // A manager reads every building.
      const read = await api(manager, 'GET', `${ARXOS}/${path}`);
      expect(read.status, `${path} ${read.text}`).toBe(200);
    }
    expect(
      ((await api(manager, 'GET', `${ARXOS}/equipment/building/b8`)).body as Equipment[]).map((u) => u.id),
    ).toEqual(['crane-1']);

    // No such building: for a manager, and for an OPERATOR granted a scope no building has.
    const grant = await api(manager, 'PUT', 'v1/scopes/b-ghost/members/u-arx-a');
    expect(grant.status, grant.text).toBe(201);
    for (const path of ['buildings', 'equipment/building', 'spatial-anchors/building']) {
      for (const [token, id] of [
        [manager, 'b-none'],
        [techA, 'b-ghost'],
      ] as const) {
        const missing = await api(token, 'GET', `${ARXOS}/${path}/${id}`);
        expect(missing.status, `${path}/${id} ${missing.text}`).toBe(404);
        expect(missing.body).toMatchObject({ code: 'RECORD_NOT_FOUND' });
      }
    }
    // A deleted building is unknown too.
    const deleted = await api(manager, 'POST', `${ARXOS}/mobile/sync/batch`, {
      operations: [{ entity_type: 'building', entity_id: 'b8', operation: 'delete', payload: {} }],
    });
    expect((deleted.body as BatchResponse).success, deleted.text).toEqual(['b8']);
    expect((await api(manager, 'GET', `${ARXOS}/buildings/b8`)).status).toBe(404);
  });
});
