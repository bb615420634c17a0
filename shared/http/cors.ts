/**
 * CORS (Fetch standard, "CORS protocol"): what browser clients may send and read. In Azure the Function
 * App's platform CORS (infra/modules/functionapp.bicep, `corsAllowedOrigins`) answers preflights and adds
 * Access-Control-Allow-Origin; the platform cannot be told which response headers to expose, so every
 * response of the app names them itself (endpoint.ts). The local host (local/host/http.ts) plays the
 * platform's part with the origins of the CORS_ALLOWED_ORIGINS setting (shared/config.ts).
 */

/** Request headers the API reads, beyond the CORS-safelisted ones: what a preflight allows. */
export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Content-Encoding',
  'Idempotency-Key',
  'Prefer',
  'X-Request-Id',
  'X-Tenant-Id',
] as const;

/** Response headers the API sets that a browser hides unless exposed (Content-Type is safelisted). */
export const CORS_EXPOSED_HEADERS = [
  'Allow',
  'Idempotent-Replayed',
  'Location',
  'Preference-Applied',
  'Retry-After',
  'WWW-Authenticate',
  'X-Request-Id',
] as const;

/** How long a browser may cache a preflight answer (Chromium caps it at 7200 s). */
export const CORS_MAX_AGE_SECONDS = 600;

/** The local default: any port of localhost and 127.0.0.1 (dev servers of web clients pick their own). */
export const LOCAL_CORS_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'] as const;

/**
 * One allowed-origin entry: `*` (any origin), an origin `scheme://host[:port]`, or `scheme://host:*` (that
 * host on any port, or none). Anything else (a path, a query, a wildcard in the host) is refused.
 */
export const CORS_ORIGIN_PATTERN =
  /^(?:\*|https?:\/\/(?:\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(?::(?:\d{1,5}|\*))?)$/i;

/**
 * A predicate telling whether a request's Origin header is allowed by the given entries (see
 * CORS_ORIGIN_PATTERN; entries that do not match it are ignored). Comparison is case-insensitive, as
 * scheme and host are; a missing Origin or the opaque origin `null` is allowed only by `*`.
 */
export function corsOriginMatcher(entries: readonly string[]): (origin: string | undefined) => boolean {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const any = entries.includes('*');
  const patterns = entries
    .filter((entry) => entry !== '*' && CORS_ORIGIN_PATTERN.test(entry))
    .map((entry) =>
      entry.endsWith(':*')
        ? new RegExp(`^${escape(entry.slice(0, -2))}(?::\\d{1,5})?$`, 'i')
        : new RegExp(`^${escape(entry)}$`, 'i'),
    );
  return (origin) => {
    if (origin === undefined || origin === '') return false;
    if (any) return true;
    return patterns.some((pattern) => pattern.test(origin));
  };
}
