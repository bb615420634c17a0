import { getSyncBatch } from '../../functions/sync-batch.js';
import { pushSyncBatch } from '../../functions/sync-push.js';
import type { BatchOutcome, PushAccepted } from '../../shared/contracts/sync.js';
import { call } from './http.js';

export const push = (token: string, body: unknown, headers: Record<string, string> = {}) =>
  call(pushSyncBatch, {
    method: 'POST',
    url: 'http://localhost/api/v1/sync/batches',
    token,
    json: body,
    headers,
  });

export async function pushAccepted(token: string, body: unknown): Promise<PushAccepted> {
  const response = await push(token, body);
  if (response.status !== 202) throw new Error(`push answered ${response.status}: ${response.text}`);
  return response.body as PushAccepted;
}

/** Polls the batch until it is COMPLETED (the local host's processor works the queue meanwhile). */
export async function settled(token: string, batchId: string, timeoutMillis = 30_000): Promise<BatchOutcome> {
  const deadline = Date.now() + timeoutMillis;
  for (;;) {
    const response = await call(getSyncBatch, { params: { batchId }, token });
    const outcome = response.body as BatchOutcome;
    if (response.status === 200 && outcome.status === 'COMPLETED') return outcome;
    if (Date.now() > deadline)
      throw new Error(`batch ${batchId} not settled: ${response.text.slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
