import type { Principal } from '../auth/principal.js';
import type { Config } from '../config.js';
import type { RouteContract } from '../contracts/route.js';
import { RateLimitedError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { RateLimitCounters } from '../usecases/ports/rate-limits.js';
import { describeError } from '../redact.js';
import { withTimeout } from '../timeout.js';

/**
 * Which budget a route spends: pushes, pull pages, a self-paced client's one-request-per-operation traffic
 * (`sequential`, the clinic dialect), or everything else.
 */
export type RouteClass = 'push' | 'pull' | 'sequential' | 'other';

export const routeClassOf = (contract: Pick<RouteContract, 'method' | 'route' | 'rateClass'>): RouteClass => {
  if (contract.rateClass) return contract.rateClass;
  const route = contract.route.replace(/^\/+|\/+$/g, '');
  if (contract.method === 'POST' && route === 'v1/sync/batches') return 'push';
  if (contract.method === 'GET' && route === 'v1/sync/pull') return 'pull';
  // Compat arxos (docs/compat/arxos.md): its batch and equipment writes are pushes, its updates a pull.
  if (route.startsWith('compat/arxos/')) {
    if (contract.method === 'GET' && route.endsWith('/updates')) return 'pull';
    if (contract.method !== 'GET') return 'push';
  }
  return 'other';
};

export interface Limit {
  limit: number;
  windowSeconds: number;
}

export const limitFor = (config: Config['rateLimits'], routeClass: RouteClass): Limit => {
  switch (routeClass) {
    case 'push':
      return { limit: config.pushPerMinute, windowSeconds: 60 };
    case 'pull':
      return { limit: config.pullPerMinute, windowSeconds: 60 };
    case 'sequential':
      // A minute window, not a second: a backlog replayed request after request runs at the round-trip
      // rate (20+ a second locally), which a per-second budget refuses; a minute absorbs it (docs/operations.md).
      return { limit: config.sequentialPerMinute, windowSeconds: 60 };
    default:
      return { limit: config.otherPerSecond, windowSeconds: 1 };
  }
};

/** The counter key of a caller's budget for one class of routes: per tenant, user and class. */
export const rateLimitKey = (
  principal: Pick<Principal, 'tenantId' | 'userId'>,
  routeClass: RouteClass,
): string => `${principal.tenantId}|${principal.userId}|${routeClass}`;

/** A check slower than this lets the request through: the limiter must never become the bottleneck. */
export const RATE_LIMIT_TIMEOUT_MS = 1000;
/** After a failed check, requests skip the limiter (fail open) for this long, so an outage adds no latency. */
export const RATE_LIMIT_BACKOFF_MS = 30_000;

/** What the check needs of the App. */
export interface RateLimitDeps {
  config: Pick<Config, 'rateLimits'>;
  rateLimits: RateLimitCounters;
  log: Logger;
}

/** Per counters store: until when checks are skipped after a failure. */
const openUntil = new WeakMap<RateLimitCounters, number>();

/**
 * Counts the request against the caller's budget for the route's class and throws RateLimitedError (429
 * with Retry-After: the seconds until the window ends) when it is spent. Fixed windows keyed by tenant,
 * user, class and window start, in a store every instance shares. Public routes are not limited.
 *
 * Fails open: when the store errs or is slow, the request goes on, a warning is logged, and checks are
 * skipped for RATE_LIMIT_BACKOFF_MS — a rate-limit outage never takes the API down.
 */
export async function enforceRateLimit(
  app: RateLimitDeps,
  principal: Principal,
  contract: Pick<RouteContract, 'access' | 'method' | 'route'>,
  log: Logger = app.log,
  now: () => number = Date.now,
): Promise<void> {
  if (contract.access === 'public') return;
  const store = app.rateLimits;
  const started = now();
  if ((openUntil.get(store) ?? 0) > started) return;
  const routeClass = routeClassOf(contract);
  const { limit, windowSeconds } = limitFor(app.config.rateLimits, routeClass);
  const windowMillis = windowSeconds * 1000;
  const windowStart = Math.floor(started / windowMillis) * windowMillis;
  const key = rateLimitKey(principal, routeClass);
  let count: number;
  try {
    count = await withTimeout(
      store.hit(key, windowStart, windowSeconds),
      RATE_LIMIT_TIMEOUT_MS,
      `rate-limit store did not answer in ${RATE_LIMIT_TIMEOUT_MS} ms`,
    );
  } catch (error) {
    openUntil.set(store, now() + RATE_LIMIT_BACKOFF_MS);
    log.warn(
      { err: describeError(error), routeClass, skipForMs: RATE_LIMIT_BACKOFF_MS },
      'rate-limit store unavailable: requests are not limited for now (fail open)',
    );
    return;
  }
  if (count > limit) {
    const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + windowMillis - now()) / 1000));
    throw new RateLimitedError(
      `rate limit of ${limit} ${routeClass === 'push' ? 'pushes' : routeClass === 'pull' ? 'pull pages' : 'requests'} per ${windowSeconds === 1 ? 'second' : 'minute'} exceeded; retry in ${retryAfterSeconds} s`,
      retryAfterSeconds,
    );
  }
}
