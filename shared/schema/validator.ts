import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { jsonPath } from '../contracts/common.js';
import { scopeValueSchema } from '../contracts/scopes.js';
import type { FieldError } from '../errors.js';
import { newAjv } from './ajv.js';
import { type CollectionDefinition, propertiesOf, requiredOf } from './definition.js';

/** What push-time validation needs to know of one collection name in a tenant (SPEC v1.1 "Record events"). */
export type CollectionLookup =
  | { kind: 'unknown' }
  /** A v1 entity of the oil-gas pack: written by the v1 events (`writtenBy` says which), never by RECORD_*. */
  | { kind: 'builtin'; writtenBy: string }
  | { kind: 'collection'; validator: CollectionValidator };

/** A tenant's collections as push sees them: pure lookups, no I/O (the use case loads and caches them). */
export interface RecordSchemas {
  schemaVersion: number;
  lookup(collection: string): CollectionLookup;
}

/**
 * The compiled schema of one version of one collection. Errors carry paths relative to the record's fields
 * (`patientId`, `location.x`); callers prefix them (`events[2].payload.changes.`).
 */
export interface CollectionValidator {
  /** A whole record's fields (RECORD_CREATED `data`): the full schema, required fields included. */
  validateData(data: Record<string, unknown>): FieldError[];
  /**
   * Some fields (RECORD_UPDATED `changes`): each against its property's schema. `null` clears a field: allowed
   * for a field not in `required`, or one whose schema accepts null. A field the schema does not declare is
   * refused when `additionalProperties` is false, checked against it when it is a schema, allowed otherwise.
   */
  validateChanges(changes: Record<string, unknown>): FieldError[];
  /**
   * A stored record's fields as clients see them: a field an update cleared (`null` where the field's schema
   * does not accept null) is left out, so a pulled record is valid for the schema GET /v1/schema serves.
   * A field whose schema accepts null keeps its null.
   */
  present(data: Record<string, unknown>): Record<string, unknown>;
}

/** At most this many field errors per record: enough to fix it, bounded for the rejection stored. */
const MAX_ERRORS = 20;

/** `/location/x` → ['location', 'x'] (JSON Pointer unescaped; digit-only segments are array indexes). */
const pointerSegments = (pointer: string): (string | number)[] =>
  pointer
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));

/** Ajv errors as field errors relative to the validated value, under `base` segments. */
function toFieldErrors(errors: ErrorObject[] | null | undefined, base: (string | number)[]): FieldError[] {
  return (errors ?? []).map((e) => {
    const segments = [...base, ...pointerSegments(e.instancePath)];
    const params = e.params as { missingProperty?: string; additionalProperty?: string };
    if (e.keyword === 'required' && params.missingProperty) segments.push(params.missingProperty);
    if (e.keyword === 'additionalProperties' && params.additionalProperty) {
      segments.push(params.additionalProperty);
      return { path: jsonPath(segments), message: 'is not a field of this collection' };
    }
    const message = e.keyword === 'required' ? 'is required' : (e.message ?? 'is invalid');
    return { path: jsonPath(segments), message };
  });
}

const escapePointer = (name: string) => encodeURIComponent(name.replaceAll('~', '~0').replaceAll('/', '~1'));

/**
 * Compiles one collection definition (draft 2020-12, formats on). The root schema is compiled once; each
 * property's schema is taken from it by JSON Pointer (so `$ref`s to `#/$defs/…` keep working) and compiled
 * on first use. Throws when the schema does not compile (checkDefinition refuses such a schema before it is
 * stored, so this is a bug or a hand-edited row).
 */
export function compileCollection(
  definition: CollectionDefinition,
  id = 'urn:fieldsync:collection',
): CollectionValidator {
  const ajv = newAjv();
  const { $id: _ignored, ...schema } = definition.schema;
  ajv.addSchema(schema, id);
  const root = ajv.getSchema(id) as ValidateFunction;
  const properties = propertiesOf(schema);
  const required = new Set(requiredOf(schema));
  const additional = schema.additionalProperties;
  // A record's scope value must be one a grant can name (scopes.ts): else only managers could ever read it.
  const scopeField = definition.scope;
  const scopeErrors = (fields: Record<string, unknown>): FieldError[] => {
    if (!scopeField || !Object.hasOwn(fields, scopeField)) return [];
    const value = fields[scopeField];
    if (value === null || value === undefined || typeof value === 'object') return [];
    return scopeValueSchema.safeParse(String(value)).success
      ? []
      : [
          {
            path: jsonPath([scopeField]),
            message:
              'is the scope field: a scope value has 1–256 characters, no "/" or "," and no leading space (else no grant could name it)',
          },
        ];
  };
  const fieldValidators = new Map<string, ValidateFunction>();
  const fieldValidator = (field: string): ValidateFunction | undefined => {
    let v = fieldValidators.get(field);
    if (!v) {
      const pointer =
        field in properties
          ? `#/properties/${escapePointer(field)}`
          : typeof additional === 'object'
            ? '#/additionalProperties'
            : undefined;
      if (!pointer) return undefined;
      v = ajv.getSchema(`${id}${pointer}`);
      if (!v) return undefined;
      fieldValidators.set(field, v);
    }
    return v;
  };
  return {
    validateData(data) {
      const errors = root(data) ? [] : toFieldErrors(root.errors, []);
      return [...errors, ...scopeErrors(data)].slice(0, MAX_ERRORS);
    },
    validateChanges(changes) {
      const errors: FieldError[] = [];
      for (const [field, value] of Object.entries(changes)) {
        if (!(field in properties) && additional === false) {
          errors.push({ path: jsonPath([field]), message: 'is not a field of this collection' });
          continue;
        }
        const validate = fieldValidator(field);
        if (value === null) {
          // null clears the field: fine unless the field is required and its schema does not accept null.
          if (required.has(field) && !(validate?.(null) ?? true))
            errors.push({ path: jsonPath([field]), message: 'is required: it cannot be cleared' });
          continue;
        }
        if (validate && !validate(value)) errors.push(...toFieldErrors(validate.errors, [field]));
      }
      errors.push(...scopeErrors(changes));
      return errors.slice(0, MAX_ERRORS);
    },
    present(data) {
      if (!Object.values(data).includes(null)) return data;
      return Object.fromEntries(
        Object.entries(data).filter(
          ([field, value]) => value !== null || (fieldValidator(field)?.(null) ?? true),
        ),
      );
    },
  };
}

/** One stored collection version as the cache needs it. */
export interface CollectionVersion {
  name: string;
  version: number;
  definition: CollectionDefinition;
}

/**
 * Compiled validators keyed by (tenant, collection, version): a version is compiled once per process and
 * reused by every push until the collection changes (a new version is a new key). Bounded: past `max`
 * entries the least recently used goes (a tenant's next push compiles it again).
 */
export class ValidatorCache {
  private readonly entries = new Map<string, CollectionValidator>();
  /** How many compilations happened (tests prove "once per version" with it). */
  compilations = 0;
  constructor(private readonly max = 1000) {}

  get(tenantId: string, collection: CollectionVersion): CollectionValidator {
    const key = `${tenantId}\u0000${collection.name}\u0000${collection.version}`;
    let validator = this.entries.get(key);
    if (validator) {
      this.entries.delete(key); // re-insert: most recently used last
    } else {
      validator = compileCollection(
        collection.definition,
        `urn:fieldsync:${encodeURIComponent(tenantId)}:${collection.name}:${collection.version}`,
      );
      this.compilations += 1;
      if (this.entries.size >= this.max) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
    }
    this.entries.set(key, validator);
    return validator;
  }
}
