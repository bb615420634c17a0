import { getSyncBatch } from '../../functions/sync-batch.js';
import { pushSyncBatch } from '../../functions/sync-push.js';
import type { BatchOutcome, PushAccepted } from '../../shared/contracts/sync.js';
import { call } from './http.js';
import { waitFor } from './wait.js';

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

/** Polls the batch until it is COMPLETED (a processor works the queue meanwhile); throws after the timeout. */
export async function settled(token: string, batchId: string, timeoutMillis = 60_000): Promise<BatchOutcome> {
  let last = '';
  try {
    return await waitFor(
      async () => {
        const response = await call(getSyncBatch, { params: { batchId }, token });
        last = response.text.slice(0, 500);
        const outcome = response.body as BatchOutcome;
        return response.status === 200 && outcome.status === 'COMPLETED' ? outcome : undefined;
      },
      { what: `batch ${batchId} to settle`, timeoutMs: timeoutMillis, intervalMs: 100 },
    );
  } catch (error) {
    throw new Error(`batch ${batchId} not settled: ${last}`, { cause: error });
  }
}
