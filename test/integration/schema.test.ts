import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { Principal } from '../../shared/auth/principal.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { pushBatch } from '../../shared/usecases/push.js';
import { api } from '../support/api.js';
import {
  DEMO_DEVICE_ID,
  DEMO_TENANTS,
  demoManager,
  grantDemoScopes,
  pushDemoRecords,
} from '../../local/demo-data.js';
import { compileCollection } from '../../shared/schema/validator.js';
import { tokenFor } from '../support/auth.js';
import { freshTenant } from '../support/tenants.js';
import { waitFor } from '../support/wait.js';

// SPEC v1.1 "Collections": GET /v1/schema, PUT /v1/schema/collections/{name} (ADMIN) refusing incompatible
// changes with 409 and the reasons; RECORD_* events validated against the tenant's collections at push.
// Over the local Functions host (real HTTP), against a clinic tenant of this file's own.
let tenant: Tenant;
let admin: string;
let manager: string;
let operator: string;

interface Problem {
  status: number;
  code?: string;
  errors?: { path: string; message: string }[];
}

beforeAll(async () => {
  tenant = await freshTenant('schema', ['clinic']);
  admin = await tokenFor(tenant.id, ['ADMIN'], 'u-admin');
  manager = await tokenFor(tenant.id, ['MANAGER'], 'u-manager');
  operator = await tokenFor(tenant.id, ['OPERATOR'], 'u-operator');
});
afterAll(() => closeApp());

const triage = {
  schema: {
    type: 'object',
    properties: {
      clinicId: { type: 'string' },
      level: { type: 'string', enum: ['GREEN', 'AMBER', 'RED'] },
      note: { type: 'string', maxLength: 500 },
    },
    required: ['clinicId', 'level'],
  },
  scope: 'clinicId',
};

const pushEvents = (events: unknown[]) =>
  api(operator, 'POST', 'v1/sync/batches', { deviceId: `dev-${randomBytes(3).toString('hex')}`, events });
const event = (type: string, payload: Record<string, unknown>) => ({
  id: randomUUID(),
  type,
  occurredAt: new Date(Date.now() - 60_000).toISOString(),
  payload,
});

describe('GET /v1/schema', () => {
  it("answers any role with the tenant's packs, collections and schema version", async () => {
    // Act
    const seen = await api(operator, 'GET', 'v1/schema');
    // Assess
    expect(seen.status).toBe(200);
    expect(seen.body.packs).toEqual(['clinic']);
    // The clinic pack: two collections, each one change → schema version 2 before any test changes it.
    expect(seen.body.schemaVersion).toBeGreaterThanOrEqual(2);
    const names = (seen.body.collections as { name: string }[]).map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining(['encounters', 'patients']));
    expect(seen.body.collections.find((c: { name: string }) => c.name === 'encounters')).toMatchObject({
      version: 1,
      scope: 'clinicId',
      pack: 'clinic',
      builtin: false,
      conflict: { strategy: 'LWW', fields: { prescription: 'MANUAL' } },
      schema: { type: 'object', required: ['clinicId', 'patientId', 'encounteredAt'] },
    });
  });
});

describe('PUT /v1/schema/collections/{name}', () => {
  it('is for ADMIN only: 403 for a MANAGER, nothing stored', async () => {
    const refused = await api(manager, 'PUT', 'v1/schema/collections/triage_mgr', triage);
    expect(refused.status).toBe(403);
    const seen = await api(manager, 'GET', 'v1/schema');
    expect(seen.body.collections.map((c: { name: string }) => c.name)).not.toContain('triage_mgr');
  });

  it('creates (201), then a compatible change bumps the collection and tenant versions (200); the same again is a no-op', async () => {
    // Prepare
    const before = (await api(admin, 'GET', 'v1/schema')).body.schemaVersion as number;
    // Act
    const created = await api(admin, 'PUT', 'v1/schema/collections/triage', triage);
    const widened = {
      ...triage,
      schema: {
        ...triage.schema,
        properties: {
          ...triage.schema.properties,
          level: { type: 'string', enum: ['GREEN', 'AMBER', 'RED', 'BLACK'] },
          nurse: { type: 'string' },
        },
      },
      conflict: { strategy: 'MANUAL' },
    };
    const changed = await api(admin, 'PUT', 'v1/schema/collections/triage', widened);
    const again = await api(admin, 'PUT', 'v1/schema/collections/triage', widened);
    const after = (await api(admin, 'GET', 'v1/schema')).body;
    // Assess
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: 'triage',
      version: 1,
      scope: 'clinicId',
      pack: null,
      builtin: false,
    });
    expect(created.body.conflict).toEqual({ strategy: 'LWW' });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ version: 2, conflict: { strategy: 'MANUAL' } });
    expect(again.status).toBe(200);
    expect(again.body.version).toBe(2);
    expect(after.schemaVersion).toBe(before + 2);
    expect(after.collections.find((c: { name: string }) => c.name === 'triage')).toMatchObject({
      version: 2,
    });
  });

  it('refuses an incompatible change with 409 and every reason by path; nothing changes', async () => {
    // Prepare
    expect((await api(admin, 'PUT', 'v1/schema/collections/vitals', triage)).status).toBe(201);
    const before = (await api(admin, 'GET', 'v1/schema')).body.schemaVersion as number;
    const { note: _removed, ...rest } = triage.schema.properties;
    // Act
    const refused = await api(admin, 'PUT', 'v1/schema/collections/vitals', {
      schema: {
        ...triage.schema,
        properties: { ...rest, level: { type: 'string', enum: ['GREEN', 'RED'] } },
      },
      scope: 'level',
    });
    // Assess
    expect(refused.status).toBe(409);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    const problem = refused.body as Problem;
    expect(problem.code).toBe('SCHEMA_INCOMPATIBLE');
    expect(problem.errors?.map((e) => e.path).sort()).toEqual(
      ['schema.properties.level.enum', 'schema.properties.note', 'scope'].sort(),
    );
    const after = (await api(admin, 'GET', 'v1/schema')).body;
    expect(after.schemaVersion).toBe(before);
    expect(after.collections.find((c: { name: string }) => c.name === 'vitals')).toMatchObject({
      version: 1,
    });
  });

  it('answers 400 with paths for an unsound definition and for a bad name', async () => {
    const bad = await api(admin, 'PUT', 'v1/schema/collections/broken', {
      schema: { type: 'object', properties: { a: { type: 'number' } } },
      scope: 'a',
      conflict: { strategy: 'LWW', fields: { b: 'MANUAL' } },
    });
    expect(bad.status).toBe(400);
    expect((bad.body as Problem).errors?.map((e) => e.path).sort()).toEqual(['conflict.fields.b', 'scope']);
    const badName = await api(admin, 'PUT', 'v1/schema/collections/Not-A-Name', triage);
    expect(badName.status).toBe(400);
  });
});

describe('schema changes under concurrency, and builtin collections', () => {
  it('concurrent PUTs of several collections: each one change, schema versions gap-free', async () => {
    // Prepare
    const before = (await api(admin, 'GET', 'v1/schema')).body.schemaVersion as number;
    const names = ['c_one', 'c_two', 'c_three', 'c_four', 'c_five'];
    // Act: all at once, and each twice (the second of a pair is a no-op or the first, never a second change)
    const answers = await Promise.all(
      [...names, ...names].map((name) => api(admin, 'PUT', `v1/schema/collections/${name}`, triage)),
    );
    // Assess
    expect(answers.map((a) => a.status).sort()).toEqual([...names.map(() => 200), ...names.map(() => 201)]);
    const after = (await api(admin, 'GET', 'v1/schema')).body;
    expect(after.schemaVersion).toBe(before + names.length);
    for (const name of names)
      expect(after.collections.find((c: { name: string }) => c.name === name)).toMatchObject({ version: 1 });
    const { rows } = await getApp()
      .tenantPool(tenant)
      .query<{ n: number; top: number }>(
        'select count(*)::int as n, max(schema_version) as top from sync_schema_changes',
      );
    expect(rows[0]).toEqual({ n: after.schemaVersion, top: after.schemaVersion });
  });

  it('an oil-gas tenant: builtin collections cannot be PUT (409) nor written by RECORD_* (INVALID_PAYLOAD)', async () => {
    // Prepare
    const oil = await freshTenant('schema-oil', ['oil-gas']);
    const oilAdmin = await tokenFor(oil.id, ['ADMIN'], 'u-admin');
    // Act
    const seen = await api(oilAdmin, 'GET', 'v1/schema');
    const put = await api(oilAdmin, 'PUT', 'v1/schema/collections/wells', triage);
    const pushed = await api(oilAdmin, 'POST', 'v1/sync/batches', {
      deviceId: 'dev-oil',
      events: [
        event('RECORD_UPDATED', {
          collection: 'well_equipment',
          recordId: 'pump-1',
          baseVersion: 1,
          changes: { notes: 'x' },
        }),
      ],
    });
    // Assess
    expect(seen.body).toMatchObject({ packs: ['oil-gas'], schemaVersion: 4 });
    expect(seen.body.collections.find((c: { name: string }) => c.name === 'well_equipment')).toMatchObject({
      builtin: true,
      pack: 'oil-gas',
      writtenBy: expect.stringMatching(/EQUIPMENT_UPDATED/),
    });
    expect(put.status).toBe(409);
    expect(put.body).toMatchObject({ code: 'BUILTIN_COLLECTION' });
    expect(pushed.body.rejected).toEqual([
      expect.objectContaining({
        code: 'INVALID_PAYLOAD',
        errors: [expect.objectContaining({ path: 'events[0].payload.collection' })],
      }),
    ]);
  });
});

describe('push-time validation of record events', () => {
  it('INVALID_PAYLOAD with the field paths; an unknown collection REJECTED UNKNOWN_COLLECTION', async () => {
    // Act: only refused events (none is enqueued)
    const pushed = await pushEvents([
      event('RECORD_CREATED', {
        collection: 'encounters',
        recordId: 'enc-1',
        data: { clinicId: 'clinic-a', encounteredAt: 'not a time' },
      }),
      event('RECORD_UPDATED', {
        collection: 'patients',
        recordId: 'pt-1',
        baseVersion: 1,
        changes: { name: null, sex: 'X' },
      }),
      event('RECORD_CREATED', { collection: 'invoices', recordId: 'i-1', data: { total: 1 } }),
    ]);
    // Assess
    expect(pushed.status).toBe(202);
    expect(pushed.body.accepted).toBe(0);
    const byIndex = Object.fromEntries(
      (pushed.body.rejected as (Problem & { index: number })[]).map((r) => [r.index, r]),
    );
    expect(byIndex[0]).toMatchObject({ code: 'INVALID_PAYLOAD', retryable: false });
    expect(byIndex[0]?.errors?.map((e) => e.path).sort()).toEqual([
      'events[0].payload.data.encounteredAt',
      'events[0].payload.data.patientId',
    ]);
    expect(byIndex[1]?.errors?.map((e) => e.path).sort()).toEqual([
      'events[1].payload.changes.name',
      'events[1].payload.changes.sex',
    ]);
    expect(byIndex[2]).toMatchObject({ code: 'UNKNOWN_COLLECTION', retryable: false });
  });

  it('a collection added by PUT is validated by the next push (the cache follows the schema version)', async () => {
    // Prepare: the push use case with a queue that keeps the messages (nothing is processed here)
    const app = getApp();
    const principal: Principal = { tenantId: tenant.id, userId: 'u-operator', roles: ['OPERATOR'] };
    const push = (events: unknown[]) =>
      pushBatch(
        { ...app, queue: { send: async () => {}, schedule: () => Promise.reject(new Error('unused')) } },
        { tenant, principal, body: { deviceId: `dev-${randomBytes(3).toString('hex')}`, events } },
      );
    const sample = (collection: string) =>
      event('RECORD_CREATED', {
        collection,
        recordId: randomUUID(),
        data: { clinicId: 'c-1', level: 'RED' },
      });
    const first = await push([sample('referrals')]);
    // Act
    const created = await api(admin, 'PUT', 'v1/schema/collections/referrals', triage);
    const second = await push([
      sample('referrals'),
      {
        ...sample('referrals'),
        payload: { collection: 'referrals', recordId: 'r-x', data: { clinicId: 'c-1', level: 'BLUE' } },
      },
    ]);
    // Assess
    expect(created.status).toBe(201);
    if (first.kind !== 'accepted' || second.kind !== 'accepted') throw new Error('expected accepted batches');
    expect(first.response.rejected).toEqual([expect.objectContaining({ code: 'UNKNOWN_COLLECTION' })]);
    expect(second.response.accepted).toBe(1);
    expect(second.response.rejected).toEqual([
      expect.objectContaining({
        index: 1,
        code: 'INVALID_PAYLOAD',
        errors: [expect.objectContaining({ path: 'events[1].payload.data.level' })],
      }),
    ]);
  });
});

describe('demo data of npm start (local/demo-data.ts)', () => {
  it("every demo record is valid for its pack's schema, and is written through push and the engine", async () => {
    for (const demo of DEMO_TENANTS.filter((d) => d.records?.length)) {
      // Prepare
      const app = getApp();
      const packTenant = await freshTenant('demo', demo.packs);
      const schema = await app.schemas.load(packTenant);
      const byName = new Map(schema.collections.map((c) => [c.name, c]));
      for (const record of demo.records ?? []) {
        const collection = byName.get(record.collection);
        if (!collection) throw new Error(`${demo.id}: no collection ${record.collection}`);
        expect(compileCollection(collection.definition).validateData(record.data), record.id).toEqual([]);
      }
      // Act: as npm start does; the shared host's processor applies the batch.
      await grantDemoScopes(app, packTenant, demo);
      const at = new Date();
      const accepted = await pushDemoRecords(app, packTenant, demo, at);
      if (!accepted) throw new Error(`${demo.id}: nothing pushed`);
      const outcome = await waitFor(
        async () => {
          const o = await app.eventLog.batchOutcome(packTenant, accepted.batchId);
          return o?.status === 'COMPLETED' ? o : undefined;
        },
        { what: `${demo.id}'s demo batch to complete` },
      );
      // Assess: every record applied by the engine (not written behind its back).
      const total = demo.records?.length ?? 0;
      expect(outcome.counts, JSON.stringify(outcome)).toMatchObject({ total, applied: total });
      const pool = app.tenantPool(packTenant);
      const { rows } = await pool.query<{
        collection: string;
        id: string;
        version: number;
        scope: string | null;
        field_meta: object;
      }>('select collection, id, version, scope, field_meta from records order by collection, id');
      expect(rows).toHaveLength(total);
      for (const row of rows) {
        const record = demo.records?.find((r) => r.id === row.id);
        const field = byName.get(row.collection)?.definition.scope;
        expect(row.version).toBe(1);
        expect(row.scope).toBe(field ? String(record?.data[field]) : null);
        expect(Object.keys(row.field_meta).sort()).toEqual(Object.keys(record?.data ?? {}).sort());
      }
      expect(new Set(rows.map((r) => r.scope).filter(Boolean)).size).toBe(2); // two clinics / two buildings
      const logged = await pool.query<{ n: number }>(
        "select count(*)::int as n from change_log where entity_type = 'record'",
      );
      expect(logged.rows[0]?.n).toBe(total);
      const device = await app.devices.get(packTenant.id, DEMO_DEVICE_ID);
      expect(device).toMatchObject({ userId: demoManager(demo).id });
      expect(device?.lastPushAt).not.toBeNull();
      // Each operator is granted one scope, one of those the records use.
      const grants = await app.scopes.list(packTenant);
      expect(grants.map((g) => ({ scope: g.scope, userId: g.userId }))).toEqual(
        [...(demo.grants ?? [])].sort((a, b) => a.scope.localeCompare(b.scope)),
      );
      for (const g of grants)
        expect(
          rows.some((r) => r.scope === g.scope),
          g.scope,
        ).toBe(true);
      // The same demo batch pushed again (a seeding retried) creates nothing: its events are duplicates.
      const again = await pushDemoRecords(app, packTenant, demo, at);
      expect(again?.accepted).toBe(0);
      expect(again?.duplicates).toHaveLength(total);
    }
  });
});
