import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  deviceIdOf,
  docPath,
  eventIdFor,
  fromDocument,
  LAST_SYNC_PATTERN,
  parseSince,
  toDocument,
} from '../../shared/compat/arxos/mapping.js';
import { ARXOS_ROUTES, arxosUpdatesResponseSchema } from '../../shared/compat/arxos/routes.js';
import { checkOperation } from '../../shared/compat/arxos/responses.js';
import { encodeCursor } from '../../shared/sync/cursor.js';
import { routeClassOf } from '../../shared/http/rate-limit.js';

// The pure field mapping of seed 002 (docs/compat/arxos.md "Fields").
describe('arxos mapping', () => {
  it('maps a cached equipment row to pack fields, ignoring cache columns, reading version/updated_at/force', () => {
    const mapped = fromDocument(
      'equipment',
      {
        id: 'e1',
        building_id: 'b1',
        name: 'AHU',
        type: 'HVAC',
        status: null,
        location_x: 1,
        location_y: 2,
        location_z: 0,
        metadata: { serial: 'S' },
        created_at: 5,
        synced_at: null,
        sync_status: 'pending',
        version: 3,
        updated_at: 1_700_000_000_000,
        force: true,
      },
      'update',
    );
    expect(mapped).toEqual({
      ok: true,
      value: {
        fields: {
          buildingId: 'b1',
          name: 'AHU',
          type: 'HVAC',
          status: null,
          location: { x: 1, y: 2, z: 0 },
          metadata: { serial: 'S' },
        },
        version: 3,
        updatedAt: 1_700_000_000_000,
        force: true,
      },
    });
    // On a create, null means "not given"; all-null location clears only on an update.
    const created = fromDocument(
      'equipment',
      { name: 'A', status: null, location_x: null, location_y: null, location_z: null },
      'create',
    );
    expect(created).toEqual({ ok: true, value: { fields: { name: 'A' }, force: false } });
    const cleared = fromDocument(
      'equipment',
      { location_x: null, location_y: null, location_z: null },
      'update',
    );
    expect(cleared.ok && cleared.value.fields).toEqual({ location: null });
  });

  it('refuses unknown columns, a partial point and bad version/updated_at/force, with the document paths', () => {
    const refused = fromDocument(
      'anchor',
      { colour: 'red', position_x: 1, position_y: 'up', version: -1, updated_at: 'now', force: 'yes' },
      'create',
      'operations[2].payload',
    );
    expect(refused.ok).toBe(false);
    expect(refused.ok ? [] : refused.errors.map((e) => e.path).sort()).toEqual(
      [
        'operations[2].payload.colour',
        'operations[2].payload.force',
        'operations[2].payload.position_y',
        'operations[2].payload.position_z',
        'operations[2].payload.updated_at',
        'operations[2].payload.version',
      ].sort(),
    );
  });

  it('answers a record in the document columns, null for what it lacks, times in epoch ms', () => {
    const doc = toDocument('anchor', {
      id: 'a1',
      version: 2,
      data: { buildingId: 'b1', position: { x: 1, y: 2, z: 3 }, anchorType: 'QR' },
      updatedAt: '2026-01-01T00:00:00.000Z',
      createdAt: '2025-12-31T00:00:00.000Z',
    });
    expect(doc).toEqual({
      id: 'a1',
      building_id: 'b1',
      equipment_id: null,
      confidence: null,
      anchor_type: 'QR',
      position_x: 1,
      position_y: 2,
      position_z: 3,
      version: 2,
      created_at: Date.parse('2025-12-31T00:00:00.000Z'),
      updated_at: Date.parse('2026-01-01T00:00:00.000Z'),
    });
  });

  it('names engine validation paths in the document’s columns', () => {
    expect(docPath('equipment', 'events[4].payload.data.buildingId', 'operations[1].payload')).toBe(
      'operations[1].payload.building_id',
    );
    expect(docPath('equipment', 'events[0].payload.changes.location.z', '')).toBe('location_z');
    expect(docPath('building', 'events[0].payload.data', 'payload')).toBe('payload');
  });

  it('gives the same operation the same UUID event id, and another one another', () => {
    const parts = { userId: 'u', deviceId: 'd', type: 'RECORD_CREATED', occurredAt: 't', payload: { a: 1 } };
    const id = eventIdFor(parts);
    expect(z.uuid().safeParse(id).success).toBe(true);
    expect(eventIdFor({ ...parts, payload: { a: 1 } })).toBe(id);
    expect(eventIdFor({ ...parts, payload: { a: 2 } })).not.toBe(id);
    expect(eventIdFor({ ...parts, deviceId: 'other' })).not.toBe(id);
  });

  it('reads since: first sync, Unix seconds or ms, RFC 3339, a cursor, or nothing valid', () => {
    expect(parseSince(undefined)).toEqual({ kind: 'start' });
    expect(parseSince('0')).toEqual({ kind: 'start' });
    expect(parseSince('1234567890')).toEqual({ kind: 'time', at: new Date(1_234_567_890_000) });
    expect(parseSince('1700000000000')).toEqual({ kind: 'time', at: new Date(1_700_000_000_000) });
    expect(parseSince('2026-01-01T00:00:00Z')).toEqual({
      kind: 'time',
      at: new Date('2026-01-01T00:00:00Z'),
    });
    expect(parseSince('eyJ2IjoxfQ.c2ln')).toEqual({ kind: 'cursor', cursor: 'eyJ2IjoxfQ.c2ln' });
    expect(parseSince('yesterday')).toBeUndefined();
  });

  it('reads since in every form the document’s client may send a time back in', () => {
    const at = new Date('2026-01-01T10:00:00.250Z');
    for (const text of [
      '2026-01-01T10:00:00.250Z',
      '2026-01-01T10:00:00.25+00:00',
      '2026-01-01T10:00:00.25 00:00', // '+' sent unencoded in the query string arrives as a space
      '2026-01-01T05:00:00.250-05:00',
      '2026-01-01t10:00:00.250z',
      '1767261600.25', // Unix seconds with a fraction (Date.now() / 1000)
      '1767261600250',
    ]) {
      expect(parseSince(text), text).toEqual({ kind: 'time', at });
    }
    expect(parseSince('')).toEqual({ kind: 'start' }); // `synced_at || 0` with an empty value
    expect(parseSince('0.0')).toEqual({ kind: 'start' });
  });

  it('last_sync: every cursor the route gives matches the documented pattern and comes back as itself, URL-encoded or not (property)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 64 }),
        (x, seq, tenantId, key) => {
          const lastSync = encodeCursor(
            { v: 1, t: tenantId, m: 'd', x: String(x), s: String(seq), h: 'abc' },
            key,
          );
          expect(lastSync).toMatch(LAST_SYNC_PATTERN);
          // Its characters are URL-safe: encoding changes nothing, and what the host decodes is the value.
          expect(encodeURIComponent(lastSync)).toBe(lastSync);
          const everyCharEncoded = [...lastSync]
            .map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
            .join('');
          expect(parseSince(decodeURIComponent(everyCharEncoded))).toEqual({
            kind: 'cursor',
            cursor: lastSync,
          });
          // Never a number SQLite would convert in the client's INTEGER synced_at column, never a time.
          expect(Number.isNaN(Number(lastSync))).toBe(true);
          expect(Number.isNaN(Date.parse(lastSync))).toBe(true);
          expect(
            arxosUpdatesResponseSchema.safeParse({ updates: [], deletes: [], last_sync: lastSync }).success,
          ).toBe(true);
        },
      ),
    );
    // The OpenAPI contract says it: not a date-time.
    expect(
      arxosUpdatesResponseSchema.safeParse({ updates: [], deletes: [], last_sync: '2026-01-01T00:00:00Z' })
        .success,
    ).toBe(false);
  });

  it('uses X-Device-Id when valid, else one device per user', () => {
    expect(deviceIdOf('ipad-7', 'u1')).toBe('ipad-7');
    expect(deviceIdOf('bad id', 'u 1')).toBe('arxos.u_1');
    expect(deviceIdOf(null, 'u1')).toBe('arxos.u1');
  });

  it('counts the batch and equipment writes as pushes and updates as a pull page (rate limits)', () => {
    expect(Object.fromEntries(ARXOS_ROUTES.map((r) => [r.name, routeClassOf(r)]))).toEqual({
      arxosSyncBatch: 'push',
      arxosEquipmentUpdates: 'pull',
      arxosCreateEquipment: 'push',
      arxosUpdateEquipment: 'push',
      arxosDeleteEquipment: 'push',
      // The initial-sync reads (a building, its equipment, its anchors) are pull pages too.
      arxosGetBuilding: 'pull',
      arxosEquipmentByBuilding: 'pull',
      arxosSpatialAnchors: 'pull',
    });
  });

  it('reads a payload sent as JSON text (SQLite TEXT) as the object it holds (property)', () => {
    const payload = fc.dictionary(
      fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== '__proto__'),
      fc.jsonValue(),
      { maxKeys: 5 },
    );
    fc.assert(
      fc.property(payload, fc.nat(50), (object, index) => {
        // prepare: the same operation, its payload as an object and as the text SQLite gives back (the object
        // as a JSON body carries it: -0 travels as 0)
        const op = { entity_type: 'equipment', entity_id: 'eq-1', operation: 'update' };
        const sent = JSON.parse(JSON.stringify(object)) as unknown;
        // act
        const asObject = checkOperation({ ...op, payload: sent }, index);
        const asText = checkOperation({ ...op, payload: JSON.stringify(object) }, index);
        // assess: one and the same input
        expect(asText).toEqual(asObject);
        expect(asText.ok).toBe(true);
      }),
    );
  });

  it('refuses a payload text that is not a JSON object with the per-operation error and its path', () => {
    for (const text of ['not json', '[1,2]', '42', 'null', '"text"', '{"a":']) {
      const checked = checkOperation(
        { entity_type: 'equipment', entity_id: 'eq-1', operation: 'update', payload: text },
        3,
      );
      expect(checked.ok, text).toBe(false);
      if (checked.ok) continue;
      expect(checked.error).toMatchObject({
        index: 3,
        entity_id: 'eq-1',
        code: 'INVALID_PAYLOAD',
        errors: [{ path: 'operations[3].payload', message: 'must be a JSON object, or JSON text of one' }],
      });
    }
  });
});
