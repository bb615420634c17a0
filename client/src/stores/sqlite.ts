import Database from 'better-sqlite3';
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

/** Options of {@link openSqliteStore}. */
export interface SqliteStoreOptions {
  /** better-sqlite3 options (e.g. `{ readonly: false }`); the file is created when missing. */
  database?: Database.Options;
}

const SCHEMA = `
create table if not exists outbox (
  seq integer primary key autoincrement,
  id text not null unique,
  body text not null
);
create table if not exists batches (key text primary key, created_at text not null, body text not null);
create table if not exists photos (
  photo_id text primary key, queued_at text not null, body text not null, bytes blob
);
create table if not exists local_rows (
  kind text not null, id text not null, body text not null, primary key (kind, id)
);
create table if not exists meta (key text primary key, value text not null);
`;

/**
 * Opens (creating when missing) a {@link ClientStore} in one SQLite file through better-sqlite3 12, for
 * Node and Electron's main process. Journal WAL with synchronous=FULL: a method's promise resolves only once
 * its transaction is on disk, so a recorded event survives a crash or power loss. Loaded only through the
 * `@fieldsync/client/sqlite` export, so browser bundles never see better-sqlite3.
 *
 * @param path the database file (`:memory:` for a throwaway store)
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(new Database(path, options.database));
}

/** The SQLite {@link ClientStore}; see {@link openSqliteStore}. */
export class SqliteStore implements ClientStore {
  private readonly statements;

  constructor(private readonly db: Database.Database) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.exec(SCHEMA);
    this.statements = {
      appendOutbox: db.prepare('insert or ignore into outbox (id, body) values (?, ?)'),
      listOutbox: db.prepare('select seq, body from outbox order by seq'),
      updateOutbox: db.prepare('update outbox set body = ? where id = ?'),
      removeOutbox: db.prepare('delete from outbox where id = ?'),
      putBatch: db.prepare('insert or replace into batches (key, created_at, body) values (?, ?, ?)'),
      listBatches: db.prepare('select body from batches order by created_at, key'),
      deleteBatch: db.prepare('delete from batches where key = ?'),
      putPhoto: db.prepare(
        'insert or replace into photos (photo_id, queued_at, body, bytes) values (?, ?, ?, ?)',
      ),
      listPhotos: db.prepare('select body, bytes from photos order by queued_at, photo_id'),
      deletePhoto: db.prepare('delete from photos where photo_id = ?'),
      clearLocal: db.prepare('delete from local_rows'),
      upsertLocal: db.prepare('insert or replace into local_rows (kind, id, body) values (?, ?, ?)'),
      deleteLocal: db.prepare('delete from local_rows where kind = ? and id = ?'),
      getLocal: db.prepare('select body from local_rows where kind = ? and id = ?'),
      listLocal: db.prepare('select body from local_rows where kind = ? order by id'),
      getMeta: db.prepare('select value from meta where key = ?'),
      setMeta: db.prepare('insert or replace into meta (key, value) values (?, ?)'),
      deleteMeta: db.prepare('delete from meta where key = ?'),
    };
  }

  async appendOutbox(entries: readonly NewOutboxEntry[]): Promise<void> {
    this.db.transaction(() => {
      for (const entry of entries) this.statements.appendOutbox.run(entry.event.id, JSON.stringify(entry));
    })();
  }

  async listOutbox(): Promise<OutboxEntry[]> {
    const rows = this.statements.listOutbox.all() as { seq: number; body: string }[];
    return rows.map((row) => ({ ...(JSON.parse(row.body) as NewOutboxEntry), seq: row.seq }));
  }

  async putBatch(batch: StoredBatch): Promise<void> {
    this.statements.putBatch.run(batch.key, batch.createdAt, JSON.stringify(batch));
  }

  async listBatches(): Promise<StoredBatch[]> {
    const rows = this.statements.listBatches.all() as { body: string }[];
    return rows.map((row) => JSON.parse(row.body) as StoredBatch);
  }

  async settle(change: SettleChange): Promise<void> {
    this.db.transaction(() => {
      for (const id of change.removeIds) this.statements.removeOutbox.run(id);
      for (const entry of change.update) {
        const { seq: _seq, ...body } = entry;
        this.statements.updateOutbox.run(JSON.stringify(body), entry.event.id);
      }
      for (const key of change.deleteBatchKeys) this.statements.deleteBatch.run(key);
    })();
  }

  async putPhoto(job: PhotoJob): Promise<void> {
    // The bytes go in their own BLOB column, not through JSON.
    const bytes = job.source.kind === 'bytes' ? Buffer.from(job.source.bytes) : null;
    const body = job.source.kind === 'bytes' ? { ...job, source: { kind: 'bytes' as const } } : job;
    this.statements.putPhoto.run(job.photoId, job.queuedAt, JSON.stringify(body), bytes);
  }

  async listPhotos(): Promise<PhotoJob[]> {
    const rows = this.statements.listPhotos.all() as { body: string; bytes: Buffer | null }[];
    return rows.map((row) => {
      const job = JSON.parse(row.body) as PhotoJob;
      if (job.source.kind === 'bytes') job.source = { kind: 'bytes', bytes: new Uint8Array(row.bytes ?? []) };
      return job;
    });
  }

  async deletePhoto(photoId: string): Promise<void> {
    this.statements.deletePhoto.run(photoId);
  }

  async applyPull(page: PullWrite): Promise<void> {
    this.db.transaction(() => {
      if (page.reset) this.statements.clearLocal.run();
      for (const row of page.upserts) this.statements.upsertLocal.run(row.kind, row.id, JSON.stringify(row));
      for (const row of page.deletes) this.statements.deleteLocal.run(row.kind, row.id);
      for (const [key, value] of Object.entries(page.meta)) this.writeMeta(key, value);
    })();
  }

  async getLocal(kind: string, id: string): Promise<LocalRow | undefined> {
    const row = this.statements.getLocal.get(kind, id) as { body: string } | undefined;
    return row && (JSON.parse(row.body) as LocalRow);
  }

  async listLocal(kind: string): Promise<LocalRow[]> {
    const rows = this.statements.listLocal.all(kind) as { body: string }[];
    return rows.map((row) => JSON.parse(row.body) as LocalRow);
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (this.statements.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  async setMeta(key: string, value: string | undefined): Promise<void> {
    this.writeMeta(key, value);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private writeMeta(key: string, value: string | undefined): void {
    if (value === undefined) this.statements.deleteMeta.run(key);
    else this.statements.setMeta.run(key, value);
  }
}
