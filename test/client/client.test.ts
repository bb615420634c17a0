import { type AddressInfo, createServer } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import {
  type ClientStore,
  FieldsyncClient,
  type FieldsyncClientOptions,
  AuthError,
  HttpError,
  NetworkError,
  MemoryStore,
  type SyncProgress,
} from '../../client/src/index.js';
import { FakeServer } from './fake-server.js';

// Unit tests of @fieldsync/client against an in-memory fake of the push/outcome/pull routes (fake-server.ts):
// the outbox rules, batching, Idempotency-Key replay, back-off and single flight. The real routes are in
// client-host.test.ts.

const delays: number[] = [];
function client(
  server: FakeServer,
  store: ClientStore = new MemoryStore(),
  extra: Partial<FieldsyncClientOptions> = {},
) {
  let token = 't0';
  return new FieldsyncClient({
    baseUrl: 'http://fake/api',
    deviceId: 'tablet-7',
    store,
    // The first token is stale: the client must ask again with forceRefresh after the 401.
    getToken: ({ forceRefresh }) => (forceRefresh ? (token = 't1') : token),
    fetch: server.fetch,
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    ...extra,
  });
}

describe('outbox rules', () => {
  it('removes APPLIED and DUPLICATE events only; keeps REJECTED with its error and CONFLICT with both values', async () => {
    // Prepare: four events; the server applies one, refuses one for good, one retryable, and one conflicts.
    const server = new FakeServer();
    const fieldsync = client(server);
    const applied = await fieldsync.record('NOTES_ADDED', { text: 'ok', target: { type: 'WELL', id: 'w' } });
    const bad = await fieldsync.record('NOTES_ADDED', { text: 'bad' });
    const later = await fieldsync.record('NOTES_ADDED', { text: 'later' });
    const clash = await fieldsync.record('EQUIPMENT_UPDATED', {
      equipmentId: 'e',
      baseVersion: 1,
      changes: {},
    });
    const conflict = {
      conflictId: 'c1',
      fields: ['status'],
      resolution: 'SERVER_WINS' as const,
      serverValue: { status: 'FAILED' },
      clientValue: { status: 'OPERATIONAL' },
    };
    server.decide = (event) =>
      event.id === bad.eventId
        ? { status: 'REJECTED', error: { code: 'WELL_NOT_FOUND', message: 'no well', retryable: false } }
        : event.id === later.eventId
          ? { status: 'REJECTED', error: { code: 'TARGET_NOT_FOUND', message: 'not yet', retryable: true } }
          : event.id === clash.eventId
            ? { status: 'CONFLICT', conflict }
            : { status: 'APPLIED' };
    const conflicts: unknown[] = [];
    fieldsync.on('conflict', (c) => conflicts.push(c));

    // Act
    const report = await fieldsync.syncNow();

    // Assess: one push (after a token refresh), outcomes as stated, the right entries kept.
    expect(report).toMatchObject({ pushed: 4, applied: 1, rejected: 2, conflicts: 1 });
    // The stale token got a 401; the client asked for a fresh one and sent the same push again.
    expect(server.seen.slice(0, 2).map((r) => [r.status, r.headers.authorization])).toEqual([
      [401, 'Bearer t0'],
      [200, 'Bearer t1'],
    ]);
    const outbox = await fieldsync.outbox();
    expect(outbox.map((e) => [e.event.id, e.state])).toEqual([
      [bad.eventId, 'REJECTED'],
      [later.eventId, 'REJECTED'],
      [clash.eventId, 'CONFLICT'],
    ]);
    expect(outbox[0]?.error).toMatchObject({ code: 'WELL_NOT_FOUND', retryable: false });
    expect((await fieldsync.conflicts())[0]?.conflict).toEqual(conflict);
    expect(conflicts).toHaveLength(1);
    expect(outbox.some((e) => e.event.id === applied.eventId)).toBe(false);
    expect(await fieldsync.status()).toMatchObject({ pending: 0, failed: 2, retrying: 1, conflicts: 1 });

    // Act again: only the retryable refusal is pushed again, and it now applies.
    server.decide = () => ({ status: 'APPLIED' });
    server.seen.length = 0;
    await fieldsync.syncNow();
    const again = server
      .pushes()
      .flatMap((r) => (r.body as { events: { id: string }[] }).events.map((e) => e.id));
    expect(again).toEqual([later.eventId]);
    expect((await fieldsync.outbox()).map((e) => e.state)).toEqual(['REJECTED', 'CONFLICT']);

    // The user acknowledges what they saw: gone from the outbox.
    expect(await fieldsync.acknowledge([bad.eventId, clash.eventId])).toBe(2);
    expect(await fieldsync.outbox()).toEqual([]);
  });

  it('stops re-pushing a retryable refusal after maxEventRetries, until the app asks for a retry', async () => {
    const server = new FakeServer();
    server.validTokens.add('t0');
    const fieldsync = client(server, new MemoryStore(), { maxEventRetries: 2 });
    const { eventId } = await fieldsync.record('NOTES_ADDED', { text: 'x' });
    let pushes = 0;
    server.decide = () => {
      pushes += 1;
      return { status: 'REJECTED', error: { code: 'TARGET_NOT_FOUND', message: 'x', retryable: true } };
    };
    for (let i = 0; i < 4; i++) {
      await fieldsync.syncNow();
      // The fake answers an id it knows as DUPLICATE; forget it so each push is decided again.
      (server as unknown as { events: Map<string, unknown> }).events.clear();
    }
    expect(pushes).toBe(2);
    expect(await fieldsync.status()).toMatchObject({ failed: 1, retrying: 0 });
    await fieldsync.retry([eventId]);
    await fieldsync.syncNow();
    expect(pushes).toBe(3);
  });
});

describe('push', () => {
  it('sends 2,500 events as three gzip batches of ≤ 1000, each with its own Idempotency-Key, in order', async () => {
    const server = new FakeServer();
    const fieldsync = client(server);
    const ids: string[] = [];
    for (let i = 0; i < 2500; i++)
      ids.push((await fieldsync.record('NOTES_ADDED', { text: `n${i}` })).eventId);
    const progress: SyncProgress[] = [];
    fieldsync.on('progress', (p) => progress.push(p));

    await fieldsync.syncNow();

    const pushes = server.pushes();
    expect(pushes.map((p) => (p.body as { events: unknown[] }).events.length)).toEqual([1000, 1000, 500]);
    expect(pushes.flatMap((p) => (p.body as { events: { id: string }[] }).events.map((e) => e.id))).toEqual(
      ids,
    );
    expect(new Set(pushes.map((p) => p.headers['idempotency-key'])).size).toBe(3);
    expect(
      pushes.every((p) => p.headers['content-encoding'] === 'gzip' && p.headers.prefer === 'wait=10'),
    ).toBe(true);
    expect(await fieldsync.outbox()).toEqual([]);
    expect(progress.map((p) => p.phase)).toEqual(expect.arrayContaining(['push', 'processing', 'pull']));
    expect(progress.filter((p) => p.phase === 'push').at(-1)).toMatchObject({ done: 2500, total: 2500 });
  });

  it('resends a batch whose answer was lost with the same key and body, so the server replays it', async () => {
    // Prepare: the server takes the push, but the answer never reaches the device (connection dropped).
    const server = new FakeServer();
    server.validTokens.add('t0');
    const store = new MemoryStore();
    const dropping = client(server, store, {
      retry: { maxAttempts: 1 },
      fetch: async (input, init) => {
        await server.fetch(input, init);
        throw new TypeError('fetch failed: other side closed');
      },
    });
    await dropping.record('NOTES_ADDED', { text: 'once' });
    await expect(dropping.syncNow()).rejects.toThrow(/other side closed/);
    expect(await store.listBatches()).toHaveLength(1);

    // Act: a new client on the same store (the app restarted) syncs.
    await client(server, store).syncNow();

    // Assess: both pushes carry the same key and bytes; applied once; the outbox and batches are empty.
    const [first, second] = server.pushes();
    expect(second?.headers['idempotency-key']).toBe(first?.headers['idempotency-key']);
    expect(second?.body).toEqual(first?.body);
    expect(server.applied).toHaveLength(1);
    expect(await store.listOutbox()).toEqual([]);
    expect(await store.listBatches()).toEqual([]);
  });

  it('honours Retry-After on 503 and 429, and backs off exponentially on network errors', async () => {
    const server = new FakeServer();
    server.validTokens.add('t0');
    server.script.push(
      { prefix: 'v1/sync/batches', answer: { status: 503, headers: { 'retry-after': '7' } } },
      { prefix: 'v1/sync/batches', answer: { status: 429, headers: { 'retry-after': '3' } } },
    );
    let failures = 2;
    const fieldsync = client(server, new MemoryStore(), {
      fetch: async (input, init) => {
        if (failures-- > 0) throw new TypeError('fetch failed: ECONNREFUSED');
        return server.fetch(input, init);
      },
    });
    await fieldsync.record('NOTES_ADDED', { text: 'x' });
    delays.length = 0;

    await fieldsync.syncNow();

    // Two network errors (500 ms base, doubling, equal jitter at random 0.5), then 7 s and 3 s as told.
    expect(delays.slice(0, 4)).toEqual([375, 750, 7_000 + 0.5 * 700, 3_000 + 0.5 * 300]);
    expect(server.applied).toHaveLength(1);
  });

  it('gives up a sync when Retry-After is longer than maxRetryAfterMs, keeping everything', async () => {
    const server = new FakeServer();
    server.validTokens.add('t0');
    server.script.push({
      prefix: 'v1/sync/batches',
      answer: { status: 503, headers: { 'retry-after': '3600' } },
    });
    const fieldsync = client(server);
    await fieldsync.record('NOTES_ADDED', { text: 'x' });
    const error = await fieldsync.syncNow().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ status: 503, retryAfterMs: 3_600_000 });
    expect(await fieldsync.status()).toMatchObject({ pending: 1, inFlightBatches: 1, lastError: 'HTTP 503' });
  });

  it('polls a batch answered 202 and leaves it for the next sync when processing outlasts the timeout', async () => {
    let clock = 0;
    const server = new FakeServer();
    server.validTokens.add('t0');
    server.slow = true;
    const fieldsync = client(server, new MemoryStore(), {
      now: () => new Date(clock),
      sleep: async (ms) => {
        clock += ms;
      },
      processingTimeoutMs: 5_000,
    });
    await fieldsync.record('NOTES_ADDED', { text: 'x' });
    const first = await fieldsync.syncNow();
    expect(first.stillProcessing).toBe(1);
    expect(await fieldsync.status()).toMatchObject({ pending: 1, inFlightBatches: 1 });

    server.completeAll();
    await fieldsync.syncNow();
    expect(server.pushes()).toHaveLength(1); // polled, never pushed again
    expect(await fieldsync.status()).toMatchObject({ pending: 0, inFlightBatches: 0 });
  });

  it('splits a batch the server finds too large (413) and renews a key the server refuses (422)', async () => {
    const server = new FakeServer();
    server.validTokens.add('t0');
    server.script.push(
      { prefix: 'v1/sync/batches', answer: { status: 413, json: { status: 413 } } },
      { prefix: 'v1/sync/batches', answer: { status: 422, json: { status: 422 } } },
    );
    const fieldsync = client(server);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await fieldsync.record('NOTES_ADDED', { text: `n${i}` })).eventId);

    await fieldsync.syncNow();

    const sent = server.seen.filter((r) => r.method === 'POST' && r.path === 'v1/sync/batches');
    const events = (r: (typeof sent)[number]) =>
      (r.body as { events: { id: string }[] }).events.map((e) => e.id);
    expect(sent.map((r) => r.status)).toEqual([413, 422, 200, 200]);
    expect(events(sent[0]!)).toEqual(ids); // eslint-disable-line @typescript-eslint/no-non-null-assertion
    expect(events(sent[1]!)).toEqual(ids.slice(0, 3)); // eslint-disable-line @typescript-eslint/no-non-null-assertion
    expect(events(sent[2]!)).toEqual(ids.slice(0, 3)); // eslint-disable-line @typescript-eslint/no-non-null-assertion
    expect(sent[2]?.headers['idempotency-key']).not.toBe(sent[1]?.headers['idempotency-key']);
    expect(events(sent[3]!)).toEqual(ids.slice(3)); // eslint-disable-line @typescript-eslint/no-non-null-assertion
    expect(server.applied).toEqual(ids);
    expect(await fieldsync.outbox()).toEqual([]);
  });

  it('runs one sync at a time: concurrent syncNow calls share it', async () => {
    const server = new FakeServer();
    server.validTokens.add('t0');
    const fieldsync = client(server);
    await fieldsync.record('NOTES_ADDED', { text: 'x' });
    const [a, b] = [fieldsync.syncNow(), fieldsync.syncNow()];
    expect(a).toBe(b);
    await a;
    expect(server.pushes()).toHaveLength(1);
    expect(server.seen.filter((r) => r.path.startsWith('v1/sync/pull'))).toHaveLength(1);
  });
});

describe('pull', () => {
  it('stores snapshot pages and cursor together, starts again on 410 RESYNC_REQUIRED, and applies deletions', async () => {
    const server = new FakeServer();
    server.validTokens.add('t0');
    const store = new MemoryStore();
    const fieldsync = client(server, store);
    const rec = (id: string, version: number, name: string) => ({
      collection: 'patients',
      id,
      version,
      data: { clinicId: 'a', name },
      updatedAt: new Date().toISOString(),
    });
    server.pages.push(
      { records: [rec('p1', 1, 'Ama')], wells: [{ id: 'w1', name: 'W' }], nextCursor: 'c1', hasMore: true },
      { records: [rec('p2', 1, 'Kofi')], nextCursor: 'c2', hasMore: false },
    );
    await fieldsync.syncNow();
    expect(await store.getMeta('pull.cursor')).toBe('c2');
    expect((await fieldsync.collection('patients').list()).map((r) => r.data.name)).toEqual(['Ama', 'Kofi']);
    expect(await fieldsync.entities('well')).toEqual([{ id: 'w1', name: 'W' }]);

    // A delta deletes p1; then the cursor is too old: the snapshot replaces everything.
    server.pages.push({ deleted: [{ type: 'RECORD', collection: 'patients', id: 'p1' }], nextCursor: 'c3' });
    await fieldsync.syncNow();
    expect((await fieldsync.collection('patients').list()).map((r) => r.id)).toEqual(['p2']);
    server.pages.push(
      { status: 410, json: { code: 'RESYNC_REQUIRED' } },
      { records: [rec('p9', 4, 'Esi')], nextCursor: 'c9' },
    );
    const report = await fieldsync.syncNow();
    expect(report.resynced).toBe(true);
    const pulls = server.seen.filter((r) => r.path.startsWith('v1/sync/pull')).map((r) => r.path);
    expect(pulls.at(-2)).toContain('cursor=c3');
    expect(pulls.at(-1)).not.toContain('cursor=');
    expect((await fieldsync.collection('patients').list()).map((r) => r.id)).toEqual(['p9']);
    expect(await fieldsync.entities('well')).toEqual([]);
  });

  it('never shows a pulled value as a revert of a local edit still pending', async () => {
    const server = new FakeServer();
    server.validTokens.add('t0');
    // A clock that never moves: every settle and every pull falls in the same millisecond, as on a fast
    // machine, so "applied before this pull started" must come from the order of events, not the clock.
    const frozen = new Date('2026-11-30T12:00:00.000Z');
    const fieldsync = client(server, new MemoryStore(), {
      waitSeconds: 0,
      processingTimeoutMs: 0,
      now: () => new Date(frozen),
    });
    const at = new Date().toISOString();
    server.pages.push({
      records: [{ collection: 'patients', id: 'p1', version: 1, data: { name: 'Ama' }, updatedAt: at }],
    });
    await fieldsync.syncNow();
    const patients = fieldsync.collection('patients');

    // Edit offline; the server has not processed it when the device pulls again (still version 1).
    server.slow = true;
    await patients.update('p1', { name: 'Ama Owusu' });
    expect((await fieldsync.outbox())[0]?.event.payload).toMatchObject({ baseVersion: 1 });
    server.pages.push({
      records: [{ collection: 'patients', id: 'p1', version: 1, data: { name: 'Ama' }, updatedAt: at }],
      pendingEvents: 1,
    });
    await fieldsync.syncNow();
    expect(await patients.get('p1')).toMatchObject({
      data: { name: 'Ama Owusu' },
      pending: true,
      version: 1,
    });

    // Applied now, but this pull still lags (version 1): still shown as edited.
    server.completeAll();
    server.pages.push({
      records: [{ collection: 'patients', id: 'p1', version: 1, data: { name: 'Ama' }, updatedAt: at }],
    });
    await fieldsync.syncNow();
    expect(await patients.get('p1')).toMatchObject({ data: { name: 'Ama Owusu' }, pending: true });
    expect(await fieldsync.status()).toMatchObject({ pending: 0 });

    // The pull catches up (version 2): the overlay goes, the server's value shows.
    server.pages.push({
      records: [{ collection: 'patients', id: 'p1', version: 2, data: { name: 'Ama Owusu' }, updatedAt: at }],
    });
    await fieldsync.syncNow();
    expect(await patients.get('p1')).toMatchObject({
      data: { name: 'Ama Owusu' },
      pending: false,
      version: 2,
    });
    // It stays only as a watched echo (not pending), in case a later write of another device makes it a conflict.
    expect(await fieldsync.outbox()).toEqual([
      expect.objectContaining({ state: 'APPLIED', seenAt: expect.any(String) }),
    ]);
    expect(await fieldsync.status()).toMatchObject({ pending: 0, failed: 0, conflicts: 0 });
  });
});

describe('photos', () => {
  const jpeg = () => {
    const bytes = new Uint8Array(2048);
    bytes.set([0xff, 0xd8, 0xff, 0xe0]);
    return bytes;
  };

  it('asks for a new upload URL when the storage refuses the one it has, then attaches once', async () => {
    const server = new FakeServer();
    server.validTokens.add('t0');
    server.expireNextUrl = true;
    const fieldsync = client(server);
    const queued = await fieldsync.attachPhoto(jpeg(), { type: 'EQUIPMENT', id: 'pump-1' });
    expect(queued).toMatchObject({ contentType: 'image/jpeg', sizeBytes: 2048 });

    const report = await fieldsync.syncNow();

    const puts = server.seen.filter((r) => r.path.startsWith('http://blob.fake/'));
    expect(puts.map((r) => r.status)).toEqual([403, 201]);
    expect(server.seen.filter((r) => r.path === 'v1/photos/upload-urls' && r.status === 200)).toHaveLength(2);
    expect(report).toMatchObject({ photosUploaded: 1, photoBytes: 2048, applied: 1 });
    const attach = server.pushes()[0]?.body as { events: { id: string; type: string; payload: unknown }[] };
    expect(attach.events).toEqual([
      expect.objectContaining({
        id: queued.attachEventId,
        type: 'PHOTO_ATTACHED',
        payload: expect.objectContaining({
          photoId: queued.photoId,
          blobName: `t/${queued.photoId}.jpeg`,
          sizeBytes: 2048,
          sha256: queued.sha256,
          target: { type: 'EQUIPMENT', id: 'pump-1' },
        }),
      }),
    ]);
    expect(server.blobs.get(`t/${queued.photoId}.jpeg`)).toEqual(jpeg());
  });

  it('survives a restart mid-upload: the queue is in the store, the photo is uploaded and attached once', async () => {
    const server = new FakeServer();
    server.validTokens.add('t0');
    const store = new MemoryStore();
    const crashing = client(server, store, {
      retry: { maxAttempts: 1 },
      fetch: async (input, init) => {
        if (String(input).startsWith('http://blob.fake/'))
          throw new TypeError('fetch failed: socket hang up');
        return server.fetch(input, init);
      },
    });
    const queued = await crashing.attachPhoto(jpeg(), { type: 'WELL', id: 'well-1' });
    await expect(crashing.syncNow()).rejects.toThrow(/socket hang up/);
    expect(await store.listPhotos()).toEqual([
      expect.objectContaining({ photoId: queued.photoId, state: 'QUEUED' }),
    ]);
    expect(await store.listOutbox()).toEqual([]);

    const restarted = client(server, store);
    await restarted.syncNow();
    await restarted.syncNow();

    expect(server.applied).toEqual([queued.attachEventId]);
    expect(await store.listPhotos()).toEqual([]);
    expect(await restarted.status()).toMatchObject({ pending: 0, photos: { queued: 0, bytes: 0 } });
  });

  it('refuses bytes that are no image the server takes, and photos over 10 MiB', async () => {
    const fieldsync = client(new FakeServer());
    await expect(fieldsync.attachPhoto(new Uint8Array([1, 2, 3]), { type: 'WELL', id: 'w' })).rejects.toThrow(
      TypeError,
    );
    await expect(
      fieldsync.attachPhoto(new Uint8Array(10 * 1024 * 1024 + 1), { type: 'WELL', id: 'w' }),
    ).rejects.toThrow(RangeError);
  });
});

describe('auto mode', () => {
  it('syncs at start, after a record (debounced) and on its interval, and not after stop', async () => {
    vi.useFakeTimers();
    try {
      const server = new FakeServer();
      server.validTokens.add('t0');
      // Plain JSON: gzip completes on the thread pool, outside the fake clock's reach.
      const fieldsync = client(server, new MemoryStore(), { compress: false });
      const pulls = () => server.seen.filter((r) => r.path.startsWith('v1/sync/pull')).length;
      const stop = fieldsync.startAuto({ intervalMs: 10_000, debounceMs: 500 });
      await vi.advanceTimersByTimeAsync(0);
      expect(pulls()).toBe(1);

      await fieldsync.record('NOTES_ADDED', { text: 'x' });
      await vi.advanceTimersByTimeAsync(499);
      expect(server.pushes()).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(server.pushes()).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(pulls()).toBe(3);

      stop();
      await fieldsync.record('NOTES_ADDED', { text: 'y' });
      await vi.advanceTimersByTimeAsync(60_000);
      expect(pulls()).toBe(3);
      expect(await fieldsync.status()).toMatchObject({ pending: 1, syncing: false });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a fresh user’s mistakes (issue 15 follow-up)', () => {
  it('refuses malformed options at construction, naming the option', () => {
    const server = new FakeServer();
    const bad = (extra: Record<string, unknown>) => () =>
      client(server, new MemoryStore(), extra as Partial<FieldsyncClientOptions>);
    expect(bad({ deviceInfo: { platform: 'node', appVersion: '1' } })).toThrow(
      /deviceInfo\.platform.*"node"/,
    );
    expect(bad({ deviceInfo: { platform: 'web', appVersion: '' } })).toThrow(/deviceInfo\.appVersion/);
    expect(bad({ deviceId: 'has space' })).toThrow(/deviceId/);
    expect(bad({ baseUrl: 'localhost:7071/api' })).toThrow(/baseUrl/);
    expect(bad({ waitSeconds: 60 })).toThrow(/waitSeconds/);
    expect(bad({ deviceInfo: { platform: 'android', appVersion: '2.1.0' } })).not.toThrow();
  });

  it('refuses an event type the server does not know, before it reaches the outbox', async () => {
    const store = new MemoryStore();
    const fieldsync = client(new FakeServer(), store);
    await expect(fieldsync.record('PRODUCTION_LOGGD', { wellId: 'w' })).rejects.toThrow(
      /unknown event type "PRODUCTION_LOGGD".*PRODUCTION_LOGGED/,
    );
    expect(await store.listOutbox()).toEqual([]);
  });

  it('on a 400 naming events: rejects those with the server’s error, pushes the rest, counts only what was taken', async () => {
    // Prepare: three events; the server refuses the body once, naming the second event.
    const server = new FakeServer();
    server.validTokens.add('t0');
    server.script.push({
      prefix: 'v1/sync/batches',
      answer: {
        status: 400,
        json: { status: 400, errors: [{ path: 'events[1].payload.text', message: 'too deep' }] },
      },
    });
    const fieldsync = client(server);
    const rejectedSeen: string[] = [];
    fieldsync.on('rejected', (r) => rejectedSeen.push(r.eventId));
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await fieldsync.record('NOTES_ADDED', { text: `n${i}` })).eventId);

    // Act
    const report = await fieldsync.syncNow();

    // Assess: the named event is REJECTED (not dropped), the others applied under a new key.
    const sent = server.seen.filter((r) => r.method === 'POST' && r.path === 'v1/sync/batches');
    expect(sent.map((r) => r.status)).toEqual([400, 200]);
    expect(sent[1]?.headers['idempotency-key']).not.toBe(sent[0]?.headers['idempotency-key']);
    expect(server.applied).toEqual([ids[0], ids[2]]);
    expect(report).toMatchObject({ pushed: 2, applied: 2, rejected: 1 });
    expect(rejectedSeen).toEqual([ids[1]]);
    expect(await fieldsync.outbox()).toMatchObject([
      {
        event: { id: ids[1] },
        state: 'REJECTED',
        error: { code: 'INVALID_EVENT', retryable: false, errors: [{ path: 'events[1].payload.text' }] },
      },
    ]);
    expect(await fieldsync.status()).toMatchObject({ pending: 0, failed: 1, inFlightBatches: 0 });
  });

  it('on a 400 naming no event: drops the stored batch (not its events), keeps the error across a restart', async () => {
    const server = new FakeServer();
    server.validTokens.add('t0');
    server.script.push({
      prefix: 'v1/sync/batches',
      answer: { status: 400, json: { status: 400, detail: 'the body is not valid' } },
    });
    const store = new MemoryStore();
    const first = client(server, store);
    const { eventId } = await first.record('NOTES_ADDED', { text: 'kept' });

    await expect(first.syncNow()).rejects.toThrow(/HTTP 400: the body is not valid/);

    // A new client on the same store (a restart) still tells why; the event waits, in no stored batch.
    const again = client(server, store);
    expect(await again.status()).toMatchObject({
      pending: 1,
      inFlightBatches: 0,
      lastError: 'HTTP 400: the body is not valid',
    });
    const report = await again.syncNow();
    expect(report).toMatchObject({ pushed: 1, applied: 1 });
    expect(server.applied).toEqual([eventId]);
    expect(await again.status()).toMatchObject({ pending: 0, lastError: null });
  });

  it('ends a sync on a 401 after one token refresh: two requests, AuthError, no back-off', async () => {
    const server = new FakeServer(); // accepts only t1
    server.validTokens.clear();
    const fieldsync = client(server);
    await fieldsync.record('NOTES_ADDED', { text: 'x' });
    delays.length = 0;

    await expect(fieldsync.syncNow()).rejects.toBeInstanceOf(AuthError);

    expect(server.seen.map((r) => r.status)).toEqual([401, 401]);
    expect(delays).toEqual([]);
    expect(await fieldsync.status()).toMatchObject({ pending: 1, lastError: expect.stringMatching(/401/) });
  });

  it('names the cause of a network error (ECONNREFUSED), not only "fetch failed"', async () => {
    // Prepare: a port nobody listens on (taken, then released).
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
    const { port } = probe.address() as AddressInfo;
    await new Promise((done) => probe.close(done));
    const fieldsync = new FieldsyncClient({
      baseUrl: `http://127.0.0.1:${port}/api`,
      deviceId: 'tablet-7',
      store: new MemoryStore(),
      getToken: () => 't',
      retry: { maxAttempts: 1 },
    });
    await fieldsync.record('NOTES_ADDED', { text: 'x' });
    const error = await fieldsync.syncNow().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as Error).message).toMatch(/fetch failed: .*ECONNREFUSED/);
  });
});
