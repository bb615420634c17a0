import type { FieldError } from '../errors.js';
import { type CollectionDefinition, requiredOf, type SchemaNode, typesOf } from './definition.js';

/**
 * Keywords that only annotate: changing them never changes which records are valid, so they are free to
 * change (a new description, a better title, another default for clients to prefill).
 */
const ANNOTATIONS = new Set([
  'title',
  'description',
  'default',
  'examples',
  'deprecated',
  'readOnly',
  'writeOnly',
  '$comment',
  '$schema',
]);

/** Keywords compareNode() reasons about; any other keyword must stay exactly as it was. */
const HANDLED = new Set([
  'type',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'enum',
  'const',
  'minimum',
  'exclusiveMinimum',
  'maximum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'minProperties',
  'maxProperties',
  'pattern',
  'format',
  'multipleOf',
]);

/** Lower bounds: a new value may be lower (wider) or absent, never higher or newly set. */
const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
/** Upper bounds: a new value may be higher (wider) or absent, never lower or newly set. */
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;
/** Constraints whose containment cannot be decided cheaply: they may be removed, never added or changed. */
const EXACT = ['pattern', 'format', 'multipleOf'] as const;

const isObject = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
const canonical = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(canonical)
    : isObject(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canonical(v[k])]),
        )
      : v;
const show = (v: unknown) => JSON.stringify(v);

/**
 * Whether a collection's new definition is a backward-compatible change of its current one (SPEC v1.1
 * "Collections": a field may be added, optional or with a default, never removed, renamed or given another
 * type). Compatible means: every record valid under the old schema is valid under the new one, and every
 * change an app still in the field sends stays valid — so the rules refuse a removed property, a changed or
 * narrowed type, a new required property without a default, an optional property made required, removed enum
 * values, tightened bounds (a higher minimum, a lower maximum, a new or changed pattern/format/multipleOf), a
 * stricter additionalProperties, another scope field, and any change to a keyword these rules cannot reason
 * about (oneOf, if/then, $defs…). Annotations (title, description, default, examples) and the conflict
 * strategy may change freely. Returns every incompatibility with a path in the definition
 * (`schema.properties.diagnosis.type`); [] when compatible.
 */
export function incompatibilities(current: CollectionDefinition, next: CollectionDefinition): FieldError[] {
  const errors: FieldError[] = [];
  if ((current.scope ?? null) !== (next.scope ?? null)) {
    errors.push({
      path: 'scope',
      message: `the scope field cannot change (was ${current.scope ?? 'none'}, now ${next.scope ?? 'none'}): devices subscribe by it`,
    });
  }
  compareNode(current.schema, next.schema, 'schema', errors);
  return errors;
}

/** Compares one schema node with its next version, pushing what the next one refuses that the old allowed. */
function compareNode(old: unknown, next: unknown, path: string, errors: FieldError[]): void {
  if (!isObject(old) || !isObject(next)) {
    // Boolean schemas: `true` accepts everything; `false` nothing.
    if (old === next || next === true || (isObject(next) && Object.keys(next).length === 0)) return;
    if (old === false) return;
    if (!same(old, next)) errors.push({ path, message: 'the schema is stricter than before' });
    return;
  }
  compareTypes(old, next, path, errors);
  compareEnum(old, next, path, errors);
  for (const key of LOWER_BOUNDS) {
    const [a, b] = [old[key], next[key]];
    if (b === undefined || a === b) continue;
    if (typeof a !== 'number' || typeof b !== 'number' || b > a)
      errors.push({ path: `${path}.${key}`, message: `${key} tightened from ${show(a)} to ${show(b)}` });
  }
  for (const key of UPPER_BOUNDS) {
    const [a, b] = [old[key], next[key]];
    if (b === undefined || a === b) continue;
    if (typeof a !== 'number' || typeof b !== 'number' || b < a)
      errors.push({ path: `${path}.${key}`, message: `${key} tightened from ${show(a)} to ${show(b)}` });
  }
  for (const key of EXACT) {
    const [a, b] = [old[key], next[key]];
    if (b === undefined || same(a, b)) continue;
    errors.push({
      path: `${path}.${key}`,
      message: `${key} changed from ${show(a)} to ${show(b)}: values valid before may not be now`,
    });
  }
  compareObject(old, next, path, errors);
  if (old.items !== undefined || next.items !== undefined) {
    compareNode(old.items ?? true, next.items ?? true, `${path}.items`, errors);
  }
  for (const key of new Set([...Object.keys(old), ...Object.keys(next)])) {
    if (HANDLED.has(key) || ANNOTATIONS.has(key)) continue;
    if (!same(old[key], next[key]))
      errors.push({
        path: `${path}.${key}`,
        message: `${key} changed: only added optional fields, widened types, enums and bounds, and annotations may change`,
      });
  }
}

/** The next node must accept every type the old one did (integer is within number). */
function compareTypes(old: SchemaNode, next: SchemaNode, path: string, errors: FieldError[]): void {
  const before = typesOf(old);
  const after = typesOf(next);
  if (!after) return; // no type: any type
  if (!before) {
    errors.push({
      path: `${path}.type`,
      message: `type set to ${show(next.type)} where any type was allowed`,
    });
    return;
  }
  const lost = before.filter((t) => !after.includes(t) && !(t === 'integer' && after.includes('number')));
  if (lost.length > 0)
    errors.push({
      path: `${path}.type`,
      message: `type changed from ${show(old.type)} to ${show(next.type)}: ${lost.join(', ')} no longer allowed`,
    });
}

/** Enum (and const) values may be added, never removed; a new enum where there was none is a narrowing. */
function compareEnum(old: SchemaNode, next: SchemaNode, path: string, errors: FieldError[]): void {
  const values = (n: SchemaNode): unknown[] | undefined =>
    Array.isArray(n.enum) ? n.enum : 'const' in n ? [n.const] : undefined;
  const before = values(old);
  const after = values(next);
  if (!after) return;
  const key = Array.isArray(next.enum) ? 'enum' : 'const';
  if (!before) {
    errors.push({ path: `${path}.${key}`, message: `${key} added where any value was allowed` });
    return;
  }
  const removed = before.filter((v) => !after.some((w) => same(v, w)));
  if (removed.length > 0)
    errors.push({ path: `${path}.${key}`, message: `values removed: ${removed.map(show).join(', ')}` });
}

/** Properties, required and additionalProperties of an object node. */
function compareObject(old: SchemaNode, next: SchemaNode, path: string, errors: FieldError[]): void {
  const oldProps = isObject(old.properties) ? old.properties : {};
  const nextProps = isObject(next.properties) ? next.properties : {};
  for (const name of Object.keys(oldProps)) {
    if (!(name in nextProps)) {
      errors.push({
        path: `${path}.properties.${name}`,
        message: `property ${name} removed: apps still in the field send it`,
      });
    } else compareNode(oldProps[name], nextProps[name], `${path}.properties.${name}`, errors);
  }
  const required = new Set(requiredOf(old));
  for (const name of requiredOf(next)) {
    if (required.has(name)) continue;
    if (name in oldProps) {
      errors.push({
        path: `${path}.required`,
        message: `existing optional property ${name} made required: records and apps without it would be refused`,
      });
    } else {
      const property = nextProps[name];
      if (!isObject(property) || !('default' in property))
        errors.push({
          path: `${path}.required`,
          message: `new property ${name} is required without a default: apps still in the field do not send it`,
        });
    }
  }
  compareAdditional(old, next, path, errors);
}

/** additionalProperties may be loosened (false → schema → true), never made stricter. */
function compareAdditional(old: SchemaNode, next: SchemaNode, path: string, errors: FieldError[]): void {
  const a = old.additionalProperties ?? true;
  const b = next.additionalProperties ?? true;
  if (same(a, b) || b === true || a === false) return;
  if (isObject(a) && isObject(b)) compareNode(a, b, `${path}.additionalProperties`, errors);
  else
    errors.push({
      path: `${path}.additionalProperties`,
      message: `additionalProperties made stricter (${show(a)} → ${show(b)}): fields apps send would be refused`,
    });
}
