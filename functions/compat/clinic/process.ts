import { app } from '@azure/functions';
import { eventIdOfItem, processAnswer, renderClinicError } from '../../../shared/compat/clinic/mapping.js';
import { clinicProcessRoute } from '../../../shared/compat/clinic/routes.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';
import { retryFailedEvents } from '../../../shared/usecases/retry.js';
import { getRecordEvent } from '../../../shared/usecases/sync-status.js';
import { waitForBatch } from '../../../shared/usecases/wait-for-batch.js';

/** How long a process call waits for the item's outcome (seconds); then it answers PENDING (202). */
export const PROCESS_WAIT_SECONDS = 20;

/** `Prefer: wait=N` (RFC 7240), at most PROCESS_WAIT_SECONDS: a client that wants its answer sooner. */
const preferredWait = (header: string | null): number => {
  const match = header ? /(?:^|[,;\s])wait=(\d+)/i.exec(header) : null;
  return match?.[1] ? Math.min(PROCESS_WAIT_SECONDS, Number(match[1])) : PROCESS_WAIT_SECONDS;
};

/**
 * Document 004 §3: process one item now. The queue already enqueued it, so this waits for its outcome; a FAILED or
 * retryable REJECTED item is retried first (the retry use case), as "process now" asks.
 */
export const clinicProcess = endpoint(
  clinicProcessRoute,
  async ({ app: fieldsync, tenant, principal, params, request }) => {
    const eventId = eventIdOfItem(params.id);
    let row = await getRecordEvent(fieldsync, tenant, principal, eventId);
    if (row.status === 'FAILED' || (row.status === 'REJECTED' && row.error?.retryable)) {
      await retryFailedEvents(fieldsync, tenant, principal, { eventIds: [eventId] });
      row = { ...row, status: 'PENDING' };
    }
    if (row.status === 'PENDING') {
      const seconds = preferredWait(request.headers.get('prefer'));
      await waitForBatch(fieldsync, tenant, principal, row.batchId, seconds * 1000);
      row = await getRecordEvent(fieldsync, tenant, principal, eventId);
    }
    const conflict = row.conflict
      ? await fieldsync.conflicts.get(tenant, row.conflict.conflictId)
      : undefined;
    const answer = processAnswer(row, conflict);
    return { status: answer.status, body: answer.body };
  },
  { renderError: renderClinicError },
);

app.http(clinicProcessRoute.name, httpOptions(clinicProcessRoute, clinicProcess));
