import { app } from '@azure/functions';
import { pushBatchRoute } from '../shared/contracts/routes.js';
import { type EndpointResult, endpoint, httpOptions } from '../shared/http/endpoint.js';
import { pushBatch } from '../shared/usecases/push.js';
import { waitForBatch } from '../shared/usecases/wait-for-batch.js';

/** `Prefer: wait=N` (seconds, at most 30): how long the client is willing to wait for the outcome. */
const preferredWait = (header: string | null): number | undefined => {
  const match = header ? /(?:^|[,;\s])wait=(\d+)/i.exec(header) : null;
  return match?.[1] ? Math.min(30, Number(match[1])) : undefined;
};

export const pushSyncBatch = endpoint(
  pushBatchRoute,
  async ({ app: fieldsync, tenant, principal, body, request }): Promise<EndpointResult> => {
    const result = await pushBatch(fieldsync, {
      tenant,
      principal,
      body,
      idempotencyKey: request.headers.get('idempotency-key') ?? undefined,
    });
    if (result.kind === 'replayed') {
      // The first answer again, Location included (the same batch), so a retried request reads the same.
      const statusUrl = (result.body as { statusUrl?: unknown } | undefined)?.statusUrl;
      return {
        status: result.status,
        body: result.body,
        headers: {
          'idempotent-replayed': 'true',
          ...(typeof statusUrl === 'string' ? { location: statusUrl } : {}),
        },
      };
    }
    const wait = preferredWait(request.headers.get('prefer'));
    if (wait !== undefined) {
      // A batch with nothing to process (every event rejected or a duplicate) is COMPLETED already: the
      // first look finds it so, and the client gets its outcome (200) like any batch finished in time.
      const outcome = await waitForBatch(fieldsync, tenant, principal, result.response.batchId, wait * 1000);
      if (outcome) return { status: 200, body: outcome, headers: { 'preference-applied': `wait=${wait}` } };
    }
    return {
      status: 202,
      body: result.response,
      headers: { location: result.response.statusUrl },
    };
  },
);

app.http(pushBatchRoute.name, httpOptions(pushBatchRoute, pushSyncBatch));
