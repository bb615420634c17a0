/**
 * Retry timing of the client (issue 15 "Push"): exponential back-off with jitter, and the server's
 * Retry-After honoured as a floor on 429 and 503.
 */

/** Back-off settings; every value in milliseconds. */
export interface RetryOptions {
  /** First delay (default 500 ms); doubles on each attempt. */
  baseDelayMs?: number;
  /** Longest delay of the exponential part (default 30 s). */
  maxDelayMs?: number;
  /** Tries of one request before giving up with the last error (default 8). */
  maxAttempts?: number;
  /** A Retry-After longer than this ends the sync with an HttpError instead of waiting (default 5 min). */
  maxRetryAfterMs?: number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  maxAttempts: 8,
  maxRetryAfterMs: 300_000,
};

/**
 * The delay before retry number `attempt` (0 for the first retry), in milliseconds.
 * Without Retry-After: "equal jitter" — half of min(max, base·2^attempt) plus a random part of the other
 * half, so many devices coming back at once spread out. With Retry-After: never earlier than the server
 * asked, plus up to 10 % (at most 1 s) of jitter.
 *
 * @param random a number in [0, 1) (Math.random by default)
 */
export function retryDelayMs(
  attempt: number,
  options: RetryOptions = {},
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const { baseDelayMs, maxDelayMs } = { ...DEFAULT_RETRY, ...options };
  if (retryAfterMs !== undefined) {
    return retryAfterMs + random() * Math.min(1_000, retryAfterMs * 0.1);
  }
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + (random() * ceiling) / 2;
}

/**
 * Parses a Retry-After header (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) into milliseconds from
 * `now`; undefined when absent or unreadable. A date in the past gives 0.
 */
export function parseRetryAfter(header: string | null | undefined, now = Date.now()): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
