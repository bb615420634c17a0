import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { closeApp } from '../../shared/app.js';
import { FieldsyncClient, type FieldsyncClientOptions, MemoryStore } from '../../client/src/index.js';
import { openSqliteStore } from '../../client/src/sqlite.js';
import { tokenFor } from '../support/auth.js';
import { freshTenant, seededTenant } from '../support/tenants.js';
import { waitFor } from '../support/wait.js';

// @fieldsync/client against the real local Functions host the global setup started (real push pipeline,
// processor, Postgres, Azurite, Cosmos): record → sync → APPLIED; two devices' conflict surfaced with both
// values on both; a photo attached end to end; the SQLite store reopened with its outbox intact.
afterAll(() => closeApp());

const dir = mkdtempSync(join(tmpdir(), 'fieldsync-client-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A plain HTTP call to the host (the test's own view of the server, not through the client). */
async function call(token: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${inject('hostUrl')}/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, text, body: text ? JSON.parse(text) : undefined };
}

function device(
  token: string,
  deviceId: string,
  extra: Partial<FieldsyncClientOptions> = {},
): FieldsyncClient {
  return new FieldsyncClient({
    baseUrl: inject('hostUrl'),
    deviceId,
    store: new MemoryStore(),
    getToken: () => token,
    deviceInfo: { platform: 'electron', appVersion: '1.0.0-test' },
    ...extra,
  });
}

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000);

describe('a clinic tenant through the client', () => {
  let tenantId: string;
  let nurseA: string;
  let nurseB: string;
  let manager: string;

  beforeAll(async () => {
    tenantId = (await freshTenant('client', ['clinic'])).id;
    manager = await tokenFor(tenantId, ['MANAGER'], 'u-manager');
    nurseA = await tokenFor(tenantId, ['OPERATOR'], 'u-nurse-a');
    nurseB = await tokenFor(tenantId, ['OPERATOR'], 'u-nurse-b');
    for (const user of ['u-nurse-a', 'u-nurse-b']) {
      const grant = await call(manager, 'PUT', `v1/scopes/clinic-a/members/${user}`);
      expect([200, 201], grant.text).toContain(grant.status);
    }
  });

  it('records, syncs: the event is APPLIED, leaves the outbox, and the pulled record shows it', async () => {
    const tablet = device(nurseA, 'client-tab-1');
    const { recordId } = await tablet
      .collection('patients')
      .create({ clinicId: 'clinic-a', name: 'Ama Owusu' });
    expect(await tablet.status()).toMatchObject({ pending: 1 });

    const report = await tablet.syncNow();

    expect(report).toMatchObject({ pushed: 1, applied: 1, rejected: 0, conflicts: 0 });
    expect(await tablet.status()).toMatchObject({ pending: 0, failed: 0, conflicts: 0, inFlightBatches: 0 });
    // The pull may lag the commit (its horizon): until it shows version 1, the local edit is shown instead.
    expect(await tablet.collection('patients').get(recordId)).toMatchObject({ data: { name: 'Ama Owusu' } });
    await waitFor(
      async () => {
        await tablet.syncNow();
        return (await tablet.collection('patients').get(recordId))?.pending === false;
      },
      { what: 'the pulled record to show the applied create' },
    );
    expect(await tablet.collection('patients').get(recordId)).toMatchObject({
      version: 1,
      data: { clinicId: 'clinic-a', name: 'Ama Owusu' },
    });
    expect((await tablet.outbox()).map((e) => e.state)).toEqual(['APPLIED']); // a watched echo, not pending
    expect((await tablet.status()).lastSyncAt).not.toBeNull();
  });

  it('surfaces the loser’s conflict with both values when it synced first, and both end with the merged state', async () => {
    // Prepare: A creates a patient; both devices hold it at version 1.
    const a = device(nurseA, 'client-tab-a');
    const b = device(nurseB, 'client-tab-b');
    const { recordId } = await a
      .collection('patients')
      .create({ clinicId: 'clinic-a', name: 'Kofi' }, { occurredAt: minutesAgo(60) });
    await a.syncNow();
    await waitFor(
      async () => {
        await b.syncNow();
        return (await b.collection('patients').get(recordId))?.version === 1;
      },
      { what: 'device B to pull the patient' },
    );

    // Act: offline, A renames (earlier) and B renames (later) and adds a village; A syncs first, then B.
    await a.collection('patients').update(recordId, { name: 'Kofi A.' }, { occurredAt: minutesAgo(20) });
    await b
      .collection('patients')
      .update(recordId, { name: 'Kofi B.', village: 'Nkawie' }, { occurredAt: minutesAgo(10) });
    const conflictsSeen: string[] = [];
    a.on('conflict', (c) => conflictsSeen.push(`a:${c.conflict.resolution}`));
    b.on('conflict', (c) => conflictsSeen.push(`b:${c.conflict.resolution}`));
    const fromA = await a.syncNow();
    const fromB = await b.syncNow();

    // Assess: both APPLIED when pushed; B's write is the later one, so under last-writer-wins A's earlier
    // write became the loser after the fact (the server relabels it CONFLICT when B's arrives).
    expect(fromA).toMatchObject({ applied: 1, conflicts: 0 });
    expect(fromB).toMatchObject({ applied: 1, conflicts: 0 });
    // A learns it lost once its pull shows another value than it wrote: the outcome is read again.
    await waitFor(
      async () => {
        await a.syncNow();
        return (await a.conflicts()).length === 1;
      },
      { what: 'device A to surface the conflict it lost' },
    );
    expect(await a.status()).toMatchObject({ conflicts: 1, pending: 0 });
    const [onA] = await a.conflicts();
    expect(onA?.conflict).toMatchObject({
      fields: ['name'],
      resolution: 'SERVER_WINS',
      serverValue: { name: 'Kofi B.' },
      clientValue: { name: 'Kofi A.' },
    });
    expect(conflictsSeen).toEqual(['a:SERVER_WINS']);
    expect(await b.conflicts()).toEqual([]);
    for (const tablet of [a, b]) {
      await waitFor(
        async () => {
          await tablet.syncNow();
          return (await tablet.collection('patients').get(recordId))?.version === 3;
        },
        { what: 'both devices to pull version 3' },
      );
      expect(await tablet.collection('patients').get(recordId)).toMatchObject({
        data: { name: 'Kofi B.', village: 'Nkawie', clinicId: 'clinic-a' },
        pending: false,
      });
    }
  });

  it('surfaces the conflict on the push outcome when the loser syncs last', async () => {
    const a = device(nurseA, 'client-tab-c');
    const b = device(nurseB, 'client-tab-d');
    const { recordId } = await a
      .collection('patients')
      .create({ clinicId: 'clinic-a', name: 'Esi', village: 'Bekwai' }, { occurredAt: minutesAgo(60) });
    await a.syncNow();
    await waitFor(
      async () => {
        await b.syncNow();
        return (await b.collection('patients').get(recordId))?.version === 1;
      },
      { what: 'device B to pull the patient' },
    );
    // B edits later and syncs first; A's older edit of the same field arrives after it.
    await b.collection('patients').update(recordId, { village: 'Ejisu' }, { occurredAt: minutesAgo(5) });
    await a.collection('patients').update(recordId, { village: 'Konongo' }, { occurredAt: minutesAgo(15) });
    expect(await b.syncNow()).toMatchObject({ applied: 1, conflicts: 0 });
    const fromA = await a.syncNow();

    expect(fromA).toMatchObject({ conflicts: 1, applied: 0 });
    const [onA] = await a.conflicts();
    expect(onA).toMatchObject({
      state: 'CONFLICT',
      conflict: {
        fields: ['village'],
        resolution: 'SERVER_WINS',
        serverValue: { village: 'Ejisu' },
        clientValue: { village: 'Konongo' },
      },
    });
    // A conflict is final: it is not pushed again, and the app acknowledges it once shown.
    expect(await a.acknowledge([onA?.event.id ?? ''])).toBe(1);
    expect(await a.status()).toMatchObject({ conflicts: 0, pending: 0 });
  });

  it('updates a conflict held for review once a manager decides it, and emits it again', async () => {
    // Prepare: an encounter both tablets hold; both change the prescription (MANUAL) offline; B syncs first.
    const a = device(nurseA, 'client-tab-e');
    const b = device(nurseB, 'client-tab-f');
    const encounter = { clinicId: 'clinic-a', patientId: 'p-1', encounteredAt: minutesAgo(90).toISOString() };
    const { recordId } = await a.collection('encounters').create(encounter, { occurredAt: minutesAgo(60) });
    await a.syncNow();
    await waitFor(
      async () => {
        await b.syncNow();
        return (await b.collection('encounters').get(recordId))?.version === 1;
      },
      { what: 'device B to pull the encounter' },
    );
    await b
      .collection('encounters')
      .update(recordId, { prescription: 'paracetamol' }, { occurredAt: minutesAgo(10) });
    await a
      .collection('encounters')
      .update(recordId, { prescription: 'amoxicillin' }, { occurredAt: minutesAgo(5) });
    expect(await b.syncNow()).toMatchObject({ applied: 1 });
    const seen: string[] = [];
    a.on('conflict', (c) => seen.push(c.conflict.resolution));
    expect(await a.syncNow()).toMatchObject({ conflicts: 1 });
    const [held] = await a.conflicts();
    expect(held?.conflict).toMatchObject({
      resolution: 'PENDING_REVIEW',
      clientValue: { prescription: 'amoxicillin' },
    });

    // Act: a manager lets A's value win; A syncs again.
    const resolved = await call(manager, 'POST', `v1/conflicts/${held?.conflict?.conflictId}/resolve`, {
      resolution: 'CLIENT_WINS',
    });
    expect(resolved.status, resolved.text).toBe(200);
    await waitFor(
      async () => {
        await a.syncNow();
        return (await a.conflicts())[0]?.conflict?.resolution === 'CLIENT_WINS';
      },
      { what: 'device A to learn the manager’s decision' },
    );

    // Assess: the entry shows the decision, 'conflict' fired again with it, and the pulled record holds A's value.
    expect(seen).toEqual(['PENDING_REVIEW', 'CLIENT_WINS']);
    expect(await a.status()).toMatchObject({ conflicts: 1, pending: 0 });
    await waitFor(
      async () => {
        await a.syncNow();
        return (await a.collection('encounters').get(recordId))?.data.prescription === 'amoxicillin';
      },
      { what: 'device A to pull the decided value' },
    );
    // Decided conflicts are not read again: a further sync emits nothing more.
    await a.syncNow();
    expect(seen).toEqual(['PENDING_REVIEW', 'CLIENT_WINS']);
  });
});

describe('a batch stored by an earlier, wrong configuration', () => {
  it('is rebuilt with the current deviceInfo after the host refuses it with 400, and never wedges the outbox', async () => {
    // Prepare: the store an app left behind when it ran with deviceInfo.platform 'node' (which JavaScript
    // callers could pass before the client checked its options): one event, in a stored batch.
    const tenant = await seededTenant('cstale');
    const token = await tokenFor(tenant.tenant.id, ['OPERATOR'], 'u-stale');
    const store = new MemoryStore();
    const event = {
      id: crypto.randomUUID(),
      type: 'NOTES_ADDED',
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      payload: { target: { type: 'WELL', id: tenant.wellId }, text: 'stuck once' },
    };
    await store.appendOutbox([{ event, state: 'PENDING', recordedAt: event.occurredAt, attempts: 0 }]);
    await store.putBatch({
      key: crypto.randomUUID(),
      eventIds: [event.id],
      deviceInfo: { platform: 'node' as 'web', appVersion: '1.0.0' },
      createdAt: event.occurredAt,
    });
    const answers: { status: number; text: string }[] = [];
    const recording: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method === 'POST' && String(input).endsWith('/v1/sync/batches')) {
        answers.push({ status: response.status, text: await response.clone().text() });
      }
      return response;
    };
    // The old configuration is refused at construction now, with the option named.
    expect(() =>
      device(token, 'stale-tab', { store, deviceInfo: { platform: 'node' as 'web', appVersion: '1' } }),
    ).toThrow(/deviceInfo\.platform/);

    // Act: the fixed app syncs the same store.
    const tablet = device(token, 'stale-tab', { store, fetch: recording });
    const report = await tablet.syncNow();

    // Assess: the stored batch got its 400 (naming deviceInfo.platform), then went again rebuilt, and applied.
    expect(answers.map((a) => a.status)).toEqual([400, 200]);
    expect(answers[0]?.text).toContain('deviceInfo.platform');
    expect(report).toMatchObject({ pushed: 1, applied: 1, rejected: 0 });
    expect(await tablet.status()).toMatchObject({ pending: 0, inFlightBatches: 0, lastError: null });
    expect(await tablet.outbox()).toEqual([]);
  });
});

describe('an oil-gas tenant through the client', () => {
  let operator: string;
  let manager: string;

  beforeAll(async () => {
    const t = await seededTenant('client-og');
    operator = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-op');
    manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-manager');
  });

  it('attaches a photo end to end through Azurite, asking again for a URL the storage refuses', async () => {
    // Prepare: a PNG queued for the well; its stored upload URL names its blob but carries the signature of
    // another blob's URL, as an expired or revoked URL would: Azurite refuses it (403).
    const store = new MemoryStore();
    const tablet = device(operator, 'client-photo-1', { store });
    const png = new Uint8Array(4096);
    png.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const other = await call(operator, 'POST', 'v1/photos/upload-urls', {
      deviceId: 'client-photo-1',
      photos: [{ photoId: crypto.randomUUID(), contentType: 'image/png', sizeBytes: 10 }],
    });
    expect(other.status, other.text).toBe(200);
    const queued = await tablet.attachPhoto(png, { type: 'WELL', id: 'well-1' });
    const [job] = await store.listPhotos();
    const foreign = new URL(other.body.uploads[0].uploadUrl);
    foreign.pathname = foreign.pathname.replace(/[^/]+$/, `${queued.photoId}.png`);
    const blobName = `${foreign.pathname.split('/photos/')[1]}`;
    await store.putPhoto({
      ...job!, // eslint-disable-line @typescript-eslint/no-non-null-assertion
      upload: { ...other.body.uploads[0], blobName, url: foreign.toString() },
    });
    const refused: number[] = [];
    const watched = device(operator, 'client-photo-1', {
      store,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (init?.method === 'PUT') refused.push(response.status);
        return response;
      },
    });
    const bytes: number[] = [];
    watched.on('progress', (p) => p.bytes && bytes.push(p.bytes.done));

    // Act
    const report = await watched.syncNow();

    // Assess: uploaded once, attached, nothing left queued or pending; the manager sees it ATTACHED.
    expect(report).toMatchObject({ photosUploaded: 1, photoBytes: 4096, photoErrors: 0, applied: 1 });
    expect(refused).toEqual([403, 201]);
    expect(bytes.at(-1)).toBe(4096);
    expect(await watched.status()).toMatchObject({ pending: 0, failed: 0, photos: { queued: 0, bytes: 0 } });
    const photo = await call(manager, 'GET', `v1/photos/${queued.photoId}`);
    expect(photo.status, photo.text).toBe(200);
    expect(photo.body).toMatchObject({
      status: 'ATTACHED',
      sizeBytes: 4096,
      sha256: queued.sha256,
      target: { type: 'WELL', id: 'well-1' },
    });
  });

  it('keeps the outbox in SQLite across a reopen, then syncs it exactly once', async () => {
    const path = join(dir, 'tablet.db');
    const first = device(operator, 'client-sqlite-1', { store: openSqliteStore(path) });
    const ids = [];
    for (let i = 0; i < 3; i++) {
      ids.push(
        (await first.record('NOTES_ADDED', { target: { type: 'WELL', id: 'well-1' }, text: `note ${i}` }))
          .eventId,
      );
    }
    await first.close();

    const second = device(operator, 'client-sqlite-1', { store: openSqliteStore(path) });
    expect((await second.outbox()).map((e) => e.event.id)).toEqual(ids);
    const report = await second.syncNow();
    expect(report).toMatchObject({ pushed: 3, applied: 3 });
    expect(await second.outbox()).toEqual([]);
    await second.close();
  });

  it('resends a batch whose answer was lost with its stored key: the server replays, nothing applies twice', async () => {
    const store = new MemoryStore();
    const lost = device(operator, 'client-replay-1', {
      store,
      retry: { maxAttempts: 1 },
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (String(input).endsWith('v1/sync/batches')) throw new TypeError('fetch failed: other side closed');
        return response;
      },
    });
    const { eventId } = await lost.record('NOTES_ADDED', {
      target: { type: 'WELL', id: 'well-1' },
      text: 'once',
    });
    await expect(lost.syncNow()).rejects.toThrow(/other side closed/);

    const replayed: string[] = [];
    const restarted = device(operator, 'client-replay-1', {
      store,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (response.headers.get('idempotent-replayed')) replayed.push(String(input));
        return response;
      },
    });
    const report = await restarted.syncNow();

    expect(replayed).toHaveLength(1);
    expect(report).toMatchObject({ applied: 1, duplicates: 0 });
    expect(await restarted.outbox()).toEqual([]);
    const status = await call(operator, 'GET', 'v1/sync/status?deviceId=client-replay-1');
    expect(status.body).toMatchObject({ pendingEvents: 0, failedEvents: 0 });
    expect(eventId).toBeTruthy();
  });
});
