import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadPack, PACK_NAMES } from '../../shared/packs/packs.js';
import { checkDefinition } from '../../shared/schema/definition.js';
import { compileCollection, type RecordSchemas, ValidatorCache } from '../../shared/schema/validator.js';
import { checkEvent } from '../../shared/sync/validate-event.js';

// SPEC v1.1 "Record events": data and changes are validated against the collection's schema, with JSON paths
// such as events[2].payload.changes.diagnosis. The clinic pack's encounters are the example.
/** A pack's collection, failing the test when the pack lacks it. */
const collectionOf = (pack: 'clinic' | 'facilities', name: string) => {
  const found = loadPack(pack).collections[name];
  if (!found) throw new Error(`pack ${pack} has no ${name}`);
  return found;
};
const encounters = collectionOf('clinic', 'encounters');
const patients = collectionOf('clinic', 'patients');

const schemas: RecordSchemas = {
  schemaVersion: 3,
  lookup: (name) =>
    name === 'encounters'
      ? { kind: 'collection', validator: compileCollection(encounters) }
      : name === 'patients'
        ? { kind: 'collection', validator: compileCollection(patients) }
        : name === 'wells'
          ? { kind: 'builtin', writtenBy: 'PUT /v1/wells/{id}' }
          : { kind: 'unknown' },
};

const NOW = new Date('2026-01-10T12:00:00Z');
const event = (type: string, payload: Record<string, unknown>) => ({
  id: randomUUID(),
  type,
  occurredAt: '2026-01-10T11:00:00Z',
  payload,
});
const encounter = {
  clinicId: 'clinic-a',
  patientId: 'p-1',
  encounteredAt: '2026-01-10T10:00:00Z',
  diagnosis: 'Common cold',
};

describe('the packs', () => {
  it.each(PACK_NAMES)('%s: every collection is a sound definition', (name) => {
    const pack = loadPack(name);
    expect(pack.name).toBe(name);
    for (const { builtin: _b, writtenBy: _w, ...definition } of Object.values(pack.collections))
      expect(checkDefinition(definition)).toEqual([]);
  });
});

describe('collection validator', () => {
  const v = compileCollection(encounters);

  it('accepts a whole record, refuses missing required fields and wrong values with their paths', () => {
    expect(v.validateData(encounter)).toEqual([]);
    const errors = v.validateData({ clinicId: 'clinic-a', encounteredAt: 'yesterday', extra: 1 });
    expect(errors.map((e) => e.path).sort()).toEqual(['encounteredAt', 'extra', 'patientId']);
  });

  it('checks changes field by field: null clears an optional field, never a required one', () => {
    expect(v.validateChanges({ diagnosis: 'Flu' })).toEqual([]);
    expect(v.validateChanges({ diagnosis: null, notes: null })).toEqual([]);
    expect(v.validateChanges({ patientId: null })).toEqual([
      { path: 'patientId', message: 'is required: it cannot be cleared' },
    ]);
    expect(v.validateChanges({ diagnosis: 42 }).map((e) => e.path)).toEqual(['diagnosis']);
    expect(v.validateChanges({ nope: 'x' })).toEqual([
      { path: 'nope', message: 'is not a field of this collection' },
    ]);
  });

  it('a required field whose schema allows null may be set to null', () => {
    const nullable = compileCollection({
      schema: { type: 'object', properties: { a: { type: ['string', 'null'] } }, required: ['a'] },
    });
    expect(nullable.validateChanges({ a: null })).toEqual([]);
  });

  it('present(): a cleared field (null where the schema does not accept null) is left out; a nullable one keeps null', () => {
    const nullable = compileCollection({
      schema: { type: 'object', properties: { a: { type: ['string', 'null'] }, b: { type: 'string' } } },
    });
    expect(nullable.present({ a: null, b: null, c: 'x' })).toEqual({ a: null, c: 'x' });
    const { diagnosis: _cleared, ...rest } = { ...encounter, diagnosis: 'x' };
    expect(v.present({ ...encounter, diagnosis: null })).toEqual(rest);
    // What present() gives is valid for the schema again (the pulled record a client may re-validate).
    expect(v.validateData(v.present({ ...encounter, notes: null }))).toEqual([]);
  });

  it('the scope field takes only values a grant can name (no "/" or ",")', () => {
    expect(v.validateData({ ...encounter, clinicId: 'clinic/a' })).toEqual([
      { path: 'clinicId', message: expect.stringContaining('scope') },
    ]);
    expect(v.validateChanges({ clinicId: 'a,b' }).map((e) => e.path)).toEqual(['clinicId']);
    expect(v.validateChanges({ clinicId: ' lead' }).map((e) => e.path)).toEqual(['clinicId']);
    expect(v.validateChanges({ clinicId: 'clinic-b' })).toEqual([]);
  });

  it('nested paths and $refs: a facilities anchor position', () => {
    const anchors = compileCollection(collectionOf('facilities', 'spatial_anchors'));
    expect(anchors.validateChanges({ position: { x: 1, y: 2 } })).toEqual([
      { path: 'position.z', message: 'is required' },
    ]);
    expect(anchors.validateChanges({ confidence: 1.5 }).map((e) => e.path)).toEqual(['confidence']);
    expect(
      anchors.validateData({ buildingId: 'b-1', position: { x: 0, y: 0, z: 'up' } }).map((e) => e.path),
    ).toEqual(['position.z']);
  });

  it('the cache compiles a (tenant, collection, version) once', () => {
    const cache = new ValidatorCache();
    const c = { name: 'encounters', version: 1, definition: encounters };
    const first = cache.get('t1', c);
    expect(cache.get('t1', c)).toBe(first);
    expect(cache.compilations).toBe(1);
    cache.get('t1', { ...c, version: 2 });
    cache.get('t2', c);
    expect(cache.compilations).toBe(3);
  });
});

describe('push-time validation of RECORD_* events (checkEvent)', () => {
  it('refuses a field named __proto__ (parsing would drop it silently) with its path', () => {
    // As JSON.parse gives it: an own key, not the prototype.
    const raw = JSON.parse(
      JSON.stringify(event('RECORD_CREATED', { collection: 'patients', recordId: 'p-9', data: {} })).replace(
        '"data":{}',
        '"data":{"clinicId":"clinic-a","name":"x","__proto__":{"admin":true}}',
      ),
    ) as unknown;
    const checked = checkEvent(raw, 4, NOW, schemas);
    expect(checked.ok).toBe(false);
    if (!checked.ok)
      expect(checked.rejection.errors).toEqual([
        { path: 'events[4].payload.data.__proto__', message: 'a field may not be named __proto__' },
      ]);
  });

  it('passes a valid create and update', () => {
    expect(
      checkEvent(
        event('RECORD_CREATED', { collection: 'encounters', recordId: 'e-1', data: encounter }),
        0,
        NOW,
        schemas,
      ).ok,
    ).toBe(true);
    const update = event('RECORD_UPDATED', {
      collection: 'encounters',
      recordId: 'e-1',
      baseVersion: 1,
      changes: { diagnosis: 'Flu' },
    });
    expect(checkEvent(update, 0, NOW, schemas).ok).toBe(true);
  });

  it('reports data and changes errors at events[i].payload.data.<field> / .changes.<field>', () => {
    const bad = checkEvent(
      event('RECORD_CREATED', {
        collection: 'encounters',
        recordId: 'e-1',
        data: { ...encounter, patientId: undefined },
      }),
      0,
      NOW,
      schemas,
    );
    expect(bad).toMatchObject({
      ok: false,
      rejection: { code: 'INVALID_PAYLOAD', index: 0, retryable: false },
    });
    if (!bad.ok)
      expect(bad.rejection.errors).toEqual([
        { path: 'events[0].payload.data.patientId', message: 'is required' },
      ]);
    const changes = checkEvent(
      event('RECORD_UPDATED', {
        collection: 'encounters',
        recordId: 'e-1',
        baseVersion: 1,
        changes: { diagnosis: 7 },
      }),
      2,
      NOW,
      schemas,
    );
    expect(changes.ok).toBe(false);
    if (!changes.ok)
      expect(changes.rejection.errors?.map((e) => e.path)).toEqual(['events[2].payload.changes.diagnosis']);
  });

  it('an unknown collection is UNKNOWN_COLLECTION; a builtin one INVALID_PAYLOAD at payload.collection', () => {
    const unknown = checkEvent(
      event('RECORD_DELETED', { collection: 'invoices', recordId: 'i-1', baseVersion: 1 }),
      1,
      NOW,
      schemas,
    );
    expect(unknown).toMatchObject({ ok: false, rejection: { code: 'UNKNOWN_COLLECTION', retryable: false } });
    const builtin = checkEvent(
      event('RECORD_CREATED', { collection: 'wells', recordId: 'w-1', data: { name: 'x' } }),
      1,
      NOW,
      schemas,
    );
    expect(builtin).toMatchObject({ ok: false, rejection: { code: 'INVALID_PAYLOAD' } });
    if (!builtin.ok) {
      expect(builtin.rejection.errors?.[0]?.path).toBe('events[1].payload.collection');
      expect(builtin.rejection.errors?.[0]?.message).toMatch(/PUT \/v1\/wells/);
    }
  });
});
