import type { Session } from './auth.js';

/** A problem+json answer of the API (RFC 9457), with its JSON paths. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

let session: Session | undefined;
let base = '/api';

/** Sets who calls and where (once, at start-up). */
export function configureApi(apiBase: string, current: Session): void {
  base = apiBase;
  session = current;
}

/** The longest Retry-After the console waits out by itself (longer: the error is shown instead). */
export const MAX_RETRY_AFTER_MS = 10_000;

/**
 * How long a 429's Retry-After asks to wait, in ms (RFC 9110 §10.2.3: delay-seconds or an HTTP date);
 * 1 s when absent or unreadable; undefined when longer than MAX_RETRY_AFTER_MS.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  let wait = 1000;
  if (header !== null && header.trim() !== '') {
    const seconds = Number(header.trim());
    const date = Date.parse(header);
    if (Number.isFinite(seconds) && seconds >= 0) wait = seconds * 1000;
    else if (!Number.isNaN(date)) wait = Math.max(0, date - now);
  }
  return wait > MAX_RETRY_AFTER_MS ? undefined : wait;
}

/**
 * Calls the API with the manager's Bearer token; JSON in and out; throws ApiError on a non-2xx answer.
 * A 429 (the caller's own rate budget, docs/console.md) is retried once after its Retry-After.
 */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (!session) throw new ApiError(401, 'not signed in');
  const current = session;
  const send = async () =>
    fetch(`${base}/${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await current.token()}`,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  let response = await send();
  const wait = response.status === 429 ? retryAfterMs(response.headers.get('retry-after')) : undefined;
  if (wait !== undefined) {
    // Retried once only: a second 429 is shown, never a loop that keeps spending the budget.
    await new Promise((resolve) => setTimeout(resolve, wait));
    response = await send();
  }
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const problem = (parsed ?? {}) as {
      title?: string;
      detail?: string;
      errors?: { path: string; message: string }[];
    };
    throw new ApiError(
      response.status,
      `${response.status} ${problem.title ?? response.statusText}${problem.detail ? `: ${problem.detail}` : ''}`,
      problem.errors ?? [],
    );
  }
  return parsed as T;
}

/** A query string from the given parameters (empty ones left out). */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
