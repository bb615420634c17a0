import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClientStore, MemoryStore, type NewOutboxEntry } from '../../client/src/index.js';
import { openSqliteStore } from '../../client/src/sqlite.js';

// The ClientStore contract, for the memory and SQLite adapters (IndexedDB runs in Chromium: the browser test).

const dir = mkdtempSync(join(tmpdir(), 'fieldsync-client-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (id: string): NewOutboxEntry => ({
  event: { id, type: 'NOTES_ADDED', occurredAt: '2026-11-30T08:00:00.000Z', payload: { text: id } },
  state: 'PENDING',
  recordedAt: '2026-11-30T08:00:00.000Z',
  attempts: 0,
});

const adapters: [string, () => ClientStore][] = [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => openSqliteStore(join(dir, `${Math.random()}.db`))],
];

describe.each(adapters)('%s store', (_name, open) => {
  it('keeps the outbox in recording order and skips an id it already has', async () => {
    const store = open();
    await store.appendOutbox([entry('a'), entry('b')]);
    await store.appendOutbox([entry('c'), { ...entry('a'), attempts: 9 }]);
    const outbox = await store.listOutbox();
    expect(outbox.map((e) => e.event.id)).toEqual(['a', 'b', 'c']);
    expect(outbox[0]?.attempts).toBe(0);
    expect(outbox[0]!.seq).toBeLessThan(outbox[1]!.seq); // eslint-disable-line @typescript-eslint/no-non-null-assertion
    await store.close();
  });

  it('settles in one call: removes, updates and deletes the batch', async () => {
    const store = open();
    await store.appendOutbox([entry('a'), entry('b'), entry('c')]);
    await store.putBatch({ key: 'k1', eventIds: ['a', 'b', 'c'], createdAt: '2026-11-30T08:00:00.000Z' });
    const [, b] = await store.listOutbox();
    await store.settle({
      removeIds: ['a'],
      update: [{ ...b!, state: 'REJECTED', error: { code: 'X', message: 'm', retryable: false } }], // eslint-disable-line @typescript-eslint/no-non-null-assertion
      deleteBatchKeys: ['k1'],
    });
    expect((await store.listOutbox()).map((e) => [e.event.id, e.state, e.error?.code])).toEqual([
      ['b', 'REJECTED', 'X'],
      ['c', 'PENDING', undefined],
    ]);
    expect(await store.listBatches()).toEqual([]);
    await store.close();
  });

  it('writes a pull page with its cursor, and resets the local tables on request', async () => {
    const store = open();
    await store.applyPull({
      reset: false,
      upserts: [
        { kind: 'record:patients', id: 'p2', data: { name: 'B' }, version: 3 },
        { kind: 'record:patients', id: 'p1', data: { name: 'A' }, version: 1 },
        { kind: 'well', id: 'w1', data: { id: 'w1' } },
      ],
      deletes: [],
      meta: { 'pull.cursor': 'c1' },
    });
    expect((await store.listLocal('record:patients')).map((r) => r.id)).toEqual(['p1', 'p2']);
    expect(await store.getLocal('record:patients', 'p2')).toMatchObject({ version: 3, data: { name: 'B' } });
    await store.applyPull({
      reset: false,
      upserts: [],
      deletes: [{ kind: 'well', id: 'w1' }],
      meta: { 'pull.cursor': 'c2' },
    });
    expect(await store.listLocal('well')).toEqual([]);
    await store.applyPull({
      reset: true,
      upserts: [{ kind: 'user', id: 'u', data: {} }],
      deletes: [],
      meta: { 'pull.cursor': 'c3' },
    });
    expect(await store.listLocal('record:patients')).toEqual([]);
    expect(await store.getMeta('pull.cursor')).toBe('c3');
    await store.setMeta('pull.cursor', undefined);
    expect(await store.getMeta('pull.cursor')).toBeUndefined();
    await store.close();
  });

  it('keeps photo jobs with their bytes', async () => {
    const store = open();
    const bytes = new Uint8Array([0xff, 0xd8, 0xff, 1, 2, 3]);
    const job = {
      photoId: 'p',
      attachEventId: 'e',
      target: { type: 'WELL' as const, id: 'w' },
      contentType: 'image/jpeg' as const,
      sizeBytes: 6,
      sha256: 'x',
      takenAt: '2026-11-30T08:00:00.000Z',
      queuedAt: '2026-11-30T08:00:00.000Z',
      source: { kind: 'bytes' as const, bytes },
      state: 'QUEUED' as const,
      attempts: 0,
    };
    await store.putPhoto(job);
    const [stored] = await store.listPhotos();
    expect(stored).toEqual(job);
    await store.deletePhoto('p');
    expect(await store.listPhotos()).toEqual([]);
    await store.close();
  });
});

describe('sqlite store', () => {
  it('survives a reopen with the outbox, batches, photo queue and cursor intact', async () => {
    const path = join(dir, 'reopen.db');
    const first = openSqliteStore(path);
    await first.appendOutbox([entry('a'), entry('b')]);
    await first.putBatch({ key: 'k', eventIds: ['a'], createdAt: '2026-11-30T08:00:00.000Z', batchId: 'b1' });
    await first.setMeta('pull.cursor', 'c7');
    await first.close();

    const second = openSqliteStore(path);
    expect((await second.listOutbox()).map((e) => e.event)).toEqual([entry('a').event, entry('b').event]);
    expect(await second.listBatches()).toEqual([
      { key: 'k', eventIds: ['a'], createdAt: '2026-11-30T08:00:00.000Z', batchId: 'b1' },
    ]);
    expect(await second.getMeta('pull.cursor')).toBe('c7');
    await second.appendOutbox([entry('c')]);
    expect((await second.listOutbox()).map((e) => e.event.id)).toEqual(['a', 'b', 'c']);
    await second.close();
  });
});
