import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import type { BatchOutcome, EventOutcome, PullPage, SyncEvent } from '../../client/src/index.js';

/** One request the fake server received. */
export interface SeenRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** Parsed JSON body (gunzipped when gzip). */
  body: unknown;
  /** Bytes on the wire. */
  wireBytes: number;
  /** The status answered. */
  status: number;
}

interface UploadUrlsBody {
  photos: { photoId: string; contentType: string; sizeBytes: number }[];
}

type Answer = { status: number; headers?: Record<string, string>; json?: unknown };

/**
 * An in-memory stand-in for the push/outcome/pull routes, honest about the parts the unit tests check: it
 * decodes gzip, keeps Idempotency-Keys (same key + same body replays the first answer, another body 422),
 * reports an event id it already has as DUPLICATE, and answers each event as `decide` says. `script` answers
 * requests before the normal behaviour (503s, 429s, 401s…). The real server is covered by the integration tests.
 */
export class FakeServer {
  readonly seen: SeenRequest[] = [];
  /** Answers served first, in order, to requests whose path starts with the given prefix. */
  readonly script: { prefix: string; answer: Answer }[] = [];
  /** Outcome of each new event (default APPLIED). */
  decide: (event: SyncEvent) => Omit<EventOutcome, 'eventId'> = () => ({ status: 'APPLIED' });
  /** When true, pushes are answered 202 and batches stay PROCESSING until {@link completeAll}. */
  slow = false;
  /** Pull pages served in order (then an empty last page). */
  pages: (Partial<PullPage> | { status: number; json?: unknown })[] = [];
  /** Tokens accepted (others get 401). */
  validTokens = new Set(['t1']);
  /** Event ids applied, in order (each at most once). */
  readonly applied: string[] = [];
  /** Blobs PUT through upload URLs, by blob name. */
  readonly blobs = new Map<string, Uint8Array>();
  /** When true, the next upload URL handed out is already expired on the storage side (its PUT gets 403). */
  expireNextUrl = false;

  private readonly events = new Map<string, { body: string; outcome: EventOutcome }>();
  private readonly batches = new Map<string, BatchOutcome>();
  private readonly keys = new Map<string, { body: string; answer: Answer }>();

  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    if (url.host === 'blob.fake') return this.blob(url, init);
    const headers = Object.fromEntries(new Headers(init.headers).entries());
    let raw = init.body ? Buffer.from(init.body as Uint8Array) : Buffer.alloc(0);
    const wireBytes = raw.length;
    if (headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
    const body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
    const path = url.pathname.replace(/^\/api\//, '') + url.search;
    const answer = this.answer(init.method ?? 'GET', path, headers, raw.toString('utf8'), body);
    this.seen.push({ method: init.method ?? 'GET', path, headers, body, wireBytes, status: answer.status });
    return new Response(answer.json === undefined ? null : JSON.stringify(answer.json), {
      status: answer.status,
      headers: { 'content-type': 'application/json', ...answer.headers },
    });
  };

  /** Marks every PROCESSING batch COMPLETED. */
  completeAll(): void {
    for (const batch of this.batches.values()) batch.status = 'COMPLETED';
  }

  /** Pushes the server took (not those refused 401). */
  pushes(): SeenRequest[] {
    return this.seen.filter((r) => r.method === 'POST' && r.path === 'v1/sync/batches' && r.status !== 401);
  }

  private answer(
    method: string,
    path: string,
    headers: Record<string, string>,
    text: string,
    body: unknown,
  ): Answer {
    const scripted = this.script.findIndex((s) => path.startsWith(s.prefix));
    if (scripted >= 0) return this.script.splice(scripted, 1)[0]?.answer ?? { status: 500 };
    if (!this.validTokens.has((headers.authorization ?? '').replace(/^Bearer /, ''))) {
      return { status: 401, json: { title: 'Unauthorized', status: 401 } };
    }
    if (method === 'POST' && path === 'v1/sync/batches')
      return this.push(headers, text, body as { events: SyncEvent[] });
    if (method === 'POST' && path === 'v1/photos/upload-urls') return this.uploadUrls(body as UploadUrlsBody);
    const batch = /^v1\/sync\/batches\/([^/?]+)$/.exec(path);
    if (method === 'GET' && batch?.[1]) {
      const outcome = this.batches.get(batch[1]);
      return outcome ? { status: 200, json: this.view(outcome) } : { status: 404, json: { status: 404 } };
    }
    if (method === 'GET' && path.startsWith('v1/sync/pull')) {
      const page = this.pages.shift();
      if (page && 'status' in page && typeof page.status === 'number')
        return { status: page.status, json: page.json };
      return { status: 200, json: { ...emptyPage(), ...page } };
    }
    return { status: 404, json: { status: 404 } };
  }

  private push(headers: Record<string, string>, text: string, body: { events: SyncEvent[] }): Answer {
    const key = headers['idempotency-key'];
    if (key) {
      const first = this.keys.get(key);
      if (first) return first.body === text ? first.answer : { status: 422, json: { status: 422 } };
    }
    const batchId = randomUUID();
    const outcomes: EventOutcome[] = [];
    const duplicates: string[] = [];
    for (const event of body.events) {
      const known = this.events.get(event.id);
      if (known) {
        duplicates.push(event.id);
        outcomes.push({ eventId: event.id, status: 'DUPLICATE' });
        continue;
      }
      const outcome = { eventId: event.id, ...this.decide(event) };
      if (outcome.status === 'APPLIED' || outcome.status === 'CONFLICT') this.applied.push(event.id);
      this.events.set(event.id, { body: JSON.stringify(event), outcome });
      outcomes.push(outcome);
    }
    const outcome: BatchOutcome = {
      batchId,
      deviceId: 'd',
      status: this.slow ? 'PROCESSING' : 'COMPLETED',
      receivedAt: new Date().toISOString(),
      counts: { total: outcomes.length },
      events: outcomes,
    };
    this.batches.set(batchId, outcome);
    const accepted: Answer = {
      status: 202,
      json: {
        batchId,
        receivedAt: outcome.receivedAt,
        accepted: outcomes.length - duplicates.length,
        duplicates,
        rejected: [],
        statusUrl: `/api/v1/sync/batches/${batchId}`,
      },
    };
    if (key) this.keys.set(key, { body: text, answer: accepted });
    if (!this.slow && /wait=/.test(headers.prefer ?? '')) return { status: 200, json: this.view(outcome) };
    return accepted;
  }

  private uploadUrls(body: UploadUrlsBody): Answer {
    const uploads = body.photos.map((photo) => {
      const blobName = `t/${photo.photoId}.${photo.contentType.split('/')[1]}`;
      const expiresAt = Date.now() + 15 * 60_000;
      const storageExpiry = this.expireNextUrl ? Date.now() - 1 : expiresAt;
      this.expireNextUrl = false;
      return {
        photoId: photo.photoId,
        blobName,
        uploadUrl: `http://blob.fake/photos/${blobName}?se=${storageExpiry}`,
        expiresAt: new Date(expiresAt).toISOString(),
        method: 'PUT',
        headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': photo.contentType },
      };
    });
    return { status: 200, json: { uploads, alreadyAttached: [] } };
  }

  /** Blob Storage: a PUT through an unexpired URL stores the bytes (201), an expired one gets 403. */
  private async blob(url: URL, init: RequestInit): Promise<Response> {
    const blobName = url.pathname.replace(/^\/photos\//, '');
    let status = 201;
    if (init.method !== 'PUT' || init.headers === undefined) status = 400;
    else if (Number(url.searchParams.get('se')) < Date.now()) status = 403;
    else this.blobs.set(blobName, new Uint8Array(init.body as Uint8Array));
    this.seen.push({
      method: init.method ?? 'GET',
      path: url.toString(),
      headers: {},
      body: undefined,
      wireBytes: 0,
      status,
    });
    return new Response(null, { status });
  }

  /** The outcome as served: events PENDING while the batch is not COMPLETED. */
  private view(outcome: BatchOutcome): BatchOutcome {
    if (outcome.status === 'COMPLETED') return outcome;
    return { ...outcome, events: outcome.events.map((e) => ({ eventId: e.eventId, status: 'PENDING' })) };
  }
}

export const emptyPage = (): PullPage => ({
  tenantId: 't',
  wells: [],
  equipment: [],
  users: [],
  production: [],
  records: [],
  deleted: [],
  nextCursor: 'c-end',
  hasMore: false,
  serverTime: new Date().toISOString(),
  pendingEvents: 0,
});
