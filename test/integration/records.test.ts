import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { Conflict } from '../../shared/contracts/conflicts.js';
import type { BatchOutcome } from '../../shared/contracts/sync.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { api } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { pushAccepted, settled } from '../support/sync.js';
import { issueUploadUrls } from '../../shared/usecases/photos.js';
import { freshTenant, tenantRows } from '../support/tenants.js';

// SPEC v1.1 "Record events" through the real stack: push route, queue, the chunk engine on Postgres, the
// conflict routes. Collections are put through PUT /v1/schema/collections/{name} into this test's own
// tenant. Planner rules case by case: test/unit/plan-records*.test.ts.
let tenant: Tenant;
let opA: string;
let opB: string;
let manager: string;
let admin: string;

/** Puts a collection as an ADMIN would (the push-side schema cache follows the schema version). */
async function putCollection(name: string, definition: object): Promise<void> {
  const response = await api(admin, 'PUT', `v1/schema/collections/${name}`, definition);
  expect([200, 201], response.text).toContain(response.status);
}

const ENCOUNTER_SCHEMA = {
  type: 'object',
  properties: {
    clinicId: { type: 'string' },
    patientId: { type: 'string' },
    diagnosis: { type: 'string', maxLength: 200 },
    prescription: { type: ['string', 'null'] },
    clinician: { type: 'string' },
  },
  required: ['clinicId', 'patientId'],
};

beforeAll(async () => {
  tenant = await freshTenant('recs');
  admin = await tokenFor(tenant.id, ['ADMIN'], 'u-admin');
  await putCollection('encounters', {
    schema: ENCOUNTER_SCHEMA,
    scope: 'clinicId',
    conflict: { strategy: 'LWW', fields: { diagnosis: 'MANUAL' } },
  });
  await putCollection('checklists', {
    schema: { type: 'object', properties: { item: { type: 'string' } } },
    conflict: { strategy: 'LWW' },
  });
  await sql(
    `insert into scope_grants (scope, user_id) values ('clinic-a', 'u-op-a'), ('clinic-a', 'u-op-b')`,
  );
  opA = await tokenFor(tenant.id, ['OPERATOR'], 'u-op-a');
  opB = await tokenFor(tenant.id, ['OPERATOR'], 'u-op-b');
  manager = await tokenFor(tenant.id, ['MANAGER'], 'u-boss');
});
afterAll(() => closeApp());

const sql = (text: string, params?: unknown[]) => tenantRows(tenant, text, params);
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const push = async (token: string, deviceId: string, events: unknown[]): Promise<BatchOutcome> =>
  settled(token, (await pushAccepted(token, { deviceId, events })).batchId);
const event = (type: string, payload: object, minutes = 30) => ({
  id: randomUUID(),
  type,
  occurredAt: minutesAgo(minutes),
  payload,
});
const encounter = (recordId: string, data: object, minutes = 30) =>
  event(
    'RECORD_CREATED',
    {
      collection: 'encounters',
      recordId,
      data: { clinicId: 'clinic-a', patientId: 'p-1', ...data },
    },
    minutes,
  );
const edit = (recordId: string, baseVersion: number, changes: object, minutes = 20) =>
  event('RECORD_UPDATED', { collection: 'encounters', recordId, baseVersion, changes }, minutes);
const remove = (recordId: string, baseVersion: number, minutes = 10) =>
  event('RECORD_DELETED', { collection: 'encounters', recordId, baseVersion }, minutes);
const record = async (id: string) =>
  (
    await sql(
      `select version, data, scope, deleted_at is not null as deleted, field_meta from records
       where collection = 'encounters' and id = $1`,
      [id],
    )
  )[0];

describe('record events through the processor', () => {
  it('create and edit apply exactly once, however often the chunk is delivered or the batch pushed', async () => {
    // Prepare
    const create = encounter('enc-once', { diagnosis: 'flu' }, 30);
    const change = edit('enc-once', 1, { prescription: 'rest' }, 20);
    // Act
    const outcome = await push(opA, 'tab-a', [create, change]);
    const again = await getApp().processor.process(tenant, outcome.batchId, [create.id, change.id]);
    const repeat = await pushAccepted(opA, { deviceId: 'tab-a', events: [create, change] });
    // Assess
    expect(outcome.events.map((e) => e.status)).toEqual(['APPLIED', 'APPLIED']);
    expect(again.processed).toBe(0);
    expect(repeat.accepted).toBe(0);
    expect(repeat.duplicates.sort()).toEqual([create.id, change.id].sort());
    expect(await record('enc-once')).toMatchObject({
      version: 2,
      scope: 'clinic-a',
      deleted: false,
      data: { clinicId: 'clinic-a', patientId: 'p-1', diagnosis: 'flu', prescription: 'rest' },
    });
    const log = await sql(
      `select op, collection, scope from change_log where entity_type = 'record' and entity_id = 'enc-once' order by seq`,
    );
    // One chunk, one upsert of the record's final state: one change for pulls.
    expect(log).toEqual([{ op: 'UPSERT', collection: 'encounters', scope: 'clinic-a' }]);
  });

  it('refuses an unknown collection, an unknown record (retryable), a scope not granted; a note on a record applies', async () => {
    const unknownCollection = event('RECORD_CREATED', { collection: 'nope', recordId: 'x', data: {} });
    const unknownRecord = edit('enc-missing', 1, { diagnosis: 'x' });
    const otherClinic = event('RECORD_CREATED', {
      collection: 'encounters',
      recordId: 'enc-b',
      data: { clinicId: 'clinic-b', patientId: 'p-9' },
    });
    const item = event('RECORD_CREATED', {
      collection: 'checklists',
      recordId: 'c-1',
      data: { item: 'gloves' },
    });
    const note = event(
      'NOTES_ADDED',
      { target: { type: 'RECORD', collection: 'checklists', id: 'c-1' }, text: 'restocked' },
      5,
    );
    const outcome = await push(opA, 'tab-a', [unknownCollection, unknownRecord, otherClinic, item, note]);
    const byId = new Map(outcome.events.map((e) => [e.eventId, e]));
    expect(byId.get(unknownCollection.id)?.error).toMatchObject({
      code: 'UNKNOWN_COLLECTION',
      retryable: false,
    });
    expect(byId.get(unknownRecord.id)?.error).toMatchObject({ code: 'RECORD_NOT_FOUND', retryable: true });
    expect(byId.get(otherClinic.id)?.error).toMatchObject({ code: 'SCOPE_NOT_GRANTED', retryable: false });
    expect(byId.get(item.id)?.status).toBe('APPLIED');
    expect(byId.get(note.id)?.status).toBe('APPLIED');
    expect(await sql(`select target_type, target_id from notes where event_id = $1`, [note.id])).toEqual([
      { target_type: 'RECORD', target_id: 'checklists/c-1' },
    ]);
    expect(await record('enc-b')).toBeUndefined();
    // The roles the pusher had are on the event row.
    expect(await sql('select roles from sync_events where id = $1', [otherClinic.id])).toEqual([
      { roles: ['OPERATOR'] },
    ]);
  });

  it('a MANUAL field edited on two devices is held for review, and a manager resolves it', async () => {
    // Prepare: one encounter both tablets pulled at version 1.
    await push(opA, 'tab-a', [encounter('enc-manual', { diagnosis: 'flu', clinician: 'dr a' }, 60)]);
    // Act: both change the diagnosis (MANUAL) offline; B also the clinician (LWW).
    const first = await push(opA, 'tab-a', [edit('enc-manual', 1, { diagnosis: 'influenza A' }, 40)]);
    const second = await push(opB, 'tab-b', [
      edit('enc-manual', 1, { diagnosis: 'common cold', clinician: 'dr b' }, 30),
    ]);
    // Assess: the server keeps the first diagnosis; the second is held; its other field merged.
    expect(first.events[0]?.status).toBe('APPLIED');
    expect(second.events[0]).toMatchObject({
      status: 'CONFLICT',
      conflict: {
        fields: ['diagnosis'],
        resolution: 'PENDING_REVIEW',
        serverValue: { diagnosis: 'influenza A' },
        clientValue: { diagnosis: 'common cold' },
      },
    });
    expect((await record('enc-manual'))?.data).toMatchObject({ diagnosis: 'influenza A', clinician: 'dr b' });
    const conflictId = second.events[0]?.conflict?.conflictId as string;
    const open = await api(manager, 'GET', 'v1/conflicts?status=OPEN');
    expect(open.status).toBe(200);
    expect((open.body as { conflicts: Conflict[] }).conflicts.find((c) => c.id === conflictId)).toMatchObject(
      {
        recordType: 'RECORD',
        recordKey: 'encounters/enc-manual',
      },
    );
    // A merged value the collection's schema refuses is a 400 with its path; then a valid MERGED resolves it.
    const bad = await api(manager, 'POST', `v1/conflicts/${conflictId}/resolve`, {
      resolution: 'MERGED',
      merged: { diagnosis: 42 },
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('merged.diagnosis');
    const resolved = await api(manager, 'POST', `v1/conflicts/${conflictId}/resolve`, {
      resolution: 'MERGED',
      merged: { diagnosis: 'influenza A, common cold symptoms' },
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'RESOLVED', resolution: 'MERGED', resolvedBy: 'u-boss' });
    const after = await record('enc-manual');
    expect(after?.data).toMatchObject({ diagnosis: 'influenza A, common cold symptoms', clinician: 'dr b' });
    expect(after?.field_meta.diagnosis.stamp.deviceId).toBe('manager:u-boss');
    expect((await settled(opB, second.batchId)).events[0]?.conflict?.resolution).toBe('MERGED');
  });

  it('a delete against an offline edit: the newer delete wins in either arrival order, the edit is the loser', async () => {
    for (const [name, deleteFirst] of [
      ['enc-del-1', true],
      ['enc-del-2', false],
    ] as const) {
      // Prepare: the encounter at version 1; tablet A edits it offline (older), the manager's device deletes it.
      await push(opA, 'tab-a', [encounter(name, { diagnosis: 'flu' }, 60)]);
      const offlineEdit = edit(name, 1, { prescription: 'fluids' }, 40);
      const deletion = remove(name, 1, 20);
      // Act
      const pushes = deleteFirst
        ? [await push(manager, 'desk', [deletion]), await push(opA, 'tab-a', [offlineEdit])]
        : [await push(opA, 'tab-a', [offlineEdit]), await push(manager, 'desk', [deletion])];
      const editBatch = (deleteFirst ? pushes[1] : pushes[0]) as BatchOutcome;
      const editOutcome = (await settled(opA, editBatch.batchId)).events[0];
      // Assess: deleted (a tombstone keeping its data); the edit reports the conflict with both values.
      expect(await record(name)).toMatchObject({ deleted: true, data: { prescription: 'fluids' } });
      expect(editOutcome).toMatchObject({
        status: 'CONFLICT',
        conflict: { fields: ['_deleted'], resolution: 'SERVER_WINS', serverValue: { _deleted: true } },
      });
      const ops = await sql(
        `select op from change_log where entity_type = 'record' and entity_id = $1 order by seq desc limit 1`,
        [name],
      );
      expect(ops).toEqual([{ op: 'DELETE' }]);
    }
    // Under MANUAL for the record's liveness (the collection's default), an edit of a tombstone is refused.
    await putCollection('encounters', {
      schema: ENCOUNTER_SCHEMA,
      scope: 'clinicId',
      conflict: { strategy: 'MANUAL' },
    });
    try {
      const late = await push(opB, 'tab-b', [edit('enc-del-1', 1, { clinician: 'dr b' }, 5)]);
      expect(late.events[0]?.error).toMatchObject({ code: 'RECORD_DELETED', retryable: false });
    } finally {
      await putCollection('encounters', {
        schema: ENCOUNTER_SCHEMA,
        scope: 'clinicId',
        conflict: { strategy: 'LWW', fields: { diagnosis: 'MANUAL' } },
      });
    }
  });

  it('LWW: a newer offline edit resurrects a deleted record, and the older edit that had lost to the delete is applied again', async () => {
    // Prepare: the encounter at version 1; an old edit (tablet A) and a delete (desk) are applied.
    await push(opA, 'tab-a', [encounter('enc-back', { diagnosis: 'flu' }, 90)]);
    const oldEdit = await push(opA, 'tab-a', [edit('enc-back', 1, { prescription: 'fluids' }, 60)]);
    const deletion = await push(manager, 'desk', [remove('enc-back', 1, 40)]);
    expect((await settled(opA, oldEdit.batchId)).events[0]).toMatchObject({
      status: 'CONFLICT',
      conflict: { fields: ['_deleted'] },
    });
    // Act: tablet B's edit, made offline after the delete, arrives.
    const newEdit = await push(opB, 'tab-b', [edit('enc-back', 1, { clinician: 'dr b' }, 20)]);
    // Assess: alive again with every edit's data; the delete is the loser; the old edit's loss is taken back.
    expect(newEdit.events[0]?.status).toBe('APPLIED');
    expect(await record('enc-back')).toMatchObject({
      deleted: false,
      data: { diagnosis: 'flu', prescription: 'fluids', clinician: 'dr b' },
    });
    expect((await settled(manager, deletion.batchId)).events[0]).toMatchObject({
      status: 'CONFLICT',
      conflict: { fields: ['_deleted'], clientValue: { _deleted: true }, serverValue: { _deleted: false } },
    });
    expect((await settled(opA, oldEdit.batchId)).events[0]).toMatchObject({ status: 'APPLIED' });
    const rows = await sql(
      `select c.event_id, c.fields from conflicts c where c.record_key = 'encounters/enc-back' order by c.created_at`,
    );
    expect(rows).toEqual([{ event_id: deletion.events[0]?.eventId, fields: ['_deleted'] }]);
    const log = await sql(
      `select op from change_log where entity_type = 'record' and entity_id = 'enc-back' order by seq`,
    );
    expect(log.map((r) => r.op)).toEqual(['UPSERT', 'UPSERT', 'DELETE', 'UPSERT']);
  });

  it('MANUAL: a delete against an offline edit is held, and a manager’s CLIENT_WINS deletes the record', async () => {
    await putCollection('visits', {
      schema: { type: 'object', properties: { room: { type: 'string' } } },
      conflict: { strategy: 'MANUAL' },
    });
    const create = event(
      'RECORD_CREATED',
      { collection: 'visits', recordId: 'v-1', data: { room: '3' } },
      60,
    );
    await push(opA, 'tab-a', [create]);
    await push(opA, 'tab-a', [
      event(
        'RECORD_UPDATED',
        { collection: 'visits', recordId: 'v-1', baseVersion: 1, changes: { room: '4' } },
        40,
      ),
    ]);
    const held = await push(opB, 'tab-b', [
      event('RECORD_DELETED', { collection: 'visits', recordId: 'v-1', baseVersion: 1 }, 20),
    ]);
    expect(held.events[0]).toMatchObject({
      status: 'CONFLICT',
      conflict: { fields: ['_deleted'], resolution: 'PENDING_REVIEW' },
    });
    const live = async () =>
      (
        await sql(
          `select deleted_at is null as live, data from records where collection = 'visits' and id = 'v-1'`,
        )
      )[0];
    expect(await live()).toEqual({ live: true, data: { room: '4' } });
    const resolved = await api(
      manager,
      'POST',
      `v1/conflicts/${held.events[0]?.conflict?.conflictId}/resolve`,
      {
        resolution: 'CLIENT_WINS',
      },
    );
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ resolvedValue: { _deleted: true } });
    expect(await live()).toEqual({ live: false, data: { room: '4' } });
  });

  it('a photo attaches to a live record (target RECORD), stored as collection/id', async () => {
    await push(opA, 'tab-a', [
      event('RECORD_CREATED', { collection: 'checklists', recordId: 'c-photo', data: { item: 'mask' } }, 30),
    ]);
    const photoId = randomUUID();
    const bytes = Buffer.alloc(400, 7);
    Buffer.from([0xff, 0xd8, 0xff, 0xe0]).copy(bytes);
    const { uploads } = await issueUploadUrls(
      { photoStore: getApp().photoStore, photoRecords: getApp().photoRecords },
      tenant,
      { userId: 'u-op-a' },
      { deviceId: 'tab-a', photos: [{ photoId, contentType: 'image/jpeg', sizeBytes: bytes.length }] },
    );
    const upload = uploads[0];
    if (!upload) throw new Error('no upload URL');
    const put = await fetch(upload.uploadUrl, {
      method: 'PUT',
      headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'image/jpeg' },
      body: bytes,
    });
    expect(put.status).toBe(201);
    const attach = (id: string) =>
      event(
        'PHOTO_ATTACHED',
        {
          photoId,
          blobName: upload.blobName,
          contentType: 'image/jpeg',
          sizeBytes: bytes.length,
          target: { type: 'RECORD', collection: 'checklists', id },
          takenAt: minutesAgo(10),
        },
        5,
      );
    const missing = await push(opA, 'tab-a', [attach('c-none')]);
    expect(missing.events[0]?.error).toMatchObject({ code: 'TARGET_NOT_FOUND', retryable: true });
    const attached = await push(opA, 'tab-a', [attach('c-photo')]);
    expect(attached.events[0]?.status).toBe('APPLIED');
    expect(await sql('select status, target_type, target_id from photos where id = $1', [photoId])).toEqual([
      { status: 'ATTACHED', target_type: 'RECORD', target_id: 'checklists/c-photo' },
    ]);
  });
});
