import { DEFAULT_RETRY, type RetryOptions, retryDelayMs } from './backoff.js';
import {
  DEFAULT_BATCH_BYTES,
  ENVELOPE_BYTES,
  MAX_BODY_BYTES,
  MAX_EVENTS_PER_BATCH,
  jsonBytes,
  planBatches,
} from './batching.js';
import { type Compressor, gzip } from './compress.js';
import { AuthError, FieldsyncError, HttpError, type Problem } from './errors.js';
import { type HttpAnswer, HttpClient, type TokenProvider } from './http.js';
import { MAX_PHOTO_BYTES, readFileBytes, sha256Hex, sniffContentType } from './photos.js';
import type { ClientStore, LocalRow, NewOutboxEntry, OutboxEntry, PhotoJob, StoredBatch } from './store.js';
import type {
  BatchOutcome,
  ConflictReport,
  DeviceInfo,
  EventError,
  EventLocation,
  PhotoContentType,
  PhotoTarget,
  PullPage,
  PushAccepted,
  SyncEvent,
} from './types.js';

/** Options of {@link FieldsyncClient}. Times are in milliseconds unless named otherwise. */
export interface FieldsyncClientOptions {
  /** The API base, `/api` included: `http://localhost:7071/api`, `https://<app>.azurewebsites.net/api`. */
  baseUrl: string;
  /** This device's id (stable across restarts; a device belongs to the user who first synced with it). */
  deviceId: string;
  /** Where the outbox, batches, photo queue and pulled data live. */
  store: ClientStore;
  /** Bearer tokens; asked again with `forceRefresh` after a 401. */
  getToken: TokenProvider;
  /** Sent with every push (`deviceInfo`). */
  deviceInfo?: DeviceInfo;
  /** What pulls ask for (SPEC v1.1 "Scopes"); default: every collection and every readable scope. */
  pull?: PullOptions;
  /** Batch limits (default 1000 events, just under 4 MiB of JSON; larger values are capped to the SPEC's). */
  batching?: { maxEvents?: number; maxBytes?: number };
  /** Retry timing of every request. */
  retry?: RetryOptions;
  /** `Prefer: wait=N` on pushes, in seconds (0..30, default 10; 0: poll the batch instead). */
  waitSeconds?: number;
  /** How long one sync polls a batch not processed yet before leaving it to the next sync (default 60 s). */
  processingTimeoutMs?: number;
  /** Automatic re-pushes of an event refused as retryable (or FAILED) before it waits for the app (default 10). */
  maxEventRetries?: number;
  /**
   * How long an applied edit (RECORD_*, EQUIPMENT_UPDATED, PRODUCTION_LOGGED) is watched for a later write of
   * another device that turns it into a lost conflict (default 24 h); see docs/client.md "Echoes".
   */
  conflictWatchMs?: number;
  /** gzip for push bodies (default: CompressionStream or node:zlib); false to send plain JSON. */
  compress?: Compressor | false;
  /** Reads a photo given as a file path (default: node:fs; browsers give bytes). */
  readFile?: (path: string) => Promise<Uint8Array>;
  /** Test seams: fetch (default global fetch), clock, randomness, sleep. */
  fetch?: typeof fetch;
  now?: () => Date;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** What a pull asks for (`collections=`, `scopes=`, `limit=`). */
export interface PullOptions {
  collections?: readonly string[];
  scopes?: readonly string[];
  /** Items per page (1..1000, default 500). */
  pageSize?: number;
}

/** The phases of a sync, in order; `outbox` uploads queued photos and records their attach events. */
export type SyncPhase = 'outbox' | 'push' | 'processing' | 'pull';

/**
 * Progress of a sync. `outbox`: photos done/total, with `bytes`; `push`: events sent/to send; `processing`:
 * events with a final outcome/sent; `pull`: items received (`total` unknown, pages in `pages`).
 */
export interface SyncProgress {
  phase: SyncPhase;
  done: number;
  total?: number;
  bytes?: { done: number; total: number };
  pages?: number;
}

/** What one {@link FieldsyncClient.syncNow} did. */
export interface SyncReport {
  startedAt: string;
  finishedAt: string;
  /** Events sent (resends included). */
  pushed: number;
  applied: number;
  duplicates: number;
  conflicts: number;
  rejected: number;
  failed: number;
  /** Events sent whose outcome is not known yet (their batch is polled again next sync). */
  stillProcessing: number;
  photosUploaded: number;
  photoBytes: number;
  /** Photos whose upload failed this time (kept queued; see `status().photos`). */
  photoErrors: number;
  pulledItems: number;
  pullPages: number;
  /** The cursor was too old (410 RESYNC_REQUIRED): local data was replaced by a fresh snapshot. */
  resynced: boolean;
}

/** {@link FieldsyncClient.status}: the device's sync state from its own store. */
export interface SyncStatus {
  /** Events not settled yet (recorded, or sent with no final outcome), retries due included. */
  pending: number;
  /** Events refused (REJECTED) or given up (FAILED): see {@link FieldsyncClient.outbox}. */
  failed: number;
  /** Of `failed`, those the client will push again by itself (retryable, retries left). */
  retrying: number;
  /** Events applied with a conflict, kept until acknowledged. */
  conflicts: number;
  /** Photos queued for upload, and their bytes. */
  photos: { queued: number; bytes: number };
  /** Batches sent whose outcome is not known yet. */
  inFlightBatches: number;
  /** ISO time of the last sync that completed every phase; null before one. */
  lastSyncAt: string | null;
  /** The error that ended the last sync, if it failed (kept in the store: it survives a restart). */
  lastError: string | null;
  /** The server's `pendingEvents` at the last pull: pushed events not applied yet. */
  serverPendingEvents: number | null;
  syncing: boolean;
}

/** An event as {@link FieldsyncClient.record} made it. */
export interface RecordedEvent {
  eventId: string;
  type: string;
  occurredAt: string;
}

/** A record of a collection as the app should show it: the server's state with local edits not yet synced on top. */
export interface LocalRecord<T = Record<string, unknown>> {
  collection: string;
  id: string;
  /** The server version this copy is based on; undefined for a record created here and not pulled yet. */
  version: number | undefined;
  data: T;
  /** True while local edits of it are not yet visible in pulled data. */
  pending: boolean;
}

/** A queued photo: see {@link FieldsyncClient.attachPhoto}. */
export interface QueuedPhoto {
  photoId: string;
  attachEventId: string;
  contentType: PhotoContentType;
  sizeBytes: number;
  sha256: string;
}

/** Events a client emits. */
export interface ClientEvents {
  progress: SyncProgress;
  /**
   * An event was settled as CONFLICT: both values are in `conflict`. Emitted again for the same event when a
   * conflict held for review (PENDING_REVIEW) is later decided by a manager, with the new resolution.
   */
  conflict: { eventId: string; event: SyncEvent; conflict: ConflictReport };
  /** An event was refused (REJECTED or FAILED). */
  rejected: { eventId: string; event: SyncEvent; error: EventError };
  synced: SyncReport;
  error: unknown;
}

/** Options of {@link FieldsyncClient.startAuto}. */
export interface AutoSyncOptions {
  /** Sync at least this often (default 60 s). */
  intervalMs?: number;
  /** After `record()`/`attachPhoto()`, sync this much later (default 2 s; coalesces bursts). */
  debounceMs?: number;
}

const RECORD_TYPES = new Set(['RECORD_CREATED', 'RECORD_UPDATED', 'RECORD_DELETED']);
/** The event types of SPEC v1 "Events" and v1.1 "Record events" (RECORD_* best through {@link CollectionHandle}). */
export const EVENT_TYPES: readonly string[] = [
  'PRODUCTION_LOGGED',
  'WELL_READING_RECORDED',
  'EQUIPMENT_INSPECTED',
  'MAINTENANCE_LOGGED',
  'EQUIPMENT_UPDATED',
  'PHOTO_ATTACHED',
  'NOTES_ADDED',
  ...RECORD_TYPES,
];
const KNOWN_TYPES = new Set(EVENT_TYPES);
/** deviceInfo.platform values the server takes (SPEC "Push"). */
const PLATFORMS = ['electron', 'ios', 'android', 'web'];
/** Edits merged field by field, whose APPLIED outcome a later write of another device can turn into CONFLICT. */
const ECHO_TYPES = new Set([...RECORD_TYPES, 'EQUIPMENT_UPDATED', 'PRODUCTION_LOGGED']);
const META = {
  cursor: 'pull.cursor',
  lastPullAt: 'pull.lastPullAt',
  serverPending: 'pull.serverPendingEvents',
  lastSyncAt: 'sync.lastSyncAt',
  lastError: 'sync.lastError',
} as const;

const lower = (id: string) => id.toLowerCase();
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A push run's counts of events sent and settled out of `total`, shared by its steps (progress events). */
type PushProgress = { sent: number; settled: number; total: number };

/**
 * The fieldsync client (issue 15): a durable outbox, push with per-batch Idempotency-Keys, outcome
 * handling, photo uploads, pull into local tables, progress, status and an optional auto mode.
 *
 * Guarantees: `record()` resolves only once the event is in the store; an event leaves the outbox only
 * when the server reports it APPLIED or DUPLICATE; a batch's key is stored before its request, so a resend
 * after a crash replays instead of duplicating (and event ids make every event apply at most once anyway).
 */
export class FieldsyncClient {
  private readonly store: ClientStore;
  private readonly http: HttpClient;
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private readonly listeners = new Map<keyof ClientEvents, Set<(value: never) => void>>();
  private running: Promise<SyncReport> | undefined;
  private auto: { stop: () => void; kick: () => void } | undefined;
  /** The last time stampMs() handed out (ms). */
  private lastStampMs = 0;

  /**
   * @throws TypeError when an option is missing or malformed (checked here, so a bad configuration fails at
   *   start-up instead of as a 400 on every push): `baseUrl` an http(s) URL, `deviceId` 1–128 of
   *   `[A-Za-z0-9._:-]`, `store` and `getToken` given, `deviceInfo.platform` one of electron/ios/android/web
   *   and `deviceInfo.appVersion` 1–64 printable ASCII characters.
   */
  constructor(private readonly options: FieldsyncClientOptions) {
    checkOptions(options);
    this.store = options.store;
    this.now = options.now ?? (() => new Date());
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
    this.maxEvents = Math.max(
      1,
      Math.min(MAX_EVENTS_PER_BATCH, options.batching?.maxEvents ?? MAX_EVENTS_PER_BATCH),
    );
    this.maxBytes = Math.max(
      ENVELOPE_BYTES + 2,
      Math.min(MAX_BODY_BYTES, options.batching?.maxBytes ?? DEFAULT_BATCH_BYTES),
    );
    const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.http = new HttpClient({
      baseUrl: options.baseUrl,
      getToken: options.getToken,
      fetch: fetchImpl,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      compressor: options.compress === false ? undefined : (options.compress ?? gzip),
      sleep: this.sleep,
      random: this.random,
    });
  }

  // ------------------------------------------------------------------ events

  /** Listens to an event; returns the function that stops listening. */
  on<K extends keyof ClientEvents>(type: K, listener: (value: ClientEvents[K]) => void): () => void {
    const set = this.listeners.get(type) ?? new Set();
    set.add(listener as (value: never) => void);
    this.listeners.set(type, set);
    return () => set.delete(listener as (value: never) => void);
  }

  private emit<K extends keyof ClientEvents>(type: K, value: ClientEvents[K]): void {
    for (const listener of this.listeners.get(type) ?? []) {
      try {
        (listener as (value: ClientEvents[K]) => void)(value);
      } catch {
        // A listener's error never breaks a sync.
      }
    }
  }

  // ------------------------------------------------------------------ recording

  /**
   * Records an event in the outbox; resolves once it is durable in the store. The event is pushed at the
   * next sync. Payload shapes: SPEC "Events" (v1 types) and v1.1 "Record events".
   *
   * @param type event type, e.g. `PRODUCTION_LOGGED`
   * @param payload the event's payload (JSON)
   * @param options `id` (a UUID; default a new one — recording the same id twice keeps the first),
   *   `occurredAt` (default now), `location`
   * @throws RangeError when the event's JSON exceeds what one push may carry; TypeError on a bad argument or an
   *   event type the server does not know (see {@link EVENT_TYPES})
   */
  async record(
    type: string,
    payload: Record<string, unknown>,
    options: { id?: string; occurredAt?: Date | string; location?: EventLocation } = {},
  ): Promise<RecordedEvent> {
    if (typeof type !== 'string' || !KNOWN_TYPES.has(type)) {
      throw new TypeError(
        `unknown event type ${JSON.stringify(type)}: the server takes ${EVENT_TYPES.join(', ')} (records: use client.collection(name))`,
      );
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new TypeError('payload must be an object');
    }
    const occurredAt =
      options.occurredAt === undefined
        ? this.now().toISOString()
        : typeof options.occurredAt === 'string'
          ? options.occurredAt
          : options.occurredAt.toISOString();
    const event: SyncEvent = {
      id: lower(options.id ?? crypto.randomUUID()),
      type,
      occurredAt,
      payload: structuredClone(payload),
      ...(options.location ? { location: options.location } : {}),
    };
    const size = jsonBytes(event);
    if (size + ENVELOPE_BYTES > this.maxBytes) {
      throw new RangeError(`the event is ${size} bytes of JSON; one push carries at most ${this.maxBytes}`);
    }
    await this.store.appendOutbox([this.newEntry(event)]);
    this.auto?.kick();
    return { eventId: event.id, type, occurredAt };
  }

  private newEntry(event: SyncEvent): NewOutboxEntry {
    return { event, state: 'PENDING', recordedAt: this.now().toISOString(), attempts: 0 };
  }

  /**
   * Helpers for the records of one collection (SPEC v1.1): create/update/delete record RECORD_* events
   * with the base version this device knows; get/list show pulled state with pending local edits on top.
   */
  collection<T extends Record<string, unknown> = Record<string, unknown>>(name: string): CollectionHandle<T> {
    return new CollectionHandle<T>(this, name);
  }

  /** @internal The base version for an edit of a record: the pulled version, 1 for a record created here. */
  async baseVersionOf(collection: string, id: string): Promise<number | undefined> {
    const row = await this.store.getLocal(`record:${collection}`, id);
    if (row?.version !== undefined) return row.version;
    const outbox = await this.store.listOutbox();
    const created = outbox.some(
      (e) =>
        e.event.type === 'RECORD_CREATED' &&
        e.event.payload.collection === collection &&
        e.event.payload.recordId === id &&
        e.state !== 'REJECTED',
    );
    return created ? 1 : undefined;
  }

  /** @internal Local view of a collection: see {@link CollectionHandle.list}. */
  async localRecords(collection: string): Promise<Map<string, LocalRecord>> {
    const kind = `record:${collection}`;
    const rows = await this.store.listLocal(kind);
    const result = new Map<string, LocalRecord | null>(
      rows.map((row) => [
        row.id,
        { collection, id: row.id, version: row.version, data: row.data, pending: false },
      ]),
    );
    for (const entry of await this.store.listOutbox()) {
      if (!overlays(entry, this.maxRetries) || entry.event.payload.collection !== collection) continue;
      const id = String(entry.event.payload.recordId);
      const current = result.get(id);
      const payload = entry.event.payload;
      if (entry.event.type === 'RECORD_DELETED') {
        result.set(id, null);
      } else if (entry.event.type === 'RECORD_CREATED') {
        const data = { ...(current?.data ?? {}), ...(payload.data as Record<string, unknown>) };
        result.set(id, { collection, id, version: current?.version, data, pending: true });
      } else if (current) {
        const data = { ...current.data, ...(payload.changes as Record<string, unknown>) };
        result.set(id, { ...current, data, pending: true });
      }
    }
    return new Map([...result].filter((pair): pair is [string, LocalRecord] => pair[1] !== null));
  }

  // ------------------------------------------------------------------ photos

  /**
   * Queues a photo for upload to `target`: the bytes (or the file path, read now and again at upload) are
   * checked (type from magic bytes, ≤ 10 MiB), hashed, and the job stored. At the next sync the client asks
   * for an upload URL, PUTs the bytes to Blob Storage (asking again when a URL expired), then records and
   * pushes PHOTO_ATTACHED. A restart mid-upload uploads again (the queue is in the store).
   *
   * @param source the bytes, or a file path (Node/Electron)
   * @throws TypeError when the bytes are not JPEG, PNG, WEBP or HEIC; RangeError when empty or over 10 MiB
   */
  async attachPhoto(
    source: Uint8Array | ArrayBuffer | string,
    target: PhotoTarget,
    options: { photoId?: string; contentType?: PhotoContentType; takenAt?: Date | string } = {},
  ): Promise<QueuedPhoto> {
    const bytes =
      typeof source === 'string'
        ? await (this.options.readFile ?? readFileBytes)(source)
        : source instanceof Uint8Array
          ? source
          : new Uint8Array(source);
    if (bytes.length === 0 || bytes.length > MAX_PHOTO_BYTES) {
      throw new RangeError(`a photo has 1 to ${MAX_PHOTO_BYTES} bytes; this one has ${bytes.length}`);
    }
    const contentType = options.contentType ?? sniffContentType(bytes);
    if (!contentType) throw new TypeError('the photo is not JPEG, PNG, WEBP or HEIC');
    const takenAt = options.takenAt ?? this.now();
    const job: PhotoJob = {
      photoId: lower(options.photoId ?? crypto.randomUUID()),
      attachEventId: crypto.randomUUID(),
      target,
      contentType,
      sizeBytes: bytes.length,
      sha256: await sha256Hex(bytes),
      takenAt: typeof takenAt === 'string' ? takenAt : takenAt.toISOString(),
      queuedAt: this.now().toISOString(),
      source: typeof source === 'string' ? { kind: 'file', path: source } : { kind: 'bytes', bytes },
      state: 'QUEUED',
      attempts: 0,
    };
    await this.store.putPhoto(job);
    this.auto?.kick();
    const { photoId, attachEventId, sizeBytes, sha256 } = job;
    return { photoId, attachEventId, contentType, sizeBytes, sha256 };
  }

  // ------------------------------------------------------------------ reading

  /** Every outbox entry (pending, refused, conflicts, applied overlays), in recording order. */
  outbox(): Promise<OutboxEntry[]> {
    return this.store.listOutbox();
  }

  /** The entries settled as CONFLICT, each with both values (`conflict.serverValue`, `clientValue`). */
  async conflicts(): Promise<OutboxEntry[]> {
    return (await this.store.listOutbox()).filter((e) => e.state === 'CONFLICT');
  }

  /**
   * Removes settled entries the user has seen (CONFLICT, REJECTED, FAILED) from the outbox. Pending
   * entries are never removed this way. Resolves with how many were removed.
   */
  async acknowledge(eventIds: readonly string[]): Promise<number> {
    const wanted = new Set(eventIds.map(lower));
    const removable = (await this.store.listOutbox()).filter(
      (e) =>
        wanted.has(e.event.id) && (e.state === 'CONFLICT' || e.state === 'REJECTED' || e.state === 'FAILED'),
    );
    await this.store.settle({ removeIds: removable.map((e) => e.event.id), update: [], deleteBatchKeys: [] });
    return removable.length;
  }

  /** Pushes a refused retryable (or FAILED) event again at the next sync, even after its retries ran out. */
  async retry(eventIds: readonly string[]): Promise<void> {
    const wanted = new Set(eventIds.map(lower));
    const update = (await this.store.listOutbox())
      .filter((e) => wanted.has(e.event.id) && (e.state === 'REJECTED' || e.state === 'FAILED'))
      .map((e): OutboxEntry => ({ ...e, state: 'PENDING', attempts: 0 }));
    await this.store.settle({ removeIds: [], update, deleteBatchKeys: [] });
  }

  /** Pulled rows of a v1 entity kind (`well`, `equipment`, `user`, `production`), by id. */
  async entities(kind: 'well' | 'equipment' | 'user' | 'production'): Promise<Record<string, unknown>[]> {
    return (await this.store.listLocal(kind)).map((row) => row.data);
  }

  /** The device's sync state, from its own store (no request). */
  async status(): Promise<SyncStatus> {
    const [outbox, batches, photos, lastSyncAt, serverPending, lastError] = await Promise.all([
      this.store.listOutbox(),
      this.store.listBatches(),
      this.store.listPhotos(),
      this.store.getMeta(META.lastSyncAt),
      this.store.getMeta(META.serverPending),
      this.store.getMeta(META.lastError),
    ]);
    const count = (test: (e: OutboxEntry) => boolean) => outbox.filter(test).length;
    return {
      pending: count((e) => e.state === 'PENDING'),
      failed: count((e) => e.state === 'REJECTED' || e.state === 'FAILED'),
      retrying: count((e) => isRetryDue(e, this.maxRetries)),
      conflicts: count((e) => e.state === 'CONFLICT'),
      photos: { queued: photos.length, bytes: photos.reduce((sum, p) => sum + p.sizeBytes, 0) },
      inFlightBatches: batches.length,
      lastSyncAt: lastSyncAt ?? null,
      lastError: lastError ?? null,
      serverPendingEvents: serverPending === undefined ? null : Number(serverPending),
      syncing: this.running !== undefined,
    };
  }

  // ------------------------------------------------------------------ sync

  /**
   * Runs one sync: upload queued photos (phase `outbox`), resend stored batches and push new ones (`push`),
   * wait for their outcomes (`processing`), pull (`pull`). Never runs twice at once: a call while a sync
   * runs returns that sync's promise.
   *
   * @throws HttpError / AuthError / NetworkError when a phase cannot complete; nothing is lost (the outbox,
   *   stored batches and the photo queue stay as they were, and the next sync goes on from there)
   */
  syncNow(): Promise<SyncReport> {
    if (!this.running) {
      this.running = this.runSync().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private get maxRetries(): number {
    return this.options.maxEventRetries ?? 10;
  }

  private async runSync(): Promise<SyncReport> {
    const report: SyncReport = {
      startedAt: this.now().toISOString(),
      finishedAt: '',
      pushed: 0,
      applied: 0,
      duplicates: 0,
      conflicts: 0,
      rejected: 0,
      failed: 0,
      stillProcessing: 0,
      photosUploaded: 0,
      photoBytes: 0,
      photoErrors: 0,
      pulledItems: 0,
      pullPages: 0,
      resynced: false,
    };
    try {
      await this.uploadPhotos(report);
      await this.pushAll(report);
      await this.pullAll(report);
      report.finishedAt = this.now().toISOString();
      await this.store.setMeta(META.lastSyncAt, report.finishedAt);
      await this.store.setMeta(META.lastError, undefined);
      this.emit('synced', report);
      return report;
    } catch (error) {
      // Kept in the store, so that after a restart status() still tells why the outbox is stuck.
      const message = error instanceof Error ? error.message : String(error);
      await this.store.setMeta(META.lastError, message).catch(() => undefined);
      this.emit('error', error);
      throw error;
    }
  }

  // ---- photos

  private async uploadPhotos(report: SyncReport): Promise<void> {
    const jobs = await this.store.listPhotos();
    if (jobs.length === 0) return;
    const total = jobs.reduce((sum, job) => sum + job.sizeBytes, 0);
    let doneBytes = 0;
    let done = 0;
    const progress = () =>
      this.emit('progress', { phase: 'outbox', done, total: jobs.length, bytes: { done: doneBytes, total } });
    progress();
    // One request for the URLs of every photo that needs one (≤ 50 per request, SPEC).
    const needUrl = jobs.filter((job) => job.state === 'QUEUED' && !this.urlUsable(job));
    for (let i = 0; i < needUrl.length; i += 50) await this.askUploadUrls(needUrl.slice(i, i + 50));
    for (const job of jobs) {
      try {
        if (job.state === 'QUEUED') await this.uploadOne(job);
        if (job.state === 'UPLOADED') {
          await this.recordAttach(job);
          report.photosUploaded += 1;
          report.photoBytes += job.sizeBytes;
        }
      } catch (error) {
        if (!(error instanceof PhotoError)) throw error; // the server or network: end this sync
        report.photoErrors += 1;
        job.attempts += 1;
        await this.store.putPhoto(job);
      }
      done += 1;
      doneBytes += job.sizeBytes;
      progress();
    }
  }

  private urlUsable(job: PhotoJob): boolean {
    // A URL with less than a minute left may expire mid-upload: ask again.
    return job.upload !== undefined && Date.parse(job.upload.expiresAt) - this.now().getTime() > 60_000;
  }

  private async askUploadUrls(jobs: PhotoJob[]): Promise<void> {
    const answer = await this.http.request({
      method: 'POST',
      path: 'v1/photos/upload-urls',
      json: {
        deviceId: this.options.deviceId,
        photos: jobs.map((job) => ({
          photoId: job.photoId,
          contentType: job.contentType,
          sizeBytes: job.sizeBytes,
        })),
      },
    });
    if (answer.status !== 200) throw errorOf(answer);
    const body = answer.body as {
      uploads: {
        photoId: string;
        blobName: string;
        uploadUrl: string;
        expiresAt: string;
        headers: Record<string, string>;
      }[];
      alreadyAttached: { photoId: string; blobName: string }[];
    };
    for (const job of jobs) {
      const upload = body.uploads.find((u) => lower(u.photoId) === job.photoId);
      const attached = body.alreadyAttached.find((a) => lower(a.photoId) === job.photoId);
      if (upload) {
        job.upload = {
          url: upload.uploadUrl,
          blobName: upload.blobName,
          expiresAt: upload.expiresAt,
          headers: upload.headers,
        };
      } else if (attached) {
        // Verified and locked on the server already (an earlier attach): only the event is left to record.
        job.upload = {
          url: '',
          blobName: attached.blobName,
          expiresAt: this.now().toISOString(),
          headers: {},
        };
        job.state = 'UPLOADED';
      }
      await this.store.putPhoto(job);
    }
  }

  private async uploadOne(job: PhotoJob): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes =
        job.source.kind === 'bytes'
          ? job.source.bytes
          : await (this.options.readFile ?? readFileBytes)(job.source.path);
    } catch (error) {
      throw new PhotoError(`cannot read photo ${job.photoId}: ${(error as Error).message}`);
    }
    if (job.source.kind === 'file' && bytes.length !== job.sizeBytes) {
      // The file changed since it was queued: describe what is uploaded now.
      job.sizeBytes = bytes.length;
      job.sha256 = await sha256Hex(bytes);
    }
    for (let asked = 0; ; asked += 1) {
      if (!this.urlUsable(job)) await this.askUploadUrls([job]);
      if (job.state === 'UPLOADED') return; // already attached on the server
      const upload = job.upload;
      if (!upload) throw new PhotoError(`no upload URL for photo ${job.photoId}`);
      const answer = await this.http.request({
        method: 'PUT',
        path: upload.url,
        auth: false,
        bytes,
        headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': job.contentType, ...upload.headers },
      });
      if (answer.status >= 200 && answer.status < 300) {
        job.state = 'UPLOADED';
        await this.store.putPhoto(job);
        return;
      }
      // 403: the SAS expired or was refused; 412: the blob is locked (attached): ask again, once.
      if ((answer.status === 403 || answer.status === 412 || answer.status === 404) && asked === 0) {
        job.upload = undefined;
        continue;
      }
      throw new PhotoError(`upload of photo ${job.photoId} answered ${answer.status}`);
    }
  }

  private async recordAttach(job: PhotoJob): Promise<void> {
    const event: SyncEvent = {
      id: job.attachEventId,
      type: 'PHOTO_ATTACHED',
      occurredAt: this.now().toISOString(),
      payload: {
        photoId: job.photoId,
        blobName: job.upload?.blobName,
        contentType: job.contentType,
        sizeBytes: job.sizeBytes,
        sha256: job.sha256,
        target: job.target,
        takenAt: job.takenAt,
      },
    };
    // Append first, then drop the job: a crash in between appends nothing twice (same event id).
    await this.store.appendOutbox([this.newEntry(event)]);
    await this.store.deletePhoto(job.photoId);
  }

  // ---- push

  private async pushAll(report: SyncReport): Promise<void> {
    const stored = await this.store.listBatches();
    const outbox = await this.store.listOutbox();
    const byId = new Map(outbox.map((e) => [e.event.id, e]));
    const inBatch = new Set(stored.flatMap((b) => b.eventIds));
    const fresh = outbox.filter(
      (e) => !inBatch.has(e.event.id) && (e.state === 'PENDING' || isRetryDue(e, this.maxRetries)),
    );
    const plans = planBatches(
      fresh.map((e) => ({ id: e.event.id, bytes: jsonBytes(e.event) })),
      { maxEvents: this.maxEvents, maxBytes: this.maxBytes },
    );
    const total = stored.reduce((n, b) => n + b.eventIds.length, 0) + fresh.length;
    if (total === 0) return;
    const progress = { sent: 0, settled: 0, total };
    this.emit('progress', { phase: 'push', done: 0, total });
    // Batches stored by an earlier sync first: sent with their own key (replayed if the server had them).
    for (const batch of stored) await this.sendBatch(batch, byId, report, progress);
    for (const eventIds of plans) {
      const batch: StoredBatch = {
        key: crypto.randomUUID(),
        eventIds,
        ...(this.options.deviceInfo ? { deviceInfo: this.options.deviceInfo } : {}),
        createdAt: this.now().toISOString(),
      };
      await this.store.putBatch(batch); // before the request: a crash after it resends with this key
      await this.sendBatch(batch, byId, report, progress);
    }
  }

  private async sendBatch(
    batch: StoredBatch,
    byId: Map<string, OutboxEntry>,
    report: SyncReport,
    progress: PushProgress,
  ): Promise<void> {
    if (batch.batchId === undefined) {
      const events = batch.eventIds.flatMap((id) => {
        const entry = byId.get(id);
        return entry ? [entry.event] : [];
      });
      if (events.length === 0) {
        await this.store.settle({ removeIds: [], update: [], deleteBatchKeys: [batch.key] });
        return;
      }
      const wait = Math.max(0, Math.min(30, this.options.waitSeconds ?? 10));
      const answer = await this.http.request({
        method: 'POST',
        path: 'v1/sync/batches',
        json: {
          deviceId: this.options.deviceId,
          ...(batch.deviceInfo ? { deviceInfo: batch.deviceInfo } : {}),
          events,
        },
        compress: true,
        headers: { 'idempotency-key': batch.key, ...(wait > 0 ? { prefer: `wait=${wait}` } : {}) },
      });
      if (answer.status === 200 || answer.status === 202) {
        // Counted only when the server took the batch (a refused request pushed nothing).
        report.pushed += events.length;
        progress.sent += events.length;
        this.emit('progress', { phase: 'push', done: progress.sent, total: progress.total });
      }
      if (answer.status === 200) {
        await this.settle(batch, answer.body as BatchOutcome, byId, report, progress);
        return;
      }
      if (answer.status === 202) {
        batch.batchId = (answer.body as PushAccepted).batchId;
        await this.store.putBatch(batch); // from now on only polled, never pushed again
      } else if (answer.status === 422) {
        // The key was used with another body (e.g. an app update changed deviceInfo): same events, new key.
        const renewed: StoredBatch = { ...batch, key: crypto.randomUUID() };
        delete renewed.batchId;
        await this.store.putBatch(renewed);
        await this.store.settle({ removeIds: [], update: [], deleteBatchKeys: [batch.key] });
        return this.sendBatch(renewed, byId, report, progress);
      } else if (answer.status === 400) {
        return this.refusedBatch(batch, answer, byId, report, progress);
      } else if (answer.status === 413 && batch.eventIds.length > 1) {
        // Over the server's body limit after all: split in two, each with its own key.
        const half = Math.ceil(batch.eventIds.length / 2);
        const parts = [batch.eventIds.slice(0, half), batch.eventIds.slice(half)].map(
          (eventIds, i): StoredBatch => ({
            ...batch,
            key: crypto.randomUUID(),
            eventIds,
            createdAt: `${batch.createdAt}#${i}`,
          }),
        );
        for (const part of parts) await this.store.putBatch(part);
        await this.store.settle({ removeIds: [], update: [], deleteBatchKeys: [batch.key] });
        for (const part of parts) await this.sendBatch(part, byId, report, progress);
        return;
      } else {
        throw errorOf(answer);
      }
    }
    await this.poll(batch, byId, report, progress);
  }

  /**
   * A push answered 400 (docs/client.md "A refused batch"). A stored batch must never wedge the outbox:
   * - sent with other deviceInfo than configured now (stored by an earlier configuration): rebuilt with a new
   *   key and the current deviceInfo, and sent again;
   * - the problem names events (`events[i]…` paths): those events are settled REJECTED with the server's
   *   errors (code INVALID_EVENT, not retryable; never dropped silently), the rest go again in a new batch;
   * - otherwise: the stored batch is dropped (its events stay PENDING in the outbox, re-batched next sync
   *   from the configuration then) and the sync ends with the HttpError.
   */
  private async refusedBatch(
    batch: StoredBatch,
    answer: HttpAnswer,
    byId: Map<string, OutboxEntry>,
    report: SyncReport,
    progress: PushProgress,
  ): Promise<void> {
    const problem = answer.body as Problem | undefined;
    const current = this.options.deviceInfo;
    const renew = (eventIds: string[]): StoredBatch => ({
      key: crypto.randomUUID(),
      eventIds,
      ...(current ? { deviceInfo: current } : {}),
      createdAt: batch.createdAt,
    });
    if (JSON.stringify(batch.deviceInfo ?? null) !== JSON.stringify(current ?? null)) {
      const renewed = renew(batch.eventIds);
      await this.store.putBatch(renewed);
      await this.store.settle({ removeIds: [], update: [], deleteBatchKeys: [batch.key] });
      return this.sendBatch(renewed, byId, report, progress);
    }
    // The events of the body, by their index there (the body holds the batch's events still in the outbox).
    const sent = batch.eventIds.filter((id) => byId.has(id));
    const named = new Map<string, { path: string; message: string }[]>();
    for (const item of problem?.errors ?? []) {
      const match = /^events\[(\d+)\]/.exec(item.path);
      const id = match ? sent[Number(match[1])] : undefined;
      if (id) named.set(id, [...(named.get(id) ?? []), item]);
    }
    if (named.size === 0) {
      await this.store.settle({ removeIds: [], update: [], deleteBatchKeys: [batch.key] });
      throw errorOf(answer);
    }
    const settledAt = new Date(this.stampMs()).toISOString();
    const update: OutboxEntry[] = [];
    const notices: (() => void)[] = [];
    for (const [id, errors] of named) {
      const entry = byId.get(id) as OutboxEntry;
      const error: EventError = {
        code: 'INVALID_EVENT',
        message: errors.map((e) => `${e.path}: ${e.message}`).join('; '),
        retryable: false,
        errors,
      };
      const settled: OutboxEntry = {
        ...entry,
        state: 'REJECTED',
        attempts: entry.attempts + 1,
        settledAt,
        error,
      };
      update.push(settled);
      byId.set(id, settled);
      report.rejected += 1;
      notices.push(() => this.emit('rejected', { eventId: id, event: entry.event, error }));
    }
    const rest = sent.filter((id) => !named.has(id));
    const renewed = rest.length ? renew(rest) : undefined;
    if (renewed) await this.store.putBatch(renewed);
    await this.store.settle({ removeIds: [], update, deleteBatchKeys: [batch.key] });
    for (const notice of notices) notice();
    if (renewed) await this.sendBatch(renewed, byId, report, progress);
  }

  private async poll(
    batch: StoredBatch,
    byId: Map<string, OutboxEntry>,
    report: SyncReport,
    progress: PushProgress,
  ): Promise<void> {
    const deadline = this.now().getTime() + (this.options.processingTimeoutMs ?? 60_000);
    for (let attempt = 0; ; attempt += 1) {
      const answer = await this.http.request({ method: 'GET', path: `v1/sync/batches/${batch.batchId}` });
      if (answer.status === 404) {
        // The server does not know the batch (it never committed): its events go out again in a new batch.
        await this.store.settle({ removeIds: [], update: [], deleteBatchKeys: [batch.key] });
        return;
      }
      if (answer.status !== 200) throw errorOf(answer);
      const outcome = answer.body as BatchOutcome;
      if (outcome.status === 'COMPLETED') {
        await this.settle(batch, outcome, byId, report, progress);
        return;
      }
      if (this.now().getTime() >= deadline) {
        report.stillProcessing += batch.eventIds.length;
        return; // polled again at the next sync
      }
      await this.sleep(
        Math.min(
          2_000,
          retryDelayMs(attempt, { baseDelayMs: 250, maxDelayMs: 2_000 }, undefined, this.random),
        ),
      );
    }
  }

  /** Applies a COMPLETED batch outcome to the outbox in one store transaction (issue 15 outbox rules). */
  private async settle(
    batch: StoredBatch,
    outcome: BatchOutcome,
    byId: Map<string, OutboxEntry>,
    report: SyncReport,
    progress: PushProgress,
  ): Promise<void> {
    const outcomes = new Map(outcome.events.filter((o) => o.eventId).map((o) => [lower(o.eventId ?? ''), o]));
    const removeIds: string[] = [];
    const update: OutboxEntry[] = [];
    const notices: (() => void)[] = [];
    const settledAt = new Date(this.stampMs()).toISOString();
    for (const id of batch.eventIds) {
      const entry = byId.get(id);
      const result = outcomes.get(id);
      // Not in this outcome (pushed again since, so moved to a newer batch) or unknown: left as it is.
      if (!entry || !result || result.status === 'PENDING') continue;
      const attempts = entry.attempts + 1;
      switch (result.status) {
        case 'APPLIED':
        case 'DUPLICATE':
          if (result.status === 'APPLIED') report.applied += 1;
          else report.duplicates += 1;
          // Edits stay as an echo until a pull shows them (never pushed again; see OutboxState); others leave.
          if (
            RECORD_TYPES.has(entry.event.type) ||
            (result.status === 'APPLIED' && ECHO_TYPES.has(entry.event.type))
          ) {
            update.push({
              ...entry,
              state: 'APPLIED',
              attempts,
              settledAt,
              batchId: outcome.batchId,
              batchReceivedAt: outcome.receivedAt,
            });
          } else removeIds.push(id);
          break;
        case 'CONFLICT': {
          report.conflicts += 1;
          const conflict = result.conflict;
          const settled: OutboxEntry = {
            ...entry,
            state: 'CONFLICT',
            attempts,
            settledAt,
            batchId: outcome.batchId,
            batchReceivedAt: outcome.receivedAt,
            ...(conflict ? { conflict } : {}),
          };
          update.push(settled);
          if (conflict)
            notices.push(() => this.emit('conflict', { eventId: id, event: entry.event, conflict }));
          break;
        }
        case 'REJECTED':
        case 'FAILED': {
          if (result.status === 'REJECTED') report.rejected += 1;
          else report.failed += 1;
          const error: EventError = result.error ?? {
            code: result.status === 'FAILED' ? 'PROCESSING_FAILED' : 'REJECTED',
            message: 'no error given',
            retryable: result.status === 'FAILED',
          };
          update.push({ ...entry, state: result.status, attempts, settledAt, error });
          notices.push(() => this.emit('rejected', { eventId: id, event: entry.event, error }));
          break;
        }
      }
    }
    await this.store.settle({ removeIds, update, deleteBatchKeys: [batch.key] });
    for (const entry of update) byId.set(entry.event.id, entry);
    for (const id of removeIds) byId.delete(id);
    progress.settled += removeIds.length + update.length;
    this.emit('progress', {
      phase: 'processing',
      done: progress.settled,
      total: progress.sent || progress.total,
    });
    for (const notice of notices) notice();
  }

  // ---- pull

  private async pullAll(report: SyncReport): Promise<void> {
    const pull = this.options.pull ?? {};
    let cursor = await this.store.getMeta(META.cursor);
    let reset = false;
    const startedAt = this.stampMs();
    this.emit('progress', { phase: 'pull', done: 0, pages: 0 });
    for (;;) {
      const query = new URLSearchParams({ deviceId: this.options.deviceId });
      if (cursor) query.set('cursor', cursor);
      if (pull.pageSize) query.set('limit', String(pull.pageSize));
      if (pull.collections?.length) query.set('collections', pull.collections.join(','));
      if (pull.scopes?.length) query.set('scopes', pull.scopes.join(','));
      const answer = await this.http.request({ method: 'GET', path: `v1/sync/pull?${query}` });
      if (answer.status === 410 && !reset) {
        // The cursor is older than the server's retention: start again from a snapshot, which replaces the
        // local tables in the same transaction as its first page.
        cursor = undefined;
        reset = true;
        report.resynced = true;
        continue;
      }
      if (answer.status !== 200) throw errorOf(answer);
      const page = answer.body as PullPage;
      const { upserts, deletes } = pageRows(page);
      await this.store.applyPull({
        reset,
        upserts,
        deletes,
        meta: {
          [META.cursor]: page.nextCursor,
          [META.lastPullAt]: page.serverTime,
          [META.serverPending]: String(page.pendingEvents),
        },
      });
      reset = false;
      cursor = page.nextCursor;
      report.pullPages += 1;
      report.pulledItems += upserts.length + deletes.length;
      this.emit('progress', { phase: 'pull', done: report.pulledItems, pages: report.pullPages });
      if (!page.hasMore) break;
    }
    await this.reviewEchoes(startedAt);
    await this.reviewHeldConflicts();
  }

  /**
   * Follows conflicts held for a manager (resolution PENDING_REVIEW, docs/client.md "Conflicts decided
   * later"): after each pull their batch outcome is read again (one request per batch); once a manager has
   * decided (CLIENT_WINS, SERVER_WINS, MERGED), the entry's `conflict` is updated and `conflict` is emitted
   * again with the new resolution. The entry stays a CONFLICT until the app acknowledges it.
   */
  private async reviewHeldConflicts(): Promise<void> {
    const held = (await this.store.listOutbox()).filter(
      (e) => e.state === 'CONFLICT' && e.conflict?.resolution === 'PENDING_REVIEW' && e.batchId,
    );
    const outcomes = new Map<string, Promise<BatchOutcome | undefined>>();
    const update: OutboxEntry[] = [];
    const notices: (() => void)[] = [];
    for (const entry of held) {
      const batchId = entry.batchId as string;
      if (!outcomes.has(batchId)) outcomes.set(batchId, this.batchOutcome(batchId));
      const result = (await outcomes.get(batchId))?.events.find(
        (o) => lower(o.eventId ?? '') === entry.event.id,
      );
      const conflict = result?.conflict;
      if (!conflict || conflict.resolution === 'PENDING_REVIEW') continue;
      update.push({ ...entry, conflict, settledAt: new Date(this.stampMs()).toISOString() });
      notices.push(() => this.emit('conflict', { eventId: entry.event.id, event: entry.event, conflict }));
    }
    if (update.length) await this.store.settle({ removeIds: [], update, deleteBatchKeys: [] });
    for (const notice of notices) notice();
  }

  /**
   * A wall-clock time in ms that this client never hands out twice (one more than the last when the clock has
   * not moved): settle times and pull start times order the way they happened even within one millisecond, so
   * "settled before this pull started" (reviewEchoes) never depends on the clock's resolution.
   */
  private stampMs(): number {
    this.lastStampMs = Math.max(this.now().getTime(), this.lastStampMs + 1);
    return this.lastStampMs;
  }

  /**
   * Reviews the APPLIED echoes once a pull has completed (OutboxState `APPLIED`, docs/client.md "Echoes"):
   * - once the pulled data shows an echo (`seenAt`), it no longer overlays the pulled value;
   * - while it is watched (`conflictWatchMs`), each time the pulled row moves on to values other than it wrote,
   *   its batch outcome is read again: a later write of another device may have made it a CONFLICT this device
   *   lost under last-writer-wins, which is then surfaced (state CONFLICT, both values, a `conflict` event);
   * - after `conflictWatchMs` it leaves the outbox.
   */
  private async reviewEchoes(pullStartedAt: number): Promise<void> {
    const echoes = (await this.store.listOutbox()).filter((e) => e.state === 'APPLIED');
    const watchMs = this.options.conflictWatchMs ?? 24 * 60 * 60 * 1000;
    const removeIds: string[] = [];
    const update: OutboxEntry[] = [];
    const notices: (() => void)[] = [];
    const outcomes = new Map<string, Promise<BatchOutcome | undefined>>();
    for (const entry of echoes) {
      const settledAt = Date.parse(entry.settledAt ?? '');
      if (!(settledAt < pullStartedAt)) continue; // this pull may have started before it was applied
      const { seen, differs, mark } = await this.echoView(entry);
      let next = entry;
      if (seen && !entry.seenAt) next = { ...next, seenAt: new Date(pullStartedAt).toISOString() };
      if (seen && differs && entry.batchId && mark !== entry.checkedMark) {
        const batchId = entry.batchId;
        if (!outcomes.has(batchId)) outcomes.set(batchId, this.batchOutcome(batchId));
        const result = (await outcomes.get(batchId))?.events.find(
          (o) => lower(o.eventId ?? '') === entry.event.id,
        );
        const conflict = result?.status === 'CONFLICT' ? result.conflict : undefined;
        if (conflict) {
          update.push({ ...next, state: 'CONFLICT', conflict });
          notices.push(() =>
            this.emit('conflict', { eventId: entry.event.id, event: entry.event, conflict }),
          );
          continue;
        }
        // Not a conflict (another device's later edit of its own): look again only when the row moves on.
        if (result) next = { ...next, checkedMark: mark };
      }
      if (pullStartedAt - settledAt > watchMs) removeIds.push(entry.event.id);
      else if (next !== entry) update.push(next);
    }
    if (removeIds.length || update.length)
      await this.store.settle({ removeIds, update, deleteBatchKeys: [] });
    for (const notice of notices) notice();
  }

  private async batchOutcome(batchId: string): Promise<BatchOutcome | undefined> {
    const answer = await this.http.request({ method: 'GET', path: `v1/sync/batches/${batchId}` });
    return answer.status === 200 ? (answer.body as BatchOutcome) : undefined;
  }

  /**
   * Whether pulled data shows an applied edit (`seen`), whether it holds other values than it wrote
   * (`differs`), and a mark of the pulled row's state (its version, or `updatedAt`).
   */
  private async echoView(entry: OutboxEntry): Promise<{ seen: boolean; differs: boolean; mark: string }> {
    const payload = entry.event.payload;
    const differsFrom = (row: LocalRow | undefined, written: unknown) =>
      row !== undefined &&
      Object.entries((written ?? {}) as Record<string, unknown>).some(
        ([field, value]) => JSON.stringify(row.data[field] ?? null) !== JSON.stringify(value ?? null),
      );
    switch (entry.event.type) {
      case 'RECORD_CREATED':
      case 'RECORD_UPDATED':
      case 'RECORD_DELETED': {
        const row = await this.store.getLocal(
          `record:${String(payload.collection)}`,
          String(payload.recordId),
        );
        const mark = String(row?.version ?? 'none');
        if (entry.event.type === 'RECORD_CREATED') {
          return { seen: row !== undefined, differs: differsFrom(row, payload.data), mark };
        }
        const moved = row === undefined || (row.version ?? 0) > Number(payload.baseVersion);
        if (entry.event.type === 'RECORD_DELETED') return { seen: moved, differs: row !== undefined, mark };
        return { seen: moved, differs: differsFrom(row, payload.changes), mark };
      }
      case 'EQUIPMENT_UPDATED': {
        const row = await this.store.getLocal('equipment', String(payload.equipmentId));
        const moved = row === undefined || Number(row.data.version ?? 0) > Number(payload.baseVersion);
        return {
          seen: moved,
          differs: differsFrom(row, payload.changes),
          mark: String(row?.data.version ?? 'none'),
        };
      }
      case 'PRODUCTION_LOGGED': {
        const row = (await this.store.listLocal('production')).find(
          (r) => r.data.wellId === payload.wellId && r.data.productionDate === payload.productionDate,
        );
        // The row shows this write once it was updated after the batch was received (both server clocks).
        const seen =
          row !== undefined && Date.parse(row.updatedAt ?? '') >= Date.parse(entry.batchReceivedAt ?? '');
        const { wellId: _w, productionDate: _d, ...written } = payload;
        return { seen, differs: differsFrom(row, written), mark: row?.updatedAt ?? 'none' };
      }
      default:
        return { seen: true, differs: false, mark: '' };
    }
  }

  // ------------------------------------------------------------------ auto mode

  /**
   * Syncs on its own: every `intervalMs`, shortly after `record()`/`attachPhoto()`, and when the browser
   * reports it is back online. After a failed sync the next try backs off (up to the interval). Returns the
   * function that stops it (also {@link stopAuto}).
   */
  startAuto(options: AutoSyncOptions = {}): () => void {
    this.stopAuto();
    const intervalMs = options.intervalMs ?? 60_000;
    const debounceMs = options.debounceMs ?? 2_000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failures = 0;
    let stopped = false;
    const schedule = (ms: number) => {
      if (stopped) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(run, ms);
    };
    const run = () => {
      timer = undefined;
      this.syncNow().then(
        () => {
          failures = 0;
          schedule(intervalMs);
        },
        (error: unknown) => {
          // A refused token (after its refresh) is not cured by retrying soon: wait for the interval.
          if (error instanceof AuthError) return schedule(intervalMs);
          failures += 1;
          schedule(
            Math.min(
              intervalMs,
              retryDelayMs(failures, { baseDelayMs: 1_000, maxDelayMs: intervalMs }, undefined, this.random),
            ),
          );
        },
      );
    };
    const online = () => schedule(0);
    const target = globalThis as {
      addEventListener?: typeof addEventListener;
      removeEventListener?: typeof removeEventListener;
    };
    target.addEventListener?.('online', online);
    schedule(0);
    const stop = () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      target.removeEventListener?.('online', online);
      if (this.auto?.stop === stop) this.auto = undefined;
    };
    this.auto = { stop, kick: () => schedule(debounceMs) };
    return stop;
  }

  /** Stops auto mode (a sync already running finishes). */
  stopAuto(): void {
    this.auto?.stop();
  }

  /** Stops auto mode, waits for a running sync, and closes the store. */
  async close(): Promise<void> {
    this.stopAuto();
    await this.running?.catch(() => undefined);
    await this.store.close();
  }
}

/**
 * The records of one collection through a {@link FieldsyncClient} (SPEC v1.1 "Record events"): edits are
 * recorded in the outbox with the base version this device knows, reads overlay pending edits on the
 * pulled state (so a pull that has not caught up never shows a local edit reverted).
 */
export class CollectionHandle<T extends Record<string, unknown>> {
  constructor(
    private readonly client: FieldsyncClient,
    readonly name: string,
  ) {}

  /**
   * Records RECORD_CREATED; `id` defaults to a new UUID (ids are ≤ 128 characters, client-made). Every helper
   * takes `occurredAt` (default now: the time of the edit, which last-writer-wins compares).
   */
  async create(
    data: T,
    options: { id?: string; occurredAt?: Date | string } = {},
  ): Promise<RecordedEvent & { recordId: string }> {
    const recordId = options.id ?? crypto.randomUUID();
    const event = await this.client.record(
      'RECORD_CREATED',
      { collection: this.name, recordId, data },
      occurred(options),
    );
    return { ...event, recordId };
  }

  /**
   * Records RECORD_UPDATED of `changes` (a subset of fields; null clears an optional one) against the version
   * this device knows.
   * @throws FieldsyncError when the record is neither pulled nor created here (give `baseVersion`)
   */
  async update(
    id: string,
    changes: Partial<T>,
    options: { baseVersion?: number; occurredAt?: Date | string } = {},
  ): Promise<RecordedEvent> {
    const baseVersion = options.baseVersion ?? (await this.baseVersion(id));
    return this.client.record(
      'RECORD_UPDATED',
      { collection: this.name, recordId: id, baseVersion, changes },
      occurred(options),
    );
  }

  /** Records RECORD_DELETED against the version this device knows. */
  async delete(
    id: string,
    options: { baseVersion?: number; occurredAt?: Date | string } = {},
  ): Promise<RecordedEvent> {
    const baseVersion = options.baseVersion ?? (await this.baseVersion(id));
    return this.client.record(
      'RECORD_DELETED',
      { collection: this.name, recordId: id, baseVersion },
      occurred(options),
    );
  }

  /** The record as the app should show it, or undefined when absent or deleted (locally or on the server). */
  async get(id: string): Promise<LocalRecord<T> | undefined> {
    return (await this.client.localRecords(this.name)).get(id) as LocalRecord<T> | undefined;
  }

  /** Every record of the collection held here, by id. */
  async list(): Promise<LocalRecord<T>[]> {
    return [...(await this.client.localRecords(this.name)).values()].sort((a, b) =>
      a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
    ) as LocalRecord<T>[];
  }

  private async baseVersion(id: string): Promise<number> {
    const version = await this.client.baseVersionOf(this.name, id);
    if (version === undefined) {
      throw new FieldsyncError(
        `record ${this.name}/${id} is not held here: pull it first or give baseVersion`,
      );
    }
    return version;
  }
}

/** The `occurredAt` option of a collection helper, passed on to `record()` only when given. */
const occurred = (options: { occurredAt?: Date | string }) =>
  options.occurredAt === undefined ? {} : { occurredAt: options.occurredAt };

/** A photo failure that ends only that photo's try (the rest of the sync goes on). */
class PhotoError extends FieldsyncError {
  override name = 'PhotoError';
}

/** An outbox entry whose edit is still expected to take effect (shown over pulled data). */
function overlays(entry: OutboxEntry, maxRetries: number): boolean {
  if (!RECORD_TYPES.has(entry.event.type)) return false;
  // An applied edit overlays only until a pull shows it; after that the pulled value is the truth.
  return (
    entry.state === 'PENDING' || (entry.state === 'APPLIED' && !entry.seenAt) || isRetryDue(entry, maxRetries)
  );
}

/** A refused entry the client pushes again by itself: retryable and retries left. */
function isRetryDue(entry: OutboxEntry, maxRetries: number): boolean {
  return (
    (entry.state === 'FAILED' || (entry.state === 'REJECTED' && entry.error?.retryable === true)) &&
    entry.attempts < maxRetries
  );
}

/** The local rows and deletions of one pull page. */
function pageRows(page: PullPage): { upserts: LocalRow[]; deletes: { kind: string; id: string }[] } {
  const rows = (kind: string, items: ({ id: string } & Record<string, unknown>)[] | undefined) =>
    (items ?? []).map((data): LocalRow => ({
      kind,
      id: data.id,
      data,
      ...(typeof data.updatedAt === 'string' ? { updatedAt: data.updatedAt } : {}),
    }));
  const upserts = [
    ...rows('well', page.wells),
    ...rows('equipment', page.equipment),
    ...rows('user', page.users),
    ...rows('production', page.production),
    ...(page.records ?? []).map((r): LocalRow => ({
      kind: `record:${r.collection}`,
      id: r.id,
      data: r.data,
      version: r.version,
      updatedAt: r.updatedAt,
    })),
  ];
  const deletes = page.deleted.map((d) => ({
    kind: d.type === 'RECORD' ? `record:${d.collection}` : d.type,
    id: d.id,
  }));
  return { upserts, deletes };
}

/**
 * Checks the constructor's options (the server's own rules for deviceId and deviceInfo, SPEC "Push"), so a
 * JavaScript caller's mistake is a clear error at start-up, not a 400 on every push.
 */
function checkOptions(options: FieldsyncClientOptions): void {
  const bad = (what: string, got: unknown) => {
    throw new TypeError(`FieldsyncClient: ${what} (got ${JSON.stringify(got) ?? String(got)})`);
  };
  if (options === null || typeof options !== 'object') bad('options must be an object', options);
  let url: URL | undefined;
  try {
    url = new URL(options.baseUrl);
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol)) bad('baseUrl must be an http(s) URL', options.baseUrl);
  if (typeof options.deviceId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(options.deviceId)) {
    bad('deviceId must be 1–128 letters, digits, ".", "_", ":" or "-"', options.deviceId);
  }
  if (!options.store || typeof options.store.listOutbox !== 'function')
    bad('store must be a ClientStore', typeof options.store);
  if (typeof options.getToken !== 'function') bad('getToken must be a function', typeof options.getToken);
  const info = options.deviceInfo as Partial<DeviceInfo> | undefined;
  if (info !== undefined) {
    if (info === null || typeof info !== 'object') bad('deviceInfo must be an object', info);
    if (!PLATFORMS.includes(info.platform as string)) {
      bad(`deviceInfo.platform must be one of ${PLATFORMS.join(', ')}`, info.platform);
    }
    if (typeof info.appVersion !== 'string' || !/^[\x20-\x7e]{1,64}$/.test(info.appVersion)) {
      bad('deviceInfo.appVersion must be 1–64 printable ASCII characters', info.appVersion);
    }
  }
  const wait = options.waitSeconds;
  if (wait !== undefined && !(typeof wait === 'number' && wait >= 0 && wait <= 30)) {
    bad('waitSeconds must be a number from 0 to 30', wait);
  }
}

/** The error for an answer the client does not handle. */
function errorOf(answer: HttpAnswer): HttpError {
  return new HttpError(answer.status, answer.body as Problem | undefined);
}
