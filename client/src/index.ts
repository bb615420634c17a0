/**
 * @fieldsync/client — the fieldsync client for Node, Electron and browsers (issue 15): a durable outbox,
 * push with per-batch Idempotency-Keys, photo uploads, pull into local tables, progress and status.
 *
 * Stores: {@link MemoryStore} and {@link openIndexedDbStore} here; SQLite (better-sqlite3) from
 * `@fieldsync/client/sqlite`, so browser bundles never load a native module.
 */
export {
  type AutoSyncOptions,
  type ClientEvents,
  CollectionHandle,
  EVENT_TYPES,
  FieldsyncClient,
  type FieldsyncClientOptions,
  type LocalRecord,
  type PullOptions,
  type QueuedPhoto,
  type RecordedEvent,
  type SyncPhase,
  type SyncProgress,
  type SyncReport,
  type SyncStatus,
} from './client.js';
export type {
  ClientStore,
  LocalRow,
  NewOutboxEntry,
  OutboxEntry,
  OutboxState,
  PhotoJob,
  PhotoSource,
  PullWrite,
  SettleChange,
  StoredBatch,
} from './store.js';
export { MemoryStore } from './stores/memory.js';
export { IndexedDbStore, openIndexedDbStore } from './stores/indexeddb.js';
export { AuthError, FieldsyncError, HttpError, NetworkError, type Problem } from './errors.js';
export type { TokenProvider } from './http.js';
export { DEFAULT_RETRY, parseRetryAfter, type RetryOptions, retryDelayMs } from './backoff.js';
export { type BatchLimits, MAX_BODY_BYTES, MAX_EVENTS_PER_BATCH, planBatches } from './batching.js';
export { type Compressor, gzip } from './compress.js';
export { MAX_PHOTO_BYTES, sniffContentType } from './photos.js';
export type * from './types.js';

/** The package version. */
export const CLIENT_VERSION = '0.1.0';
