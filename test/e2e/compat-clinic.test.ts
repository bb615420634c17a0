import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { api, pushSettled } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { holdProcessing } from '../support/hold.js';
import { pullAll, recordEvent } from '../support/records.js';
import { freshTenant } from '../support/tenants.js';

// Issue 14, dialect 004 (compat/clinic): the document's client flow against the local host — operations queued
// offline on two devices, the pending list, process, a version conflict answered with resolutionOptions and
// resolved, a retryable failure retried, the stats — asserting every field its client reads (queue `id`, process
// `status`, `result.id`, the conflict answer). Cross-dialect: what the compat client queues is what v1 pulls,
// and a conflict between a v1 device and a compat device is reported on both sides.
afterAll(() => closeApp());

const BASE = 'compat/clinic/api/v1/sync';
const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

interface QueueAnswer {
  id: string;
  status: string;
  message: string;
  eventId: string;
}
interface PendingItem {
  id: string;
  operation: string;
  resourceType: string;
  resourceId: string;
  data: Record<string, unknown>;
  status: string;
  retryCount: number;
  createdAtClient: string;
  version: number | null;
  error?: { code: string; message: string; retryable: boolean };
}

describe('compat/clinic: the document 004 client against fieldsync', () => {
  let tenant: Tenant;
  let nurseA: string; // tablet tab-1
  let nurseB: string; // tablet tab-2
  let nurseV1: string; // a v1 client (/v1/sync/batches, /v1/sync/pull)
  let manager: string;
  let patientId = '';
  let encounterId = '';

  /** The document's client: POST queue with its SyncOperation fields, answered 201 with the item id. */
  async function queue(token: string, userId: string, deviceId: string, op: Record<string, unknown>) {
    const response = await api(token, 'POST', `${BASE}/queue`, {
      userId,
      deviceId,
      createdAtClient: new Date().toISOString(),
      version: 1,
      ...op,
    });
    expect(response.status, response.text).toBe(201);
    const body = response.body as QueueAnswer;
    expect(body).toEqual({
      id: expect.any(String),
      status: 'PENDING',
      message: 'Operation queued for sync',
      eventId: expect.stringMatching(/^[0-9a-f-]{36}$/),
    });
    return body;
  }
  const processItem = (token: string, id: string) => api(token, 'POST', `${BASE}/process/${id}`);
  const pending = async (token: string, deviceId: string, userId: string) => {
    const response = await api(token, 'GET', `${BASE}/pending?deviceId=${deviceId}&userId=${userId}`);
    expect(response.status, response.text).toBe(200);
    return response.body as PendingItem[];
  };
  const encounterOf = async (id: string) =>
    (await pullAll(nurseV1, 'v1-tab', '&collections=encounters&scopes=clinic-a')).records.find(
      (r) => r.id === id,
    );

  beforeAll(async () => {
    tenant = await freshTenant('cc', ['clinic']);
    manager = await tokenFor(tenant.id, ['MANAGER'], 'u-manager');
    nurseA = await tokenFor(tenant.id, ['OPERATOR'], 'u-nurse-a');
    nurseB = await tokenFor(tenant.id, ['OPERATOR'], 'u-nurse-b');
    nurseV1 = await tokenFor(tenant.id, ['OPERATOR'], 'u-nurse-v1');
    // Scope grants apply: every nurse works in clinic A.
    for (const user of ['u-nurse-a', 'u-nurse-b', 'u-nurse-v1']) {
      const grant = await api(manager, 'PUT', `v1/scopes/clinic-a/members/${user}`);
      expect([200, 201], grant.text).toContain(grant.status);
    }
  });

  it('takes the document’s own encounter (no clinicId) into the nurse’s one granted clinic', async () => {
    // Prepare: the request exactly as document 004's client builds it — its encounter has no clinic.
    const item = await queue(nurseA, 'u-nurse-a', 'tab-1', {
      operation: 'CREATE',
      resourceType: 'encounter',
      data: { patientId: 'local-pat-9', diagnosis: 'Malaria', prescription: 'ACT' },
      createdAtClient: minutesAgo(5),
    });
    // Act
    const processed = await processItem(nurseA, item.id);
    // Assess: synced, and the record is in clinic A (the only clinic u-nurse-a may write).
    expect(processed.status, processed.text).toBe(200);
    expect(processed.body).toMatchObject({ status: 'SYNCED' });
    const record = (await pullAll(nurseV1, 'v1-tab', '&collections=encounters&scopes=clinic-a')).records.find(
      (r) => r.data.patientId === 'local-pat-9',
    );
    expect(record?.data).toMatchObject({ clinicId: 'clinic-a', diagnosis: 'Malaria' });
    // A manager (every clinic, no grant) must still say which clinic: the field is named.
    const managerItem = await api(manager, 'POST', `${BASE}/queue`, {
      userId: 'u-manager',
      deviceId: 'desk-1',
      operation: 'CREATE',
      resourceType: 'encounter',
      data: { patientId: 'local-pat-10', diagnosis: 'Flu' },
      createdAtClient: minutesAgo(4),
    });
    expect(managerItem.status).toBe(400);
    expect(managerItem.text).toContain('clinicId');
  });

  it('queues offline work on two devices, lists it as pending, and processes it to SYNCED', async () => {
    // Prepare: the processor is held, so what is queued stays pending as it would while offline.
    const hold = await holdProcessing(tenant);
    let patient: QueueAnswer;
    let encounter: QueueAnswer;
    let otherDevice: QueueAnswer;
    const encounterOp = {
      operation: 'CREATE',
      resourceType: 'encounter',
      data: {
        clinicId: 'clinic-a',
        patientId: 'local-pat-1',
        diagnosis: 'Common cold',
        prescription: 'Rest',
      },
      createdAtClient: minutesAgo(40),
    };
    try {
      // Act: tab-1 registers a patient and an encounter; tab-2 (its own id for the item) another encounter.
      patient = await queue(nurseA, 'u-nurse-a', 'tab-1', {
        operation: 'CREATE',
        resourceType: 'patient',
        data: { clinicId: 'clinic-a', name: 'Amina Yusuf', dateOfBirth: '1988-02-11' },
        createdAtClient: minutesAgo(45),
      });
      encounter = await queue(nurseA, 'u-nurse-a', 'tab-1', encounterOp);
      otherDevice = await queue(nurseB, 'u-nurse-b', 'tab-2', {
        id: 'op-tab2-0001',
        operation: 'CREATE',
        resourceType: 'encounters',
        data: { clinicId: 'clinic-a', patientId: 'local-pat-9', diagnosis: 'Sprain' },
        createdAtClient: minutesAgo(35),
      });
      expect(otherDevice.id).toBe('op-tab2-0001');
      // The client sends the same operation again (it lost the answer): the same item, not a second one.
      const again = await api(nurseA, 'POST', `${BASE}/queue`, {
        userId: 'u-nurse-a',
        deviceId: 'tab-1',
        version: 1,
        ...encounterOp,
      });
      expect(again.status, again.text).toBe(200);
      expect(again.body).toMatchObject({ id: encounter.id, status: 'PENDING' });
      await hold.waiting();

      // Assess: each device's pending list holds its own items, as the document shows them.
      const tab1 = await pending(nurseA, 'tab-1', 'u-nurse-a');
      expect(tab1).toEqual([
        {
          id: patient.id,
          operation: 'CREATE',
          resourceType: 'patient',
          resourceId: patient.id,
          data: { clinicId: 'clinic-a', name: 'Amina Yusuf', dateOfBirth: '1988-02-11' },
          status: 'PENDING',
          retryCount: 0,
          createdAtClient: expect.any(String),
          version: 1,
        },
        expect.objectContaining({
          id: encounter.id,
          operation: 'CREATE',
          resourceType: 'encounter',
          data: { ...encounterOp.data, encounteredAt: encounterOp.createdAtClient },
          status: 'PENDING',
          retryCount: 0,
          createdAtClient: encounterOp.createdAtClient,
        }),
      ]);
      expect((await pending(nurseB, 'tab-2', 'u-nurse-b')).map((i) => i.id)).toEqual([otherDevice.eventId]);
      // Another user's device is refused, in the dialect's error body.
      const foreign = await api(nurseA, 'GET', `${BASE}/pending?deviceId=tab-2`);
      expect(foreign.status).toBe(403);
      expect(foreign.body).toMatchObject({ status: 'ERROR', statusCode: 403, code: 'DEVICE_NOT_OWNED' });
    } finally {
      await hold.release();
    }

    // Act: the client processes each item it queued (tab-2 by its own id).
    const processedPatient = await processItem(nurseA, patient.id);
    const processedEncounter = await processItem(nurseA, encounter.id);
    const processedOther = await processItem(nurseB, 'op-tab2-0001');

    // Assess: SYNCED, with the resource as written.
    expect(processedPatient.status, processedPatient.text).toBe(200);
    expect(processedPatient.body).toEqual({
      status: 'SYNCED',
      message: 'Operation synced successfully',
      result: {
        id: patient.id,
        resourceType: 'patient',
        version: 1,
        clinicId: 'clinic-a',
        name: 'Amina Yusuf',
        dateOfBirth: '1988-02-11',
      },
    });
    expect(processedEncounter.body).toMatchObject({
      status: 'SYNCED',
      result: { id: encounter.id, resourceType: 'encounter', version: 1, diagnosis: 'Common cold' },
    });
    expect(processedOther.body).toMatchObject({ status: 'SYNCED', result: { resourceType: 'encounter' } });
    patientId = (processedPatient.body as { result: { id: string } }).result.id;
    encounterId = (processedEncounter.body as { result: { id: string } }).result.id;
    expect(await pending(nurseA, 'tab-1', 'u-nurse-a')).toEqual([]);
    // Someone else's item is not found, for the same reason a batch is not.
    expect((await processItem(nurseA, 'op-tab2-0001')).status).toBe(404);

    // Cross-dialect: the encounter queued through compat/clinic is a record v1 pulls.
    expect(await encounterOf(encounterId)).toMatchObject({
      collection: 'encounters',
      version: 1,
      data: { ...encounterOp.data, encounteredAt: encounterOp.createdAtClient },
    });
    expect(patientId).toBe(patient.id);
  });

  it('answers a version conflict with resolutionOptions, and resolves it as the document says', async () => {
    // Prepare: both tablets changed the encounter offline from version 1; tab-2 (offline longer, its change is
    // the older one) syncs last.
    const first = await queue(nurseA, 'u-nurse-a', 'tab-1', {
      operation: 'UPDATE',
      resourceType: 'encounter',
      resourceId: encounterId,
      data: { diagnosis: 'Malaria' },
      createdAtClient: minutesAgo(10),
      version: 1,
    });
    expect((await processItem(nurseA, first.id)).body).toMatchObject({
      status: 'SYNCED',
      result: { id: encounterId, version: 2, diagnosis: 'Malaria' },
    });
    const second = await queue(nurseB, 'u-nurse-b', 'tab-2', {
      operation: 'UPDATE',
      resourceType: 'encounter',
      resourceId: encounterId,
      data: { diagnosis: 'Typhoid' },
      createdAtClient: minutesAgo(20),
      version: 1,
    });

    // Act
    const conflicted = await processItem(nurseB, second.id);

    // Assess: the document's conflict answer; the tenant's LWW kept the server's (newer) value.
    expect(conflicted.status, conflicted.text).toBe(409);
    expect(conflicted.body).toEqual({
      status: 'CONFLICT',
      message: 'Version conflict detected',
      error: 'Resource was modified on server',
      resolutionOptions: ['CLIENT_WINS', 'SERVER_WINS', 'MANUAL'],
      conflict: {
        conflictId: expect.any(String),
        fields: ['diagnosis'],
        resolution: 'SERVER_WINS',
        serverValue: { diagnosis: 'Malaria' },
        clientValue: { diagnosis: 'Typhoid' },
        serverVersion: expect.any(Number),
      },
    });
    expect((await encounterOf(encounterId))?.data).toMatchObject({ diagnosis: 'Malaria' });

    // CLIENT_WINS "requires admin approval": the nurse's ask is recorded and waits for a manager (the conflict
    // stays OPEN in the inbox); another nurse does not see the item at all; unknown names are 400.
    const asked = await api(nurseB, 'PATCH', `${BASE}/resolve/${second.id}?resolution=CLIENT_WINS`);
    expect(asked.status, asked.text).toBe(200);
    expect(asked.body).toMatchObject({
      id: second.id,
      status: 'CONFLICT',
      resolution: 'CLIENT_WINS',
      message: expect.stringMatching(/requires admin approval/),
      conflict: { status: 'OPEN', resolution: 'SERVER_WINS', requestedResolution: 'CLIENT_WINS' },
    });
    expect((await encounterOf(encounterId))?.data).toMatchObject({ diagnosis: 'Malaria' });
    const inbox = (await api(manager, 'GET', 'v1/conflicts?status=OPEN&limit=200')).body as {
      conflicts: { id: string; requestedResolution: string | null; requestedBy: string | null }[];
    };
    expect(inbox.conflicts.find((c) => c.id === conflicted.body.conflict.conflictId)).toMatchObject({
      requestedResolution: 'CLIENT_WINS',
      requestedBy: 'u-nurse-b',
    });
    expect((await api(nurseA, 'PATCH', `${BASE}/resolve/${second.id}?resolution=SERVER_WINS`)).status).toBe(
      404,
    );
    const badName = await api(nurseB, 'PATCH', `${BASE}/resolve/${second.id}?resolution=LOUDEST_WINS`);
    expect(badName.status).toBe(400);
    expect(badName.body).toMatchObject({ status: 'ERROR', errors: [{ path: 'resolution' }] });

    // The nurse then discards the offline change (what the strategy already kept): answered resolved; the
    // conflict stays in the managers' inbox (OPEN) with the nurse's latest ask.
    const resolved = await api(nurseB, 'PATCH', `${BASE}/resolve/${second.id}?resolution=SERVER_WINS`);
    expect(resolved.status, resolved.text).toBe(200);
    expect(resolved.body).toMatchObject({
      id: second.id,
      status: 'SYNCED',
      resolution: 'SERVER_WINS',
      conflict: {
        status: 'OPEN',
        resolution: 'SERVER_WINS',
        fields: ['diagnosis'],
        requestedResolution: 'SERVER_WINS',
      },
    });
    expect((await encounterOf(encounterId))?.data).toMatchObject({ diagnosis: 'Malaria' });
    // Settled by the strategy, nothing waits in the pending list.
    expect(await pending(nurseB, 'tab-2', 'u-nurse-b')).toEqual([]);
    // Process agrees with resolve (trial 14, item 7): the item is done for this client — SYNCED, not 409 —
    // while the conflict stays OPEN for the managers.
    const afterAccept = await processItem(nurseB, second.id);
    expect(afterAccept.status, afterAccept.text).toBe(200);
    expect(afterAccept.body).toMatchObject({ status: 'SYNCED', resolution: 'SERVER_WINS' });

    // A manager overrides the strategy's result with the nurse's value (review states, issue 16).
    const override = await api(manager, 'PATCH', `${BASE}/resolve/${second.id}?resolution=CLIENT_WINS`);
    expect(override.status, override.text).toBe(200);
    expect(override.body).toMatchObject({
      status: 'SYNCED',
      conflict: { status: 'RESOLVED', resolution: 'CLIENT_WINS', resolvedValue: { diagnosis: 'Typhoid' } },
    });
    expect((await encounterOf(encounterId))?.data).toMatchObject({ diagnosis: 'Typhoid' });
    expect((await processItem(nurseB, second.id)).body).toMatchObject({
      status: 'SYNCED',
      resolution: 'CLIENT_WINS',
    });
    // Decided: asking what holds is answered resolved; anything else is refused.
    expect((await api(nurseB, 'PATCH', `${BASE}/resolve/${second.id}?resolution=CLIENT_WINS`)).status).toBe(
      200,
    );
    const again = await api(manager, 'PATCH', `${BASE}/resolve/${second.id}?resolution=SERVER_WINS`);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ status: 'ERROR', code: 'CONFLICT_RESOLVED' });
  });

  it('flags a held prescription for review (MANUAL), which a manager then settles CLIENT_WINS', async () => {
    const version = (await encounterOf(encounterId))?.version ?? 0;
    const change = (prescription: string, minutes: number) => ({
      operation: 'UPDATE',
      resourceType: 'encounter',
      resourceId: encounterId,
      data: { prescription },
      createdAtClient: minutesAgo(minutes),
      version,
    });
    const fromA = await queue(nurseA, 'u-nurse-a', 'tab-1', change('Paracetamol', 9));
    expect((await processItem(nurseA, fromA.id)).status).toBe(200);
    const fromB = await queue(nurseB, 'u-nurse-b', 'tab-2', change('Ibuprofen', 8));
    const held = await processItem(nurseB, fromB.id);
    expect(held.status).toBe(409);
    expect(held.body).toMatchObject({
      status: 'CONFLICT',
      conflict: { fields: ['prescription'], resolution: 'PENDING_REVIEW' },
    });

    expect(await pending(nurseB, 'tab-2', 'u-nurse-b')).toEqual([
      expect.objectContaining({ id: fromB.eventId, operation: 'UPDATE', status: 'CONFLICT', version }),
    ]);
    const flagged = await api(nurseB, 'PATCH', `${BASE}/resolve/${fromB.id}?resolution=MANUAL`);
    expect(flagged.status, flagged.text).toBe(200);
    expect(flagged.body).toMatchObject({ status: 'CONFLICT', conflict: { status: 'OPEN' } });
    expect((await encounterOf(encounterId))?.data).toMatchObject({ prescription: 'Paracetamol' });

    // The nurse's CLIENT_WINS waits for a manager's approval; the prescription stays meanwhile.
    const asked = await api(nurseB, 'PATCH', `${BASE}/resolve/${fromB.id}?resolution=CLIENT_WINS`);
    expect(asked.status, asked.text).toBe(200);
    expect(asked.body).toMatchObject({
      status: 'CONFLICT',
      conflict: { status: 'OPEN', resolution: 'PENDING_REVIEW', requestedResolution: 'CLIENT_WINS' },
    });
    expect((await encounterOf(encounterId))?.data).toMatchObject({ prescription: 'Paracetamol' });

    const approved = await api(manager, 'PATCH', `${BASE}/resolve/${fromB.id}?resolution=CLIENT_WINS`);
    expect(approved.status, approved.text).toBe(200);
    expect(approved.body).toMatchObject({
      status: 'SYNCED',
      conflict: { status: 'RESOLVED', resolution: 'CLIENT_WINS' },
    });
    expect((await encounterOf(encounterId))?.data).toMatchObject({ prescription: 'Ibuprofen' });
    expect(await pending(nurseB, 'tab-2', 'u-nurse-b')).toEqual([]);
    expect((await processItem(nurseB, fromB.id)).body).toMatchObject({
      status: 'SYNCED',
      resolution: 'CLIENT_WINS',
    });
  });

  it('retries a retryable failure: an update that arrived before its record', async () => {
    // Prepare: tab-1 updates a patient whose creation (on tab-1 too) has not reached the server yet.
    const update = await queue(nurseA, 'u-nurse-a', 'tab-1', {
      operation: 'UPDATE',
      resourceType: 'patient',
      resourceId: 'pat-late',
      data: { village: 'Kisumu' },
      version: 1,
    });
    const failed = await processItem(nurseA, update.id);
    expect(failed.status, failed.text).toBe(422);
    expect(failed.body).toMatchObject({ status: 'FAILED', error: 'RECORD_NOT_FOUND', retryable: true });
    expect(await pending(nurseA, 'tab-1', 'u-nurse-a')).toEqual([
      expect.objectContaining({
        id: update.eventId,
        status: 'FAILED',
        retryCount: expect.any(Number),
        error: expect.objectContaining({ code: 'RECORD_NOT_FOUND', retryable: true }),
      }),
    ]);
    const create = await queue(nurseA, 'u-nurse-a', 'tab-1', {
      operation: 'CREATE',
      resourceType: 'patient',
      resourceId: 'pat-late',
      data: { clinicId: 'clinic-a', name: 'Otieno Odhiambo' },
    });
    expect((await processItem(nurseA, create.id)).status).toBe(200);

    // Act
    const retried = await api(nurseA, 'POST', `${BASE}/retry?deviceId=tab-1&userId=u-nurse-a`);

    // Assess
    expect(retried.status, retried.text).toBe(202);
    expect(retried.body).toMatchObject({ retried: 1, ids: [update.eventId] });
    const synced = await processItem(nurseA, update.id);
    expect(synced.body).toMatchObject({
      status: 'SYNCED',
      result: { id: 'pat-late', resourceType: 'patient', version: 2, village: 'Kisumu' },
    });
    expect(await pending(nurseA, 'tab-1', 'u-nurse-a')).toEqual([]);
    // Another user's device is not theirs to retry.
    expect((await api(nurseA, 'POST', `${BASE}/retry?deviceId=tab-2`)).status).toBe(403);
  });

  it('detects a conflict between a v1 device and a compat device and reports it to both', async () => {
    const version = (await encounterOf(encounterId))?.version ?? 0;
    const compatChange = (notes: string, minutes: number) =>
      queue(nurseA, 'u-nurse-a', 'tab-1', {
        operation: 'UPDATE',
        resourceType: 'encounter',
        resourceId: encounterId,
        data: { notes },
        createdAtClient: minutesAgo(minutes),
        version,
      });
    const v1Change = (notes: string, minutes: number) =>
      pushSettled(nurseV1, 'v1-tab', [
        recordEvent('RECORD_UPDATED', minutesAgo(minutes), {
          collection: 'encounters',
          recordId: encounterId,
          baseVersion: version,
          changes: { notes },
        }),
      ]);

    // Act 1: the compat tablet's change (earlier) arrives first, the v1 client's (later) second.
    const compat = await compatChange('compat: fever since Monday', 7);
    expect((await processItem(nurseA, compat.id)).status).toBe(200);
    const v1 = await v1Change('v1: fever since Sunday', 6);

    // Assess 1: the v1 write wins by LWW; the compat device's item now reports the conflict, in the document's shape.
    expect(v1.events[0]?.status).toBe('APPLIED');
    const reported = await processItem(nurseA, compat.id);
    expect(reported.status, reported.text).toBe(409);
    expect(reported.body).toMatchObject({
      status: 'CONFLICT',
      resolutionOptions: ['CLIENT_WINS', 'SERVER_WINS', 'MANUAL'],
      conflict: {
        fields: ['notes'],
        resolution: 'SERVER_WINS',
        serverValue: { notes: 'v1: fever since Sunday' },
        clientValue: { notes: 'compat: fever since Monday' },
      },
    });
    expect((await encounterOf(encounterId))?.data).toMatchObject({ notes: 'v1: fever since Sunday' });

    // Act 2: the other way round — the v1 client's (earlier) change first, the compat tablet's (later) second.
    const v1First = await v1Change('v1: cough', 5);
    const compatLater = await compatChange('compat: dry cough', 4);
    const compatOutcome = await processItem(nurseA, compatLater.id);

    // Assess 2: the v1 device's batch outcome reports the conflict it lost, as v1 reports every conflict.
    expect(compatOutcome.body).toMatchObject({ status: 'SYNCED', result: { notes: 'compat: dry cough' } });
    const v1Outcome = await api(nurseV1, 'GET', `v1/sync/batches/${v1First.batchId}`);
    expect(v1Outcome.body).toMatchObject({
      events: [
        {
          status: 'CONFLICT',
          conflict: {
            fields: ['notes'],
            resolution: 'SERVER_WINS',
            serverValue: { notes: 'compat: dry cough' },
            clientValue: { notes: 'v1: cough' },
          },
        },
      ],
    });
    expect((await encounterOf(encounterId))?.data).toMatchObject({ notes: 'compat: dry cough' });
  });

  it('gives the stats in the document’s shape, onto the v1 figures, to managers only', async () => {
    const from = new Date(Date.now() - 3_600_000).toISOString();
    const to = new Date().toISOString();
    const range = `from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`;

    const stats = await api(manager, 'GET', `${BASE}/stats?${range}`);
    const v1 = await api(manager, 'GET', `v1/sync/stats?${range}`);

    expect(stats.status, stats.text).toBe(200);
    expect(v1.status, v1.text).toBe(200);
    const c = (v1.body as { counts: Record<string, number>; total: number }).counts;
    const synced = (c.applied ?? 0) + (c.duplicate ?? 0);
    const total = (v1.body as { total: number }).total;
    expect(total).toBeGreaterThan(10);
    expect(stats.body).toEqual({
      total,
      pending: c.pending,
      synced,
      failed: (c.rejected ?? 0) + (c.failed ?? 0),
      conflicts: c.conflict,
      syncRate: `${((synced / total) * 100).toFixed(2)}%`,
      from: expect.any(String),
      to: expect.any(String),
    });
    expect((stats.body as { conflicts: number }).conflicts).toBeGreaterThanOrEqual(3);
    expect((stats.body as { syncRate: string }).syncRate).toMatch(/^\d{1,3}\.\d{2}%$/);
    // Without a range: the document's client sends only userId.
    const byUser = await api(manager, 'GET', `${BASE}/stats?userId=u-nurse-b`);
    expect(byUser.status, byUser.text).toBe(200);
    expect(byUser.body).toMatchObject({ total: expect.any(Number), syncRate: expect.stringMatching(/%$/) });
    expect((byUser.body as { total: number }).total).toBeGreaterThan(0);
    const operator = await api(nurseA, 'GET', `${BASE}/stats`);
    expect(operator.status).toBe(403);
    expect(operator.body).toMatchObject({ status: 'ERROR', statusCode: 403 });
  });

  it('resolves by the client’s LOCAL id: the caller’s last queued item in conflict, never a guess (issue 14)', async () => {
    // Prepare: two encounters in clinic A; nurse A's prescription is on both at version 2.
    const created: string[] = [];
    for (const patient of ['local-pat-20', 'local-pat-21']) {
      const item = await queue(nurseA, 'u-nurse-a', 'tab-1', {
        operation: 'CREATE',
        resourceType: 'encounter',
        data: { clinicId: 'clinic-a', patientId: patient, diagnosis: 'Flu' },
        createdAtClient: minutesAgo(30),
      });
      expect((await processItem(nurseA, item.id)).status).toBe(200);
      created.push(item.eventId);
    }
    const [oldEncounter = '', newEncounter = ''] = created;
    const prescribe = (resourceId: string, prescription: string, minutes: number) => ({
      operation: 'UPDATE',
      resourceType: 'encounter',
      resourceId,
      data: { prescription },
      createdAtClient: minutesAgo(minutes),
      version: 1,
    });
    for (const id of created) {
      const fromA = await queue(nurseA, 'u-nurse-a', 'tab-1', prescribe(id, 'Amoxicillin', 20));
      expect((await processItem(nurseA, fromA.id)).status).toBe(200);
    }
    /** The document's client: queue (no id), process, and — on CONFLICT — the dialog's resolve by its local id. */
    const clientFlow = async (op: Record<string, unknown>) => {
      const localId = randomUUID(); // SyncOperation.id: generateUUID(), never sent to the server
      const item = await queue(nurseB, 'u-nurse-b', 'tab-2', op);
      const processed = await processItem(nurseB, item.id);
      return { localId, item, processed };
    };
    // An older conflict nurse B left undecided (the dialog dismissed): held for review, OPEN.
    const older = await clientFlow(prescribe(oldEncounter, 'Penicillin', 19));
    expect(older.processed.status, older.processed.text).toBe(409);
    const olderConflictId = (older.processed.body as { conflict: { conflictId: string } }).conflict
      .conflictId;
    // The current one: the dialog is open.
    const current = await clientFlow(prescribe(newEncounter, 'Doxycycline', 18));
    expect(current.processed.status, current.processed.text).toBe(409);
    expect(current.processed.body).toMatchObject({
      status: 'CONFLICT',
      conflict: { fields: ['prescription'], resolution: 'PENDING_REVIEW' },
    });
    const conflictId = (current.processed.body as { conflict: { conflictId: string } }).conflict.conflictId;
    const resolveByLocalId = (token: string, localId: string, resolution = 'SERVER_WINS') =>
      api(token, 'PATCH', `${BASE}/resolve/${localId}?resolution=${resolution}`);

    // Safety first: another nurse's unknown id never reaches nurse B's conflict (her last item is SYNCED).
    const foreign = await resolveByLocalId(nurseA, randomUUID());
    expect(foreign.status, foreign.text).toBe(404);
    expect(foreign.body).toMatchObject({ status: 'ERROR', statusCode: 404, error: 'Not Found' });

    // Act: the dialog's choice, sent by the local id exactly as the document's client sends it.
    const resolved = await resolveByLocalId(nurseB, current.localId);

    // Assess: the current conflict is the one resolved (the offline change discarded), not the older one.
    expect(resolved.status, resolved.text).toBe(200);
    expect(resolved.body).toMatchObject({
      id: current.localId,
      status: 'SYNCED',
      resolution: 'SERVER_WINS',
      conflict: { conflictId, status: 'RESOLVED', resolution: 'SERVER_WINS' },
    });
    const conflicts = async (status: string) =>
      (
        (await api(manager, 'GET', `v1/conflicts?status=${status}&limit=200`)).body as {
          conflicts: { id: string }[];
        }
      ).conflicts.map((c) => c.id);
    expect(await conflicts('RESOLVED')).toContain(conflictId);
    expect(await conflicts('OPEN')).toContain(olderConflictId);
    expect((await encounterOf(newEncounter))?.data).toMatchObject({ prescription: 'Amoxicillin' });
    expect((await processItem(nurseB, current.item.id)).body).toMatchObject({ status: 'SYNCED' });
    expect((await processItem(nurseB, older.item.id)).status).toBe(409);

    // Once decided, another unknown id finds nothing to resolve: 404, and the older conflict stays as it was.
    const nothingLeft = await resolveByLocalId(nurseB, randomUUID(), 'MANUAL');
    expect(nothingLeft.status, nothingLeft.text).toBe(404);
    expect(nothingLeft.body).toMatchObject({ status: 'ERROR', statusCode: 404 });

    // The client moved on: a conflict, then another item queued before the resolve came (a second flow of
    // hers) — the unknown id is ambiguous, so nothing is resolved.
    const third = await clientFlow(prescribe(oldEncounter, 'Azithromycin', 17));
    expect(third.processed.status).toBe(409);
    await queue(nurseB, 'u-nurse-b', 'tab-2', {
      operation: 'CREATE',
      resourceType: 'patient',
      data: { clinicId: 'clinic-a', name: 'Wanjiru Kamau' },
    });
    const ambiguous = await resolveByLocalId(nurseB, third.localId);
    expect(ambiguous.status, ambiguous.text).toBe(404);
    expect((await processItem(nurseB, third.item.id)).status).toBe(409);
    // A known item id still works as before: nurse B resolves the third by the id the server gave.
    const byServerId = await resolveByLocalId(nurseB, third.item.id);
    expect(byServerId.status, byServerId.text).toBe(200);
    expect(byServerId.body).toMatchObject({ conflict: { status: 'RESOLVED' } });
  });

  it('refuses what the document’s client could get wrong, in its own error body, never a 500', async () => {
    const bad = await api(nurseA, 'POST', `${BASE}/queue`, {
      deviceId: 'tab-1',
      operation: 'UPDATE',
      resourceType: 'encounter',
      data: { diagnosis: 'x' },
      createdAtClient: new Date().toISOString(),
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      status: 'ERROR',
      statusCode: 400,
      errors: [{ path: 'resourceId' }, { path: 'version' }],
    });
    const invalid = await api(nurseA, 'POST', `${BASE}/queue`, {
      deviceId: 'tab-1',
      operation: 'CREATE',
      resourceType: 'encounter',
      data: { clinicId: 'clinic-a', patientId: 'p', diagnosis: 42 },
      createdAtClient: new Date().toISOString(),
    });
    expect(invalid.status, invalid.text).toBe(400);
    expect(invalid.body).toMatchObject({ status: 'ERROR', errors: [{ path: 'data.diagnosis' }] });
    const unknown = await api(nurseA, 'POST', `${BASE}/queue`, {
      deviceId: 'tab-1',
      operation: 'CREATE',
      resourceType: 'invoice',
      data: {},
      createdAtClient: new Date().toISOString(),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('UNKNOWN_COLLECTION');
    expect((await processItem(nurseA, randomUUID())).status).toBe(404);
    expect((await api(undefined, 'GET', `${BASE}/pending`)).body).toMatchObject({ statusCode: 401 });
  });
});
