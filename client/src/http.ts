import { DEFAULT_RETRY, parseRetryAfter, type RetryOptions, retryDelayMs } from './backoff.js';
import type { Compressor } from './compress.js';
import { AuthError, HttpError, NetworkError, type Problem } from './errors.js';

/**
 * Gives the client a bearer token (a JWT whose `tid` is the tenant). Called before requests; called with
 * `forceRefresh: true` after a 401, when the app should get a new token (e.g. MSAL acquireTokenSilent with
 * forceRefresh). May return the same token as long as it is valid.
 */
export type TokenProvider = (options: { forceRefresh: boolean }) => string | Promise<string>;

/** An answer the client handles itself. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  /** Parsed JSON body, when the answer is JSON; else undefined. */
  body: unknown;
}

/** One request of {@link HttpClient.request}. */
export interface HttpRequestSpec {
  method: 'GET' | 'POST' | 'PUT';
  /** A path under the base URL (`v1/sync/pull?…`), or an absolute URL (a SAS upload URL) when `auth` is false. */
  path: string;
  json?: unknown;
  bytes?: Uint8Array;
  headers?: Record<string, string>;
  /** Send the bearer token (default true; false for Blob Storage SAS URLs). */
  auth?: boolean;
  /** gzip the JSON body (Content-Encoding: gzip). */
  compress?: boolean;
}

/** What {@link HttpClient} needs. */
export interface HttpClientOptions {
  baseUrl: string;
  getToken: TokenProvider;
  fetch: typeof fetch;
  retry: RetryOptions;
  compressor: Compressor | undefined;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

// 429 and 503 carry Retry-After (SPEC "Errors"); the rest are transient answers of proxies and gateways.
const RETRIED = new Set([408, 429, 500, 502, 503, 504]);

/**
 * The client's HTTP layer on global fetch: bearer token (refreshed once on 401), JSON and gzip, and retries
 * — network errors and 408/429/5xx with exponential back-off and jitter, Retry-After honoured, 409
 * IDEMPOTENCY_IN_FLIGHT (the same Idempotency-Key still being processed) waited out. Other statuses are
 * returned for the caller to handle.
 */
export class HttpClient {
  private readonly retry: Required<RetryOptions>;
  constructor(private readonly options: HttpClientOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  /**
   * Sends a request, retrying as described. Resolves with any answer other than those retried.
   * @throws AuthError on a 401 after a refreshed token; HttpError when retries ran out or the Retry-After
   *   is longer than `maxRetryAfterMs`; NetworkError when the server could not be reached after every try.
   */
  async request(spec: HttpRequestSpec): Promise<HttpAnswer> {
    const auth = spec.auth ?? true;
    const url = auth ? `${this.options.baseUrl.replace(/\/+$/, '')}/${spec.path}` : spec.path;
    let body: Uint8Array | undefined = spec.bytes;
    const headers: Record<string, string> = { ...spec.headers };
    if (spec.json !== undefined) {
      body = new TextEncoder().encode(JSON.stringify(spec.json));
      headers['content-type'] = 'application/json';
      if (spec.compress && this.options.compressor) {
        body = await this.options.compressor(body);
        headers['content-encoding'] = 'gzip';
      }
    }
    let refreshed = false;
    for (let attempt = 0; ; attempt += 1) {
      if (auth) headers.authorization = `Bearer ${await this.options.getToken({ forceRefresh: refreshed })}`;
      let response: Response;
      try {
        response = await this.options.fetch(url, {
          method: spec.method,
          headers,
          ...(body ? { body: body as BodyInit } : {}),
        });
      } catch (error) {
        if (attempt + 1 >= this.retry.maxAttempts) {
          throw new NetworkError(`${spec.method} ${redact(url)} failed: ${describe(error)}`, error);
        }
        await this.options.sleep(retryDelayMs(attempt, this.retry, undefined, this.options.random));
        continue;
      }
      const answer: HttpAnswer = {
        status: response.status,
        headers: response.headers,
        body: await parse(response),
      };
      if (response.status === 401 && auth) {
        if (!refreshed) {
          refreshed = true;
          attempt -= 1; // a token refresh is not a retry
          continue;
        }
        throw new AuthError(401, answer.body as Problem | undefined);
      }
      const inFlight =
        response.status === 409 && (answer.body as Problem | undefined)?.code === 'IDEMPOTENCY_IN_FLIGHT';
      if (!RETRIED.has(response.status) && !inFlight) return answer;
      const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
      if (attempt + 1 >= this.retry.maxAttempts || (retryAfterMs ?? 0) > this.retry.maxRetryAfterMs) {
        throw new HttpError(response.status, answer.body as Problem | undefined, retryAfterMs);
      }
      await this.options.sleep(retryDelayMs(attempt, this.retry, retryAfterMs, this.options.random));
    }
  }
}

async function parse(response: Response): Promise<unknown> {
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  if (!/json/i.test(type) || text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A network error's message with its causes: undici says only "fetch failed" and keeps the reason (e.g.
 * `connect ECONNREFUSED 127.0.0.1:7071`, or the code of an AggregateError's errors) in `cause`.
 */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = error, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth += 1) {
    const item = e as { message?: string; code?: string; errors?: unknown[] };
    const text =
      item.message ||
      item.code ||
      (item.errors ?? []).map((x) => (x as { message?: string }).message ?? String(x)).join(', ') ||
      String(e);
    if (text && !parts.includes(text)) parts.push(text);
    if (item.code && !text.includes(item.code)) parts.push(item.code);
  }
  return parts.join(': ');
}

/** A URL for an error message without its query (a SAS signature is a secret). */
const redact = (url: string): string => url.split('?')[0] ?? url;
