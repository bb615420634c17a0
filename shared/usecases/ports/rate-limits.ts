/**
 * Ports: rate-limit counters (Cosmos).
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
/** Fixed-window request counters shared by every instance (Cosmos DB `rate-limits`). */
export interface RateLimitCounters {
  /**
   * Adds one to the counter of `key` in the window that starts at `windowStart` (epoch ms) and lasts
   * `windowSeconds`, atomically across instances; returns the count including this hit.
   */
  hit(key: string, windowStart: number, windowSeconds: number): Promise<number>;
}
