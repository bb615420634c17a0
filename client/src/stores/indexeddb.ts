import type {
  ClientStore,
  LocalRow,
  NewOutboxEntry,
  OutboxEntry,
  PhotoJob,
  PullWrite,
  SettleChange,
  StoredBatch,
} from '../store.js';

const VERSION = 1;
/** The object stores of the database (version 1). */
type StoreName = 'outbox' | 'batches' | 'photos' | 'local' | 'meta';

const promised = <T>(request: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
  });

/**
 * Opens (creating when missing) a {@link ClientStore} in an IndexedDB database, for browsers. Written
 * against the standard IndexedDB API only. Each method is one transaction opened with
 * `durability: 'strict'` and resolves on its `complete` event, i.e. once the browser reports it durable.
 *
 * @param name database name (one per signed-in user and device, e.g. `fieldsync-<tenant>-<deviceId>`)
 * @param factory the IndexedDB factory (default: the global `indexedDB`)
 */
export async function openIndexedDbStore(
  name: string,
  factory: IDBFactory = globalThis.indexedDB,
): Promise<IndexedDbStore> {
  if (!factory) throw new Error('IndexedDB is not available here; use the SQLite or memory store');
  const request = factory.open(name, VERSION);
  request.onupgradeneeded = () => {
    const db = request.result;
    const outbox = db.createObjectStore('outbox', { keyPath: 'seq', autoIncrement: true });
    outbox.createIndex('id', 'event.id', { unique: true });
    db.createObjectStore('batches', { keyPath: 'key' });
    db.createObjectStore('photos', { keyPath: 'photoId' });
    const local = db.createObjectStore('local', { keyPath: ['kind', 'id'] });
    local.createIndex('kind', 'kind');
    db.createObjectStore('meta', { keyPath: 'key' });
  };
  return new IndexedDbStore(await promised(request));
}

/** The IndexedDB {@link ClientStore}; see {@link openIndexedDbStore}. */
export class IndexedDbStore implements ClientStore {
  constructor(private readonly db: IDBDatabase) {}

  /**
   * Runs `body` in one transaction and resolves with what it returns once the transaction completes (and
   * rejects when it aborts). `body` only queues requests with callbacks: awaiting anything else inside an
   * IndexedDB transaction would let it auto-commit half done.
   */
  private run<T>(
    names: readonly StoreName[],
    mode: IDBTransactionMode,
    body: (tx: IDBTransaction) => () => T,
  ): Promise<T> {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction([...names], mode, { durability: 'strict' });
      let result: () => T;
      try {
        result = body(tx);
      } catch (error) {
        tx.abort(); // a request that could not even be made (e.g. a value that cannot be cloned)
        reject(error);
        return;
      }
      tx.oncomplete = () => resolve(result());
      tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
      tx.onerror = () => undefined; // abort follows; reported there
    });
  }

  appendOutbox(entries: readonly NewOutboxEntry[]): Promise<void> {
    return this.run(['outbox'], 'readwrite', (tx) => {
      const store = tx.objectStore('outbox');
      // One by one, in order, so seq follows recording order and an id already present is skipped.
      const next = (index: number): void => {
        const entry = entries[index];
        if (!entry) return;
        store.index('id').getKey(entry.event.id).onsuccess = (e) => {
          if ((e.target as IDBRequest).result === undefined) store.add(structuredClone(entry));
          next(index + 1);
        };
      };
      next(0);
      return () => undefined;
    });
  }

  listOutbox(): Promise<OutboxEntry[]> {
    return this.run(['outbox'], 'readonly', (tx) => {
      const request = tx.objectStore('outbox').getAll() as IDBRequest<OutboxEntry[]>;
      return () => request.result;
    });
  }

  putBatch(batch: StoredBatch): Promise<void> {
    return this.run(['batches'], 'readwrite', (tx) => {
      tx.objectStore('batches').put(structuredClone(batch));
      return () => undefined;
    });
  }

  listBatches(): Promise<StoredBatch[]> {
    return this.run(['batches'], 'readonly', (tx) => {
      const request = tx.objectStore('batches').getAll() as IDBRequest<StoredBatch[]>;
      return () => [...request.result].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    });
  }

  settle(change: SettleChange): Promise<void> {
    return this.run(['outbox', 'batches'], 'readwrite', (tx) => {
      const outbox = tx.objectStore('outbox');
      for (const id of change.removeIds) {
        outbox.index('id').getKey(id).onsuccess = (e) => {
          const seq = (e.target as IDBRequest<IDBValidKey | undefined>).result;
          if (seq !== undefined) outbox.delete(seq);
        };
      }
      for (const entry of change.update) {
        outbox.index('id').getKey(entry.event.id).onsuccess = (e) => {
          const seq = (e.target as IDBRequest<IDBValidKey | undefined>).result;
          if (seq !== undefined) outbox.put({ ...structuredClone(entry), seq });
        };
      }
      for (const key of change.deleteBatchKeys) tx.objectStore('batches').delete(key);
      return () => undefined;
    });
  }

  putPhoto(job: PhotoJob): Promise<void> {
    return this.run(['photos'], 'readwrite', (tx) => {
      tx.objectStore('photos').put(structuredClone(job));
      return () => undefined;
    });
  }

  listPhotos(): Promise<PhotoJob[]> {
    return this.run(['photos'], 'readonly', (tx) => {
      const request = tx.objectStore('photos').getAll() as IDBRequest<PhotoJob[]>;
      return () => [...request.result].sort((a, b) => a.queuedAt.localeCompare(b.queuedAt));
    });
  }

  deletePhoto(photoId: string): Promise<void> {
    return this.run(['photos'], 'readwrite', (tx) => {
      tx.objectStore('photos').delete(photoId);
      return () => undefined;
    });
  }

  applyPull(page: PullWrite): Promise<void> {
    return this.run(['local', 'meta'], 'readwrite', (tx) => {
      const local = tx.objectStore('local');
      const meta = tx.objectStore('meta');
      // Requests of one transaction run in the order they were made: the clear comes first.
      if (page.reset) local.clear();
      for (const row of page.upserts) local.put(structuredClone(row));
      for (const row of page.deletes) local.delete([row.kind, row.id]);
      for (const [key, value] of Object.entries(page.meta)) {
        if (value === undefined) meta.delete(key);
        else meta.put({ key, value });
      }
      return () => undefined;
    });
  }

  getLocal(kind: string, id: string): Promise<LocalRow | undefined> {
    return this.run(['local'], 'readonly', (tx) => {
      const request = tx.objectStore('local').get([kind, id]) as IDBRequest<LocalRow | undefined>;
      return () => request.result;
    });
  }

  listLocal(kind: string): Promise<LocalRow[]> {
    return this.run(['local'], 'readonly', (tx) => {
      const request = tx.objectStore('local').index('kind').getAll(kind) as IDBRequest<LocalRow[]>;
      return () => request.result;
    });
  }

  getMeta(key: string): Promise<string | undefined> {
    return this.run(['meta'], 'readonly', (tx) => {
      const request = tx.objectStore('meta').get(key) as IDBRequest<{ value: string } | undefined>;
      return () => request.result?.value;
    });
  }

  setMeta(key: string, value: string | undefined): Promise<void> {
    return this.run(['meta'], 'readwrite', (tx) => {
      if (value === undefined) tx.objectStore('meta').delete(key);
      else tx.objectStore('meta').put({ key, value });
      return () => undefined;
    });
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
