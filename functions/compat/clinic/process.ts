import { app } from '@azure/functions';
import { eventIdOfItem, processAnswer, renderClinicError } from '../../../shared/compat/clinic/mapping.js';
import { clinicProcessRoute } from '../../../shared/compat/clinic/routes.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';
import { retryFailedEvents } from '../../../shared/usecases/retry.js';
import { getRecordEvent } from '../../../shared/usecases/sync-status.js';
import { waitForBatch } from '../../../shared/usecases/wait-for-batch.js';

/** How long a process call waits for the item's outcome; then it answers PENDING (202). */
export const PROCESS_WAIT_MS = 20_000;

/**
 * Document 004 §3: process one item now. The queue already enqueued it, so this waits for its outcome; a FAILED or
 * retryable REJECTED item is retried first (the retry use case), as "process now" asks.
 */
export const clinicProcess = endpoint(
  clinicProcessRoute,
  async ({ app: fieldsync, tenant, principal, params }) => {
    const eventId = eventIdOfItem(params.id);
    let row = await getRecordEvent(fieldsync, tenant, principal, eventId);
    if (row.status === 'FAILED' || (row.status === 'REJECTED' && row.error?.retryable)) {
      await retryFailedEvents(fieldsync, tenant, principal, { eventIds: [eventId] });
      row = { ...row, status: 'PENDING' };
    }
    if (row.status === 'PENDING') {
      await waitForBatch(fieldsync, tenant, principal, row.batchId, PROCESS_WAIT_MS);
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
