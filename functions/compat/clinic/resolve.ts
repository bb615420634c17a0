import { app } from '@azure/functions';
import { isManager } from '../../../shared/auth/principal.js';
import { itemToResolve } from '../../../shared/compat/clinic/items.js';
import { renderClinicError, resolutionFor, resolveAnswer } from '../../../shared/compat/clinic/mapping.js';
import { clinicResolveRoute } from '../../../shared/compat/clinic/routes.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../../shared/errors.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';
import { resolveConflict } from '../../../shared/usecases/conflicts.js';

/**
 * Document 004 §4: resolve an item's conflict through the conflict use case. The item's own user may discard their
 * offline change (SERVER_WINS) or flag it (MANUAL); CLIENT_WINS overwrites the server's data, which the document
 * says "requires admin approval": a manager's (403 APPROVAL_REQUIRED for a field user). Managers resolve any item.
 * A conflict the tenant's strategy settled is decided already: SERVER_WINS keeps it (200), the rest is 409.
 * An id the server never gave (the client's local id) names the caller's last queued item in conflict (items.ts).
 */
export const clinicResolve = endpoint(
  clinicResolveRoute,
  async ({ app: fieldsync, tenant, principal, params, query }) => {
    const row = await itemToResolve(fieldsync, tenant, principal, params.id);
    const conflict = row.conflict
      ? await fieldsync.conflicts.get(tenant, row.conflict.conflictId)
      : undefined;
    if (!conflict) throw new NotFoundError(`item ${params.id} has no conflict`);
    if (query.resolution === 'CLIENT_WINS' && !isManager(principal)) {
      throw new ForbiddenError(
        'CLIENT_WINS overwrites the server’s data and needs a manager’s approval; ask MANUAL to flag it for review',
        'APPROVAL_REQUIRED',
      );
    }
    const decision = resolutionFor(query.resolution, conflict);
    if (decision === 'refused') {
      throw new ConflictError(
        `the conflict is already resolved (${conflict.resolution}${conflict.resolvedBy ? '' : ', by the tenant’s strategy'})`,
        'CONFLICT_RESOLVED',
      );
    }
    const after =
      decision === 'SERVER_WINS' || decision === 'CLIENT_WINS'
        ? await resolveConflict(fieldsync, tenant, principal, conflict.id, { resolution: decision })
        : conflict;
    return { status: 200, body: resolveAnswer(params.id, query.resolution, after) };
  },
  { renderError: renderClinicError },
);

app.http(clinicResolveRoute.name, httpOptions(clinicResolveRoute, clinicResolve));
