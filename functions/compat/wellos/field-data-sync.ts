import { app } from '@azure/functions';
import {
  renderWellosError,
  toSyncResponse,
  translateEvents,
  WELLOS_MAX_EVENTS,
  wellosDeviceId,
  wellosWaitSeconds,
} from '../../../shared/compat/wellos/mapping.js';
import { wellosFieldDataSyncRoute } from '../../../shared/compat/wellos/routes.js';
import { ForbiddenError } from '../../../shared/errors.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';
import { checkDeviceAccess } from '../../../shared/usecases/device-access.js';
import { pushBatch } from '../../../shared/usecases/push.js';
import { waitForOriginalOutcomes } from '../../../shared/usecases/wait-for-batch.js';

/**
 * WellOS `POST /field-data/sync` (document 000, sections 4–5): translate the events, push them through the v1 push
 * use case, wait for the processor as `Prefer: wait` does (up to WELLOS_MAX_WAIT_SECONDS), and answer what is
 * settled by then in the document's `{syncedEventIds, conflicts, errors}`.
 */
export const wellosFieldDataSync = endpoint(
  wellosFieldDataSyncRoute,
  async ({ app: fieldsync, tenant, principal, body, request }) => {
    // The document's client names its tenant in the body: it must be the token's, as X-Tenant-Id must.
    if (body.tenantId !== undefined && body.tenantId !== tenant.id) {
      throw new ForbiddenError('tenantId does not match the tenant of the token');
    }
    const deviceId = wellosDeviceId(request.headers.get('x-device-id'), body);
    // Past the v1 limit the rest waits for the next sync (in none of the lists): a client that sends its
    // whole backlog in one request is never stuck on a 413.
    const extra = body.events.length - WELLOS_MAX_EVENTS;
    const translations = translateEvents(tenant.id, deviceId, body.events.slice(0, WELLOS_MAX_EVENTS));
    const notice =
      extra > 0
        ? [
            `${extra} events beyond the first ${WELLOS_MAX_EVENTS} were not processed: sync again to send them`,
          ]
        : [];
    const events = translations.flatMap((t) => (t.ok ? [t.event] : []));
    if (events.length === 0) {
      // Nothing to push, but the device is still checked as a push checks it: another user's device is 403
      // whether or not the request carries events (v1 and the other dialects do the same).
      await checkDeviceAccess(fieldsync.devices, tenant, principal, deviceId, 'act');
      return { status: 200, body: toSyncResponse(translations, [], notice) };
    }
    const pushed = await pushBatch(fieldsync, {
      tenant,
      principal,
      body: {
        deviceId,
        events,
        ...(body.deviceInfo?.platform && body.deviceInfo.appVersion
          ? { deviceInfo: { platform: body.deviceInfo.platform, appVersion: body.deviceInfo.appVersion } }
          : {}),
      },
    });
    // No Idempotency-Key is sent, so the answer is never a replay; the type says it could be.
    if (pushed.kind !== 'accepted') throw new Error('a push without Idempotency-Key was replayed');
    const { batchId } = pushed.response;
    const wait = wellosWaitSeconds(request.headers.get('prefer'));
    // A re-sent event answers its original outcome: a conflict stays a conflict, a refusal an error.
    const outcome = await waitForOriginalOutcomes(
      fieldsync,
      tenant,
      principal,
      deviceId,
      batchId,
      wait * 1000,
    );
    return { status: 200, body: toSyncResponse(translations, outcome.events, notice) };
  },
  { renderError: renderWellosError },
);

app.http(wellosFieldDataSyncRoute.name, httpOptions(wellosFieldDataSyncRoute, wellosFieldDataSync));
