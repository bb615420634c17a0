import { app } from '@azure/functions';
import { isManager } from '../../../shared/auth/principal.js';
import {
  eventIdOfItem,
  renderClinicError,
  resolutionFor,
  resolveAnswer,
} from '../../../shared/compat/clinic/mapping.js';
import { clinicResolveRoute } from '../../../shared/compat/clinic/routes.js';
import { ConflictError, NotFoundError } from '../../../shared/errors.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';
import { resolveConflict } from '../../../shared/usecases/conflicts.js';
import { getRecordEvent } from '../../../shared/usecases/sync-status.js';

/**
 * Document 004 §4: resolve an item's conflict through the conflict use case (the rules: resolutionFor in
 * shared/compat/clinic/mapping.ts; docs/compat/clinic.md). A manager decides, also over a strategy's result. The
 * item's own user may discard their offline change (SERVER_WINS) or flag it (MANUAL); what the document says
 * "requires admin approval" (CLIENT_WINS) is recorded as a request on the conflict, which stays OPEN in the
 * managers' inbox, and answered 200 with status CONFLICT until a manager decides.
 */
export const clinicResolve = endpoint(
  clinicResolveRoute,
  async ({ app: fieldsync, tenant, principal, params, query }) => {
    const row = await getRecordEvent(fieldsync, tenant, principal, eventIdOfItem(params.id));
    const conflict = row.conflict
      ? await fieldsync.conflicts.get(tenant, row.conflict.conflictId)
      : undefined;
    if (!conflict) throw new NotFoundError(`item ${params.id} has no conflict`);
    const manager = isManager(principal);
    const decision = resolutionFor(query.resolution, conflict, manager);
    if (decision === 'refused') {
      throw new ConflictError(
        `a manager already handled the conflict (${conflict.status}, ${conflict.resolution})`,
        'CONFLICT_RESOLVED',
      );
    }
    if (query.resolution !== 'MANUAL' && (decision === 'requested' || (decision === 'kept' && !manager))) {
      // A field user's ask stays on the conflict for the manager who reviews it (the latest ask wins); one that
      // matches what already holds is answered resolved, the rest awaits approval.
      const after =
        conflict.status === 'OPEN'
          ? await fieldsync.conflicts.request(tenant, conflict.id, query.resolution, principal.userId)
          : conflict;
      return { status: 200, body: resolveAnswer(params.id, query.resolution, after, decision) };
    }
    if (decision === 'SERVER_WINS' || decision === 'CLIENT_WINS') {
      const after = await resolveConflict(fieldsync, tenant, principal, conflict.id, {
        resolution: decision,
      });
      return { status: 200, body: resolveAnswer(params.id, query.resolution, after, 'decided') };
    }
    const outcome = decision === 'kept' ? 'kept' : 'flagged';
    return { status: 200, body: resolveAnswer(params.id, query.resolution, conflict, outcome) };
  },
  { renderError: renderClinicError },
);

app.http(clinicResolveRoute.name, httpOptions(clinicResolveRoute, clinicResolve));
