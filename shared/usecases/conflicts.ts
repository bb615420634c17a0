import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ZodType } from 'zod';
import type { Principal } from '../auth/principal.js';
import { type Conflict, MERGEABLE_FIELDS, type ResolveBody } from '../contracts/conflicts.js';
import { NotFoundError, ValidationError } from '../errors.js';
import type { ConflictStore } from './ports/conflicts.js';
import type { Tenant } from './ports/tenancy.js';

/**
 * A manager handles a conflict of the inbox (status OPEN: held by MANUAL, or settled by a strategy and not reviewed;
 * SPEC v1.1 "Managers' console and review states"). ACKNOWLEDGED keeps a strategy's result (409 CONFLICT_HELD on a
 * conflict MANUAL holds: there is no result to keep). SERVER_WINS keeps the record as it is, CLIENT_WINS writes the
 * device's values, MERGED writes the manager's values — one per conflicting field, each checked against the
 * record's own field schema; on a strategy-settled conflict these override its result the same way. Who and when
 * are stored (reviewedBy/At, and resolvedBy/At for a decision that sets the values), and `resolvedValue` is
 * always what the record holds afterwards: a conflict is resolved against the record's current values, which
 * another resolution or a newer write may have changed since the conflict was recorded (docs/architecture.md
 * "Conflicts"). Errors: NotFoundError (no such conflict), ValidationError (MERGED values, with paths
 * `merged.<field>`), ConflictError CONFLICT_RESOLVED (a manager already handled it) or CONFLICT_HELD.
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
  if (body.resolution === 'MERGED') {
    const schemas =
      conflict.recordType === 'RECORD'
        ? await recordFieldSchemas(deps, tenant, conflict)
        : (MERGEABLE_FIELDS[conflict.recordType] as Record<string, FieldSchema>);
    values = checkMerged(conflict, body.merged ?? {}, schemas);
  }
  // The store checks the review state again under the conflict's row lock (two managers deciding at once).
  return deps.conflicts.resolve(tenant, conflictId, body.resolution, values, principal.userId);
}

/** What checkMerged needs of a field's schema: zod's safeParse, or an Ajv validator wrapped the same way. */
type FieldSchema = Pick<ZodType, 'safeParse'> | { safeParse: (value: unknown) => SafeResult };
type SafeResult =
  { success: true; data: unknown } | { success: false; error: { issues: { message: string }[] } };

const ajv = new Ajv2020({ allErrors: false, strict: false });

/**
 * The merge schemas of a RECORD conflict's fields: each checked against the collection's JSON Schema (Ajv, draft
 * 2020-12) as a one-field record with no required fields; `null` clears a field that is not required (SPEC v1.1);
 * `_deleted` (the record's liveness) is a boolean.
 */
async function recordFieldSchemas(
  deps: { conflicts: ConflictStore },
  tenant: Tenant,
  conflict: Conflict,
): Promise<Record<string, FieldSchema>> {
  const collection = conflict.recordKey.slice(0, conflict.recordKey.indexOf('/'));
  const schema = await deps.conflicts.collectionSchema(tenant, collection);
  const required = new Set(Array.isArray(schema?.required) ? (schema.required as string[]) : []);
  // Compiled per resolution: a manager's review is rare, and the collection's schema may have changed since.
  const validate = schema ? ajv.compile({ ...schema, required: [] }) : undefined;
  const ok = (data: unknown): SafeResult => ({ success: true, data });
  const fail = (message: string): SafeResult => ({ success: false, error: { issues: [{ message }] } });
  const schemas: Record<string, FieldSchema> = {
    _deleted: { safeParse: (v: unknown) => (typeof v === 'boolean' ? ok(v) : fail('must be a boolean')) },
  };
  for (const field of conflict.fields) {
    if (field === '_deleted') continue;
    schemas[field] = {
      safeParse: (value: unknown) => {
        if (value === null && !required.has(field)) return ok(null);
        if (!validate) return ok(value);
        return validate({ [field]: value })
          ? ok(value)
          : fail(
              validate.errors?.map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`).join('; ') ??
                'invalid',
            );
      },
    };
  }
  return schemas;
}

function checkMerged(
  conflict: Conflict,
  merged: Record<string, unknown>,
  schemas: Record<string, FieldSchema>,
): Record<string, unknown> {
  const errors: { path: string; message: string }[] = [];
  const values: Record<string, unknown> = {};
  for (const field of conflict.fields) {
    if (!Object.hasOwn(merged, field)) {
      errors.push({ path: `merged.${field}`, message: 'required: a value for every conflicting field' });
      continue;
    }
    const schema = Object.hasOwn(schemas, field) ? schemas[field] : undefined;
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
