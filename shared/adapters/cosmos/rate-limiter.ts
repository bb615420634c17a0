import { createHash } from 'node:crypto';
import type { Container, PatchOperation } from '@azure/cosmos';
import type { RateLimitCounters } from '../../usecases/ports/rate-limits.js';
import { guardCosmos } from './client.js';

interface CounterItem {
  id: string;
  pk: string;
  count: number;
  /** Seconds after the last write when Cosmos deletes the item (the container has TTL on). */
  ttl: number;
}

const statusOf = (error: unknown) => (error as { code?: unknown }).code;

/**
 * The item id (and partition key) of one counter window: a hash, since ids may not contain '/', '\\', '?'
 * or '#' and user ids are the identity provider's. Exported so tests find a tenant's counters as the store does.
 */
export const counterItemId = (key: string, windowStart: number): string =>
  createHash('sha256').update(`${key}\u0000${windowStart}`).digest('base64url');

const INCREMENT: PatchOperation[] = [{ op: 'incr', path: '/count', value: 1 }];

/**
 * Fixed-window counters in the `rate-limits` container: one item per (key, window), incremented with a
 * patch `incr` (atomic on the server, so concurrent instances never lose a hit). The first hit of a window
 * creates the item; when two instances race to create it, the loser's 409 turns into another increment.
 * Items expire on their own (item TTL a minute past the window's end).
 */
export class CosmosRateLimiter implements RateLimitCounters {
  constructor(private readonly container: () => Container) {}

  async hit(key: string, windowStart: number, windowSeconds: number): Promise<number> {
    const id = counterItemId(key, windowStart);
    return guardCosmos(async () => {
      const item = this.container().item(id, id);
      const increment = async () => (await item.patch<CounterItem>(INCREMENT)).resource?.count;
      try {
        const count = await increment();
        if (count !== undefined) return count;
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
      try {
        const fresh: CounterItem = { id, pk: id, count: 1, ttl: windowSeconds + 60 };
        await this.container().items.create(fresh);
        return 1;
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
      const count = await increment();
      if (count === undefined) throw new Error('rate-limit counter patch returned no document');
      return count;
    });
  }
}
