import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import type { Conflict } from '../../shared/contracts/conflicts.js';
import type { BatchOutcome } from '../../shared/contracts/sync.js';
import { api, pushSettled } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { freshTenant } from '../support/tenants.js';
import { pullAll, recordEvent } from '../support/records.js';

// Issue 13 proof, clinic tenant (SPEC v1.1, seed 004): two devices create and edit the same encounter
// offline — fields merge, a conflict under LWW, a MANUAL one a manager resolves — a delete against an
// offline edit, and an OPERATOR granted clinic A never sees clinic B's patients in any response. Everything
// over HTTP against the local Functions host, through the routes a clinic app and its managers use.
afterAll(() => closeApp());

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const event = recordEvent;

const PATIENTS = {
  schema: {
    type: 'object',
    properties: {
      clinicId: { type: 'string' },
      name: { type: 'string', minLength: 1 },
      dateOfBirth: { type: 'string', format: 'date' },
    },
    required: ['clinicId', 'name'],
  },
  scope: 'clinicId',
  conflict: { strategy: 'LWW' },
};
const ENCOUNTERS = {
  schema: {
    type: 'object',
    properties: {
      clinicId: { type: 'string' },
      patientId: { type: 'string' },
      diagnosis: { type: 'string' },
      prescription: { type: ['string', 'null'] },
      clinician: { type: 'string' },
      notes: { type: 'string' },
      encounteredAt: { type: 'string', format: 'date-time' },
    },
    required: ['clinicId', 'patientId', 'encounteredAt'],
  },
  scope: 'clinicId',
  conflict: { strategy: 'LWW', fields: { prescription: 'MANUAL' } },
};

describe('a clinic tenant (issue 13 proof)', () => {
  let tenantId: string;
  let nurseA: string; // tablet in clinic A
  let nurseA2: string; // a second device of clinic A, another nurse
  let nurseB: string; // clinic B only
  let manager: string;

  beforeAll(async () => {
    tenantId = (await freshTenant('clinic')).id;
    const admin = await tokenFor(tenantId, ['ADMIN'], 'u-admin');
    manager = await tokenFor(tenantId, ['MANAGER'], 'u-manager');
    nurseA = await tokenFor(tenantId, ['OPERATOR'], 'u-nurse-a');
    nurseA2 = await tokenFor(tenantId, ['OPERATOR'], 'u-nurse-a2');
    nurseB = await tokenFor(tenantId, ['OPERATOR'], 'u-nurse-b');
    for (const [name, definition] of Object.entries({ patients: PATIENTS, encounters: ENCOUNTERS })) {
      const put = await api(admin, 'PUT', `v1/schema/collections/${name}`, definition);
      expect([200, 201], put.text).toContain(put.status);
    }
    for (const [scope, user] of [
      ['clinic-a', 'u-nurse-a'],
      ['clinic-a', 'u-nurse-a2'],
      ['clinic-b', 'u-nurse-b'],
    ] as const) {
      const grant = await api(manager, 'PUT', `v1/scopes/${scope}/members/${user}`);
      expect([200, 201, 204], grant.text).toContain(grant.status);
    }
  });

  it('merges two devices’ offline edits of one encounter: fields merge, LWW settles a conflict, MANUAL waits for a manager', async () => {
    // Prepare: nurse A records the encounter; both clinic-A devices pull it (version 1).
    const created = await pushSettled(nurseA, 'tab-a', [
      event('RECORD_CREATED', minutesAgo(60), {
        collection: 'encounters',
        recordId: 'enc-1',
        data: {
          clinicId: 'clinic-a',
          patientId: 'pat-1',
          encounteredAt: minutesAgo(60),
          diagnosis: 'fever',
          notes: 'first visit',
        },
      }),
    ]);
    expect(created.events[0]?.status).toBe('APPLIED');
    const seen = await pullAll(nurseA2, 'tab-a2', '&collections=encounters');
    expect(seen.records.find((r) => r.id === 'enc-1')).toMatchObject({ version: 1 });

    // Act: offline, A changes diagnosis + notes + prescription; A2 (later) changes clinician + notes + prescription.
    const edit = (minutes: number, changes: Record<string, unknown>) =>
      event('RECORD_UPDATED', minutesAgo(minutes), {
        collection: 'encounters',
        recordId: 'enc-1',
        baseVersion: 1,
        changes,
      });
    const fromA = await pushSettled(nurseA, 'tab-a', [
      edit(30, { diagnosis: 'malaria', notes: 'A: rapid test positive', prescription: 'artemether' }),
    ]);
    const fromA2 = await pushSettled(nurseA2, 'tab-a2', [
      edit(20, { clinician: 'Dr. Okafor', notes: 'A2: referred', prescription: 'quinine' }),
    ]);

    // Assess: fields one side wrote merge; notes is a conflict LWW settles (A2 is later); prescription is held.
    expect(fromA.events[0]?.status).toBe('APPLIED');
    expect(fromA2.events[0]).toMatchObject({
      status: 'CONFLICT',
      conflict: { resolution: 'PENDING_REVIEW', fields: ['prescription'] },
    });
    const afterEdits = (await pullAll(nurseA, 'tab-a', '&collections=encounters')).records.find(
      (r) => r.id === 'enc-1',
    );
    expect(afterEdits?.data).toMatchObject({
      diagnosis: 'malaria',
      clinician: 'Dr. Okafor',
      notes: 'A2: referred',
      prescription: 'artemether', // the server's value stays until a manager decides
    });
    const aOutcome = (await api(nurseA, 'GET', `v1/sync/batches/${fromA.batchId}`)).body as BatchOutcome;
    expect(aOutcome.events[0]).toMatchObject({
      status: 'CONFLICT',
      conflict: { resolution: 'SERVER_WINS', fields: ['notes'] },
    });

    // A manager resolves the held prescription with the second device's value; every device pulls it.
    const open = (await api(manager, 'GET', 'v1/conflicts?status=OPEN&limit=200')).body
      .conflicts as Conflict[];
    const held = open.find((c) => c.fields.includes('prescription') && c.recordKey.includes('enc-1'));
    expect(held).toMatchObject({ recordType: 'RECORD', clientValue: { prescription: 'quinine' } });
    const resolved = await api(manager, 'POST', `v1/conflicts/${held?.id}/resolve`, {
      resolution: 'CLIENT_WINS',
    });
    expect(resolved.status, resolved.text).toBe(200);
    const final = (await pullAll(nurseA, 'tab-a', '&collections=encounters')).records.find(
      (r) => r.id === 'enc-1',
    );
    expect(final?.data).toMatchObject({ prescription: 'quinine', diagnosis: 'malaria' });
  });

  it('leaves a field cleared by an update (null) out of the pulled record, so it stays valid for the schema', async () => {
    const created = await pushSettled(nurseA, 'tab-a', [
      event('RECORD_CREATED', minutesAgo(40), {
        collection: 'encounters',
        recordId: 'enc-clear',
        data: { clinicId: 'clinic-a', patientId: 'pat-1', encounteredAt: minutesAgo(40), notes: 'typo' },
      }),
    ]);
    expect(created.events[0]?.status).toBe('APPLIED');
    const cleared = await pushSettled(nurseA, 'tab-a', [
      event('RECORD_UPDATED', minutesAgo(30), {
        collection: 'encounters',
        recordId: 'enc-clear',
        baseVersion: 1,
        changes: { notes: null, prescription: null },
      }),
    ]);
    expect(cleared.events[0]?.status).toBe('APPLIED');
    const pulled = (await pullAll(nurseA, 'tab-a-clear', '&collections=encounters')).records.find(
      (r) => r.id === 'enc-clear',
    );
    // notes (a string) is gone; prescription's schema accepts null, so its null is a value and stays.
    expect(pulled?.data).toEqual({
      clinicId: 'clinic-a',
      patientId: 'pat-1',
      encounteredAt: expect.any(String),
      prescription: null,
    });
  });

  it('lets a later delete win over an earlier offline edit, and reports the edit as the loser', async () => {
    const created = await pushSettled(nurseA, 'tab-a', [
      event('RECORD_CREATED', minutesAgo(50), {
        collection: 'encounters',
        recordId: 'enc-2',
        data: { clinicId: 'clinic-a', patientId: 'pat-1', encounteredAt: minutesAgo(50), diagnosis: 'cough' },
      }),
    ]);
    expect(created.events[0]?.status).toBe('APPLIED');
    const { cursor } = await pullAll(nurseA2, 'tab-a2', '&collections=encounters');

    // Offline: A2 edits at -20 min; A deletes at -10 min. The delete reaches the server first.
    const deletion = await pushSettled(nurseA, 'tab-a', [
      event('RECORD_DELETED', minutesAgo(10), {
        collection: 'encounters',
        recordId: 'enc-2',
        baseVersion: 1,
      }),
    ]);
    const lateEdit = await pushSettled(nurseA2, 'tab-a2', [
      event('RECORD_UPDATED', minutesAgo(20), {
        collection: 'encounters',
        recordId: 'enc-2',
        baseVersion: 1,
        changes: { diagnosis: 'bronchitis' },
      }),
    ]);

    expect(deletion.events[0]?.status).toBe('APPLIED');
    expect(lateEdit.events[0]?.status).not.toBe('APPLIED');
    expect(lateEdit.events[0]?.status).not.toBe('PENDING');
    const delta = await pullAll(nurseA2, 'tab-a2', '&collections=encounters', cursor);
    expect(delta.deleted).toContainEqual({ type: 'RECORD', collection: 'encounters', id: 'enc-2' });
    expect(delta.records.map((r) => r.id)).not.toContain('enc-2');
  });

  it('counts record events in device status, the device list and the stats, and shows the schema version a device synced with', async () => {
    // Prepare: a device of its own (fresh counts), and what the tenant's schema version is now.
    const schema = await api(nurseA, 'GET', 'v1/schema');
    expect(schema.status, schema.text).toBe(200);
    const schemaVersion = (schema.body as { schemaVersion: number }).schemaVersion;
    expect(schemaVersion).toBeGreaterThanOrEqual(2); // two collections put in beforeAll
    const from = new Date(Date.now() - 1000).toISOString();

    // Act: three record events (two applied, one refused), then a pull.
    const outcome = await pushSettled(nurseA, 'tab-count', [
      event('RECORD_CREATED', minutesAgo(3), {
        collection: 'patients',
        recordId: 'pat-count-1',
        data: { clinicId: 'clinic-a', name: 'Kofi Boateng' },
      }),
      event('RECORD_CREATED', minutesAgo(2), {
        collection: 'patients',
        recordId: 'pat-count-2',
        data: { clinicId: 'clinic-a', name: 'Esi Boateng' },
      }),
      event('RECORD_UPDATED', minutesAgo(1), {
        collection: 'patients',
        recordId: 'pat-count-missing',
        baseVersion: 1,
        changes: { name: 'nobody' },
      }),
    ]);
    expect(outcome.events.map((e) => e.status)).toEqual(['APPLIED', 'APPLIED', 'REJECTED']);
    await pullAll(nurseA, 'tab-count', '&collections=patients');

    // Assess: the device's status, the managers' list and the stats count them like v1 events.
    const status = await api(nurseA, 'GET', 'v1/sync/status?deviceId=tab-count');
    expect(status.body).toMatchObject({ deviceId: 'tab-count', schemaVersion, pendingEvents: 0 });
    const list = await api(manager, 'GET', 'v1/devices');
    const listed = (list.body as { devices: { deviceId: string; schemaVersion: number | null }[] }).devices;
    expect(listed.find((d) => d.deviceId === 'tab-count')).toMatchObject({ schemaVersion });
    const stats = await api(
      manager,
      'GET',
      `v1/sync/stats?deviceId=tab-count&from=${encodeURIComponent(from)}`,
    );
    expect(stats.status, stats.text).toBe(200);
    expect(stats.body).toMatchObject({ total: 3, counts: { applied: 2, rejected: 1 } });
  });

  it('never shows clinic B’s patients to an operator granted clinic A, in any response', async () => {
    // Prepare: a clinic-B patient with a recognisable name; clinic A has one of its own.
    const secret = `Zed Secret-${randomUUID().slice(0, 8)}`;
    const b = await pushSettled(nurseB, 'tab-b', [
      event('RECORD_CREATED', minutesAgo(5), {
        collection: 'patients',
        recordId: 'pat-b1',
        data: { clinicId: 'clinic-b', name: secret },
      }),
    ]);
    expect(b.events[0]?.status).toBe('APPLIED');
    const a = await pushSettled(nurseA, 'tab-a', [
      event('RECORD_CREATED', minutesAgo(5), {
        collection: 'patients',
        recordId: 'pat-a1',
        data: { clinicId: 'clinic-a', name: 'Ama Mensah' },
      }),
    ]);
    expect(a.events[0]?.status).toBe('APPLIED');

    // Act: everything nurse A can ask for — snapshot (asking for clinic B too), delta, writes to B's record.
    const snapshot = await pullAll(
      nurseA,
      'tab-a',
      '&collections=patients,encounters&scopes=clinic-a,clinic-b',
    );
    const delta = await pullAll(nurseA, 'tab-a', '', snapshot.cursor);
    const write = await pushSettled(nurseA, 'tab-a', [
      event('RECORD_UPDATED', minutesAgo(1), {
        collection: 'patients',
        recordId: 'pat-b1',
        baseVersion: 1,
        changes: { name: 'overwritten' },
      }),
      event('RECORD_CREATED', minutesAgo(1), {
        collection: 'patients',
        recordId: 'pat-b1',
        data: { clinicId: 'clinic-b', name: 'claimed' },
      }),
    ]);
    const batch = await api(nurseA, 'GET', `v1/sync/batches/${write.batchId}`);
    const status = await api(nurseA, 'GET', 'v1/sync/status?deviceId=tab-a');
    const conflicts = await api(nurseA, 'GET', 'v1/conflicts?status=OPEN');
    const schema = await api(nurseA, 'GET', 'v1/schema');

    // Assess: A's own patient comes; B's never does — not as data, not by id, not as a deletion.
    expect(snapshot.records.map((r) => r.id)).toContain('pat-a1');
    for (const text of [
      snapshot.text,
      delta.text,
      JSON.stringify(write),
      batch.text,
      status.text,
      schema.text,
    ])
      expect(text).not.toContain(secret);
    expect(JSON.stringify([snapshot.records, delta.records, snapshot.deleted, delta.deleted])).not.toContain(
      'pat-b1',
    );
    expect(write.events.map((e) => e.status)).toEqual(['REJECTED', 'REJECTED']);
    expect(write.events.map((e) => e.error?.code)).toEqual(['SCOPE_NOT_GRANTED', 'SCOPE_NOT_GRANTED']);
    expect(conflicts.status).toBe(403);
    // And the clinic-B record is untouched.
    const own = await pullAll(nurseB, 'tab-b', '&collections=patients');
    expect(own.records.find((r) => r.id === 'pat-b1')?.data).toMatchObject({ name: secret });
  });
});
