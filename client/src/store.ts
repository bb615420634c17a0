import type {
  ConflictReport,
  DeviceInfo,
  EventError,
  PhotoContentType,
  PhotoTarget,
  SyncEvent,
} from './types.js';

/**
 * The storage port of @fieldsync/client: everything the client keeps across restarts. Small and async so
 * that any durable store can implement it — memory (tests), SQLite (better-sqlite3, Node/Electron),
 * IndexedDB (browsers), expo-sqlite (React Native). Every method must be durable when its promise resolves
 * (SQLite: committed with synchronous=FULL; IndexedDB: transaction `complete`), and each method is one
 * transaction: it happens entirely or not at all. Values handed in may be kept by reference only in memory
 * stores that copy them (the memory adapter clones).
 */
export interface ClientStore {
  /**
   * Appends events to the outbox, in order, in one transaction. An entry whose `event.id` is already in the
   * outbox is skipped (so a step re-run after a crash never records an event twice). The store assigns
   * `seq`, increasing across restarts.
   */
  appendOutbox(entries: readonly NewOutboxEntry[]): Promise<void>;
  /** Every outbox entry, by `seq` (recording order). */
  listOutbox(): Promise<OutboxEntry[]>;
  /** Inserts or replaces a batch (by `key`): written before its request is sent, so a resend replays. */
  putBatch(batch: StoredBatch): Promise<void>;
  /** Every stored batch, by `createdAt`. */
  listBatches(): Promise<StoredBatch[]>;
  /**
   * Settles outcomes in one transaction: removes the entries `removeIds`, replaces the entries of `update`
   * (matched by `event.id`; an id no longer in the outbox is ignored) and deletes the batches `deleteBatchKeys`.
   */
  settle(change: SettleChange): Promise<void>;
  /** Inserts or replaces a queued photo (by `photoId`), its bytes included when it has them. */
  putPhoto(job: PhotoJob): Promise<void>;
  /** Every queued photo, by `queuedAt`. */
  listPhotos(): Promise<PhotoJob[]>;
  /** Removes a queued photo (its bytes too). */
  deletePhoto(photoId: string): Promise<void>;
  /**
   * Writes one pull page in one transaction: when `reset`, first empties the local tables; then upserts
   * `upserts`, removes `deletes`, and sets `meta` (the cursor among them: a cursor is never stored without
   * the data it covers, nor data without its cursor).
   */
  applyPull(page: PullWrite): Promise<void>;
  /** One local row (pulled server state), or undefined. */
  getLocal(kind: string, id: string): Promise<LocalRow | undefined>;
  /** Every local row of a kind, by id. */
  listLocal(kind: string): Promise<LocalRow[]>;
  /** A small persistent setting (cursor, last sync time…), or undefined. */
  getMeta(key: string): Promise<string | undefined>;
  /** Sets (or with undefined, removes) a setting. */
  setMeta(key: string, value: string | undefined): Promise<void>;
  /** Releases the store (closes the database). */
  close(): Promise<void>;
}

/**
 * Where an outbox entry stands. An entry stays in the outbox until the server reports APPLIED or DUPLICATE:
 * - `PENDING`: recorded, not settled (it may be in a stored batch: sent, outcome not known yet);
 * - `REJECTED`: refused (`error`); re-pushed on later syncs only when `error.retryable`;
 * - `FAILED`: the server gave up processing (`error`, retryable); re-pushed on later syncs;
 * - `CONFLICT`: applied with a conflict (`conflict` holds both values); final, kept until acknowledged;
 * - `APPLIED`: an applied edit (RECORD_*, EQUIPMENT_UPDATED, PRODUCTION_LOGGED) kept until a pull shows its
 *   effect: shown over pulled data meanwhile (a lagging pull never looks like a revert), and checked then —
 *   if the pulled value differs, the batch outcome is read again, since a later write from another device
 *   can turn it into a CONFLICT the server lost for this device. Never pushed again, not counted as pending.
 */
export type OutboxState = 'PENDING' | 'REJECTED' | 'FAILED' | 'CONFLICT' | 'APPLIED';

/** An entry as the client hands it to {@link ClientStore.appendOutbox}. */
export interface NewOutboxEntry {
  event: SyncEvent;
  state: OutboxState;
  /** ISO time the app recorded it (local clock). */
  recordedAt: string;
  /** Pushes of this event so far. */
  attempts: number;
  error?: EventError;
  conflict?: ConflictReport;
  /** ISO time of the outcome that settled it (REJECTED, FAILED, CONFLICT, APPLIED). */
  settledAt?: string;
  /** The server batch whose outcome settled it, and that batch's `receivedAt` (server clock). */
  batchId?: string;
  batchReceivedAt?: string;
}

/** An outbox entry as stored: `seq` orders entries as recorded. */
export interface OutboxEntry extends NewOutboxEntry {
  seq: number;
}

/**
 * A batch of outbox events with its Idempotency-Key, stored before its request is sent: after a crash the
 * same events are sent again with the same key and the server replays its first answer (no duplicate).
 */
export interface StoredBatch {
  /** The Idempotency-Key (a UUID). */
  key: string;
  /** Event ids, in the order of the body. */
  eventIds: string[];
  /** deviceInfo as sent, so the resent body is byte-for-byte the same request. */
  deviceInfo?: DeviceInfo;
  /** ISO time it was made. */
  createdAt: string;
  /** The server's batch id, once a push was answered 202: then the client only polls it. */
  batchId?: string;
}

/** One transaction of outcomes: see {@link ClientStore.settle}. */
export interface SettleChange {
  removeIds: readonly string[];
  update: readonly OutboxEntry[];
  deleteBatchKeys: readonly string[];
}

/** Where a photo's bytes are: in the store, or a file the app keeps (Node/Electron). */
export type PhotoSource = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'file'; path: string };

/**
 * A photo queued by `attachPhoto`: uploaded at the next sync, then its PHOTO_ATTACHED event (id
 * `attachEventId`, made when queued) goes to the outbox and the job is removed.
 */
export interface PhotoJob {
  photoId: string;
  attachEventId: string;
  target: PhotoTarget;
  contentType: PhotoContentType;
  /** Bytes of the photo. */
  sizeBytes: number;
  /** Lower-case hex SHA-256 of the bytes. */
  sha256: string;
  /** ISO time the photo was taken. */
  takenAt: string;
  queuedAt: string;
  source: PhotoSource;
  /** `QUEUED`: to upload; `UPLOADED`: the blob is in place, the attach event not recorded yet. */
  state: 'QUEUED' | 'UPLOADED';
  /** The last upload URL handed out (re-asked when expired or refused). */
  upload?: { url: string; blobName: string; expiresAt: string; headers: Record<string, string> };
  /** Upload tries so far. */
  attempts: number;
}

/**
 * A row of pulled server state. `kind` is `well`, `equipment`, `user`, `production`, or `record:<collection>`
 * for v1.1 records (then `version` is the record's version).
 */
export interface LocalRow {
  kind: string;
  id: string;
  data: Record<string, unknown>;
  version?: number;
  updatedAt?: string;
}

/** One pull page for {@link ClientStore.applyPull}. */
export interface PullWrite {
  reset: boolean;
  upserts: readonly LocalRow[];
  deletes: readonly { kind: string; id: string }[];
  meta: Readonly<Record<string, string | undefined>>;
}
