import { createHash } from 'node:crypto';
import type { Container } from '@azure/cosmos';
import type { IdempotencyClaim, IdempotencyStore, StoredResponse } from '../../usecases/ports/idempotency.js';
import { guardCosmos } from './client.js';

interface IdempotencyItem {
  id: string;
  pk: string;
  requestHash: string;
  state: 'IN_FLIGHT' | 'COMPLETED';
  claimedAt: number;
  response?: StoredResponse;
  ttl?: number;
}

/** A claim older than this is from a request that died mid-way: a new request may take it over. */
const STALE_CLAIM_MS = 120_000;

/**
 * The item id (and partition key) of a (tenant, user, Idempotency-Key): a hash, since keys are the client's
 * text. Exported so tests find a tenant's items exactly as the store does.
 */
export const idempotencyItemId = (tenantId: string, userId: string, key: string): string =>
  createHash('sha256').update(`${tenantId}\u0000${userId}\u0000${key}`).digest('hex');

const statusOf = (error: unknown) => (error as { code?: unknown }).code;

/**
 * Idempotency keys in Cosmos: `create` is the atomic claim (409 when the key exists); a stale claim is
 * taken over with an ETag-guarded replace, so two racing requests cannot both win it.
 */
export class CosmosIdempotencyStore implements IdempotencyStore {
  constructor(private readonly container: () => Container) {}

  async claim(tenantId: string, userId: string, key: string, requestHash: string): Promise<IdempotencyClaim> {
    const id = idempotencyItemId(tenantId, userId, key);
    const fresh: IdempotencyItem = { id, pk: id, requestHash, state: 'IN_FLIGHT', claimedAt: Date.now() };
    return guardCosmos(async () => {
      try {
        await this.container().items.create(fresh);
        return { state: 'claimed' };
      } catch (error) {
        if (statusOf(error) !== 409) throw error;
      }
      const { resource, etag } = await this.container().item(id, id).read<IdempotencyItem>();
      if (!resource) return this.claim(tenantId, userId, key, requestHash);
      if (resource.requestHash !== requestHash) return { state: 'mismatch' };
      if (resource.state === 'COMPLETED' && resource.response)
        return { state: 'completed', response: resource.response };
      if (Date.now() - resource.claimedAt < STALE_CLAIM_MS) return { state: 'in-flight' };
      try {
        await this.container()
          .item(id, id)
          .replace(fresh, { accessCondition: { type: 'IfMatch', condition: etag ?? '' } });
        return { state: 'claimed' };
      } catch (error) {
        if (statusOf(error) === 412) return { state: 'in-flight' };
        throw error;
      }
    });
  }

  async complete(
    tenantId: string,
    userId: string,
    key: string,
    requestHash: string,
    response: StoredResponse,
  ) {
    const id = idempotencyItemId(tenantId, userId, key);
    const item: IdempotencyItem = {
      id,
      pk: id,
      requestHash,
      state: 'COMPLETED',
      claimedAt: Date.now(),
      response,
    };
    await guardCosmos(() => this.container().items.upsert(item));
  }

  async release(tenantId: string, userId: string, key: string) {
    const id = idempotencyItemId(tenantId, userId, key);
    await guardCosmos(async () => {
      try {
        await this.container().item(id, id).delete();
      } catch (error) {
        if (statusOf(error) !== 404) throw error;
      }
    });
  }
}
