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

const localKey = (kind: string, id: string) => `${kind}\u0000${id}`;

/**
 * A {@link ClientStore} in memory: for tests and for apps that accept losing the outbox with the process.
 * Values are cloned in and out, so callers never share objects with the store (as with a real database).
 */
export class MemoryStore implements ClientStore {
  private seq = 0;
  private readonly outbox = new Map<string, OutboxEntry>();
  private readonly batches = new Map<string, StoredBatch>();
  private readonly photos = new Map<string, PhotoJob>();
  private readonly local = new Map<string, LocalRow>();
  private readonly meta = new Map<string, string>();

  async appendOutbox(entries: readonly NewOutboxEntry[]): Promise<void> {
    for (const entry of entries) {
      if (this.outbox.has(entry.event.id)) continue;
      this.outbox.set(entry.event.id, { ...structuredClone(entry), seq: ++this.seq });
    }
  }

  async listOutbox(): Promise<OutboxEntry[]> {
    return [...this.outbox.values()].sort((a, b) => a.seq - b.seq).map((e) => structuredClone(e));
  }

  async putBatch(batch: StoredBatch): Promise<void> {
    this.batches.set(batch.key, structuredClone(batch));
  }

  async listBatches(): Promise<StoredBatch[]> {
    return [...this.batches.values()]
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map((b) => structuredClone(b));
  }

  async settle(change: SettleChange): Promise<void> {
    for (const id of change.removeIds) this.outbox.delete(id);
    for (const entry of change.update) {
      if (this.outbox.has(entry.event.id)) this.outbox.set(entry.event.id, structuredClone(entry));
    }
    for (const key of change.deleteBatchKeys) this.batches.delete(key);
  }

  async putPhoto(job: PhotoJob): Promise<void> {
    this.photos.set(job.photoId, structuredClone(job));
  }

  async listPhotos(): Promise<PhotoJob[]> {
    return [...this.photos.values()]
      .sort((a, b) => a.queuedAt.localeCompare(b.queuedAt))
      .map((p) => structuredClone(p));
  }

  async deletePhoto(photoId: string): Promise<void> {
    this.photos.delete(photoId);
  }

  async applyPull(page: PullWrite): Promise<void> {
    if (page.reset) this.local.clear();
    for (const row of page.upserts) this.local.set(localKey(row.kind, row.id), structuredClone(row));
    for (const row of page.deletes) this.local.delete(localKey(row.kind, row.id));
    for (const [key, value] of Object.entries(page.meta)) {
      if (value === undefined) this.meta.delete(key);
      else this.meta.set(key, value);
    }
  }

  async getLocal(kind: string, id: string): Promise<LocalRow | undefined> {
    const row = this.local.get(localKey(kind, id));
    return row && structuredClone(row);
  }

  async listLocal(kind: string): Promise<LocalRow[]> {
    return [...this.local.values()]
      .filter((row) => row.kind === kind)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
      .map((row) => structuredClone(row));
  }

  async getMeta(key: string): Promise<string | undefined> {
    return this.meta.get(key);
  }

  async setMeta(key: string, value: string | undefined): Promise<void> {
    if (value === undefined) this.meta.delete(key);
    else this.meta.set(key, value);
  }

  async close(): Promise<void> {}
}
