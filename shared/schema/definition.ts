import type { CollectionDefinition } from '../contracts/schema.js';
import type { FieldError } from '../errors.js';
import { newAjv } from './ajv.js';

export {
  collectionDefinitionSchema,
  type CollectionDefinition,
  type CollectionConflict,
} from '../contracts/schema.js';

/** A JSON Schema node, as far as these rules read it. */
export type SchemaNode = Record<string, unknown>;

const isObject = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The JSON types a schema node allows (`type` as a string or a list); undefined when it does not say. */
export function typesOf(node: unknown): string[] | undefined {
  if (!isObject(node)) return undefined;
  const t = node.type;
  if (typeof t === 'string') return [t];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === 'string');
  return undefined;
}

/** The declared top-level properties of a collection's schema ({} when none). */
export const propertiesOf = (schema: SchemaNode): Record<string, SchemaNode> =>
  (isObject(schema.properties) ? schema.properties : {}) as Record<string, SchemaNode>;

/** The names in a node's `required` list. */
export const requiredOf = (node: SchemaNode): string[] =>
  Array.isArray(node.required) ? node.required.filter((r): r is string => typeof r === 'string') : [];

// One Ajv for meta-checks only (validateSchema compiles nothing, so it holds nothing per tenant).
let metaAjv: ReturnType<typeof newAjv> | undefined;

/**
 * Checks a collection definition (SPEC v1.1 "Collections") beyond its shape: the schema is valid JSON Schema
 * draft 2020-12 (Ajv's meta-schema) and compiles; it describes an object (`type: "object"`) with
 * `properties`; `$id` is not set (the server names compiled schemas itself) and `$ref` stays inside the
 * document; the scope field is a declared property of type string or integer (its value becomes the text a
 * device subscribes to); per-field conflict strategies name declared properties. Returns every problem with a
 * path relative to the definition (`schema.properties`, `scope`, `conflict.fields.x`); [] when it is sound.
 */
export function checkDefinition(definition: CollectionDefinition): FieldError[] {
  const errors: FieldError[] = [];
  const { schema } = definition;
  if (schema.$schema !== undefined && schema.$schema !== DRAFT_2020_12) {
    // Ajv would throw on a dialect it has no meta-schema for; say what is expected instead.
    return [{ path: 'schema.$schema', message: `must be ${DRAFT_2020_12} (or left out)` }];
  }
  metaAjv ??= newAjv();
  let valid: boolean;
  try {
    valid = metaAjv.validateSchema(schema) as boolean;
  } catch (error) {
    // A nested $schema of another dialect, or anything else Ajv cannot even read: a client mistake (400).
    return [{ path: 'schema', message: `is not a draft 2020-12 JSON Schema: ${(error as Error).message}` }];
  }
  if (!valid) {
    for (const e of metaAjv.errors ?? []) {
      errors.push({ path: `schema${e.instancePath.replaceAll('/', '.')}`, message: e.message ?? 'invalid' });
    }
    return errors;
  }
  const known = metaAjv.formats;
  for (const format of formatsIn(schema)) {
    if (!(format in known))
      errors.push({
        path: 'schema',
        message: `format ${JSON.stringify(format)} is not one the server checks`,
      });
  }
  if (schema.$id !== undefined)
    errors.push({ path: 'schema.$id', message: 'must not be set: the server names the schema' });
  const refs = externalRefs(schema);
  for (const ref of refs)
    errors.push({ path: 'schema', message: `$ref ${ref} must point inside this schema (start with "#")` });
  if (schema.type !== 'object')
    errors.push({ path: 'schema.type', message: 'must be "object": a record is an object of fields' });
  if (!isObject(schema.properties) || Object.keys(schema.properties).length === 0) {
    errors.push({ path: 'schema.properties', message: 'must declare the record fields' });
  }
  const properties = propertiesOf(schema);
  for (const name of Object.keys(properties)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(name))
      errors.push({
        path: `schema.properties`,
        message: `field name ${JSON.stringify(name)} must be a letter or "_", then up to 63 letters, digits or "_"`,
      });
  }
  for (const name of requiredOf(schema)) {
    if (!(name in properties))
      errors.push({ path: 'schema.required', message: `names ${name}, which is not a declared property` });
  }
  if (definition.scope !== undefined) {
    const property = properties[definition.scope];
    const types = typesOf(property);
    if (!property)
      errors.push({ path: 'scope', message: `${definition.scope} is not a declared property of the schema` });
    else if (
      !types ||
      types.some((t) => t !== 'string' && t !== 'integer' && t !== 'null') ||
      !types.some((t) => t !== 'null')
    ) {
      errors.push({ path: 'scope', message: `${definition.scope} must be of type string or integer` });
    }
  }
  for (const field of Object.keys(definition.conflict?.fields ?? {})) {
    if (!(field in properties))
      errors.push({
        path: `conflict.fields.${field}`,
        message: `${field} is not a declared property of the schema`,
      });
  }
  if (errors.length === 0) {
    try {
      newAjv().compile(schema);
    } catch (error) {
      errors.push({ path: 'schema', message: `does not compile: ${(error as Error).message}` });
    }
  }
  return errors;
}

/** The draft every collection schema is written in (SPEC v1.1). */
export const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** Every `format` value in the schema (an unknown one would silently check nothing). */
function formatsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) formatsIn(item, out);
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if (key === 'format' && typeof value === 'string') out.push(value);
      else if (key !== 'enum' && key !== 'const' && key !== 'default' && key !== 'examples')
        formatsIn(value, out);
    }
  }
  return out;
}

/** Every `$ref` in the schema that does not point inside it. */
function externalRefs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const item of node) externalRefs(item, out);
  else if (isObject(node)) {
    for (const [key, value] of Object.entries(node)) {
      if ((key === '$ref' || key === '$dynamicRef') && typeof value === 'string' && !value.startsWith('#'))
        out.push(value);
      else externalRefs(value, out);
    }
  }
  return out;
}
