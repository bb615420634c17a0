/**
 * Ports: Idempotency-Key records (Cosmos).
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
/** A stored HTTP answer, replayed for a repeated Idempotency-Key. */
export interface StoredResponse {
  status: number;
  body: unknown;
}

export type IdempotencyClaim =
  | { state: 'claimed' }
  | { state: 'completed'; response: StoredResponse }
  | { state: 'mismatch' }
  | { state: 'in-flight' };

/** Idempotency-Key records of pushes (Cosmos DB). Scoped by tenant and user: keys are client-made. */
export interface IdempotencyStore {
  /** Claims the key for this request, or says what an earlier request with it did. */
  claim(tenantId: string, userId: string, key: string, requestHash: string): Promise<IdempotencyClaim>;
  complete(
    tenantId: string,
    userId: string,
    key: string,
    requestHash: string,
    response: StoredResponse,
  ): Promise<void>;
  /** Drops a claim whose request failed, so the client's retry can proceed. */
  release(tenantId: string, userId: string, key: string): Promise<void>;
}
