import type { ZodType } from 'zod';
import type { Principal } from '../auth/principal.js';
import { type Conflict, MERGEABLE_FIELDS, type ResolveBody } from '../contracts/conflicts.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { ConflictStore, Tenant } from '../ports.js';

/**
 * A manager settles a conflict held for review: SERVER_WINS keeps the record as it is, CLIENT_WINS writes
 * the device's values, MERGED writes the manager's values — one per conflicting field, each checked against
 * the record's own field schema. The decision is stored with who made it and when, and `resolvedValue` is
 * always what the record holds afterwards: a conflict is resolved against the record's current values, which
 * another resolution or a newer write may have changed since the conflict was recorded (docs/architecture.md
 * "Conflicts"). Errors: NotFoundError (no such conflict), ValidationError (MERGED values, with paths
 * `merged.<field>`), ConflictError CONFLICT_RESOLVED (already resolved).
 */
export async function resolveConflict(
  deps: { conflicts: ConflictStore },
  tenant: Tenant,
  principal: Principal,
  conflictId: string,
  body: ResolveBody,
): Promise<Conflict> {
  const conflict = await deps.conflicts.get(tenant, conflictId);
  if (!conflict) throw new NotFoundError(`no conflict ${conflictId}`);
  let values: Record<string, unknown> = {};
  if (body.resolution === 'CLIENT_WINS') values = conflict.clientValue;
  if (body.resolution === 'MERGED') values = checkMerged(conflict, body.merged ?? {});
  return deps.conflicts.resolve(tenant, conflictId, body.resolution, values, principal.userId);
}

function checkMerged(conflict: Conflict, merged: Record<string, unknown>): Record<string, unknown> {
  const schemas = MERGEABLE_FIELDS[conflict.recordType] as Record<string, ZodType>;
  const errors: { path: string; message: string }[] = [];
  const values: Record<string, unknown> = {};
  for (const field of conflict.fields) {
    if (!Object.hasOwn(merged, field)) {
      errors.push({ path: `merged.${field}`, message: 'required: a value for every conflicting field' });
      continue;
    }
    const schema = schemas[field];
    const parsed = schema?.safeParse(merged[field]);
    if (!parsed?.success) {
      errors.push({
        path: `merged.${field}`,
        message: parsed?.error.issues[0]?.message ?? 'not a field of this record',
      });
    } else values[field] = parsed.data;
  }
  for (const field of Object.keys(merged)) {
    if (!conflict.fields.includes(field))
      errors.push({ path: `merged.${field}`, message: 'not a conflicting field' });
  }
  if (errors.length) throw new ValidationError('the merged values are invalid', errors);
  return values;
}
