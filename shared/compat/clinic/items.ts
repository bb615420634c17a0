/**
 * Which queue item a clinic route's path id names, over the sync-status use cases (the pure rules are in
 * mapping.ts). docs/compat/clinic.md "Item ids".
 */
import type { App } from '../../app.js';
import type { Principal } from '../../auth/principal.js';
import { NotFoundError } from '../../errors.js';
import type { RecordEventRow } from '../../usecases/ports/event-log.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import { findRecordEvent, latestPushOf } from '../../usecases/sync-status.js';
import { awaitsDecision, eventIdOfItem, itemOfLastQueue } from './mapping.js';

/**
 * The item `PATCH /sync/resolve/{id}` resolves: the item of that id (its own user's or, for a manager, any —
 * someone else's is NotFoundError); when the tenant has no item of that id (the document's client sends its
 * local id), the caller's own item of their most recent queue request if process answers CONFLICT for it now
 * (mapping.ts itemOfLastQueue, awaitsDecision). Never another user's item through an unknown id; NotFoundError
 * when there is no such item or the choice would be a guess.
 */
export async function itemToResolve(
  app: Pick<App, 'eventLog' | 'conflicts'>,
  tenant: Tenant,
  principal: Principal,
  itemId: string,
): Promise<RecordEventRow> {
  const named = await findRecordEvent(app, tenant, principal, eventIdOfItem(itemId));
  if (named) return named;
  const item = itemOfLastQueue(await latestPushOf(app, tenant, principal));
  const conflict = item?.conflict ? await app.conflicts.get(tenant, item.conflict.conflictId) : undefined;
  if (!item || !conflict || !awaitsDecision(item, conflict)) {
    throw new NotFoundError(
      `no queued operation ${itemId}, and your most recent queued operation has no conflict awaiting your decision`,
    );
  }
  return item;
}
