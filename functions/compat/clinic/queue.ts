import { app } from '@azure/functions';
import {
  collectionOf,
  eventIdOfRequest,
  itemStatus,
  missingFields,
  rejectionErrors,
  renderClinicError,
  toRecordEvent,
} from '../../../shared/compat/clinic/mapping.js';
import { clinicQueueRoute } from '../../../shared/compat/clinic/routes.js';
import { ConflictError, NotFoundError, ValidationError } from '../../../shared/errors.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';
import { pushBatch } from '../../../shared/usecases/push.js';
import { defaultScopeOf } from '../../../shared/usecases/scopes.js';
import { getRecordEvent } from '../../../shared/usecases/sync-status.js';

/** Document 004 §1: one queued operation → one RECORD_* event through the push use case. */
export const clinicQueue = endpoint(
  clinicQueueRoute,
  async ({ app: fieldsync, tenant, principal, body }) => {
    const missing = missingFields(body);
    if (missing.length > 0) throw new ValidationError('the operation is incomplete', missing);
    const schemas = await fieldsync.recordSchemas(tenant);
    const collection = collectionOf(body.resourceType, (name) => schemas.lookup(name).kind === 'collection');
    const eventId = eventIdOfRequest(body);
    // The document's records carry no clinic: a new one goes to the caller's one granted clinic.
    const scope =
      body.operation === 'CREATE'
        ? await defaultScopeOf(fieldsync, tenant, principal, collection)
        : undefined;
    const pushed = await pushBatch(fieldsync, {
      tenant,
      principal,
      body: { deviceId: body.deviceId, events: [toRecordEvent(body, eventId, collection, scope)] },
    });
    // No Idempotency-Key is passed: the push is always 'accepted' (the item id itself makes a re-send a duplicate).
    if (pushed.kind !== 'accepted') throw new Error('unexpected replay of a push without an Idempotency-Key');
    const { response } = pushed;
    const rejection = response.rejected[0];
    if (rejection?.code === 'EVENT_ID_REUSED') {
      throw new ConflictError('this item id was already used with another operation', 'EVENT_ID_REUSED');
    }
    if (rejection) {
      throw new ValidationError(`the operation is invalid (${rejection.code}): ${rejection.message}`, [
        ...rejectionErrors(rejection),
      ]);
    }
    const answer = { id: body.id ?? eventId, eventId };
    if (response.accepted === 1) {
      return { status: 201, body: { ...answer, status: 'PENDING', message: 'Operation queued for sync' } };
    }
    // A duplicate: the item was queued before; say where it stands (someone else's identical item: synced).
    const row = await getRecordEvent(fieldsync, tenant, principal, eventId).catch((error: unknown) => {
      if (error instanceof NotFoundError) return undefined;
      throw error;
    });
    return {
      status: 200,
      body: { ...answer, status: row ? itemStatus(row) : 'SYNCED', message: 'Operation already queued' },
    };
  },
  { renderError: renderClinicError },
);

app.http(clinicQueueRoute.name, httpOptions(clinicQueueRoute, clinicQueue));
