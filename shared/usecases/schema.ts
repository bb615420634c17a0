import type { Collection, CollectionDefinition, TenantSchema } from '../contracts/schema.js';
import { ConflictError, type FieldError, ValidationError } from '../errors.js';
import { loadPack, PACK_NAMES, type PackName } from '../packs/packs.js';
import type { SchemaStore, StoredCollection, StoredSchema } from './ports/schema.js';
import type { Tenant } from './ports/tenancy.js';
import { incompatibilities } from '../schema/compat.js';
import { checkDefinition } from '../schema/definition.js';
import { type CollectionLookup, type RecordSchemas, ValidatorCache } from '../schema/validator.js';

/** A definition with its defaults filled in (conflict LWW), so "unchanged" compares like with like. */
const normalised = (d: CollectionDefinition): CollectionDefinition => ({
  schema: d.schema,
  ...(d.scope !== undefined ? { scope: d.scope } : {}),
  conflict: d.conflict ?? { strategy: 'LWW' },
});

const canonical = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(canonical)
    : typeof v === 'object' && v !== null
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
        )
      : v;
const sameDefinition = (a: CollectionDefinition, b: CollectionDefinition) =>
  JSON.stringify(canonical(normalised(a))) === JSON.stringify(canonical(normalised(b)));

/** A stored collection as the API shows it. */
export const collectionView = (c: StoredCollection): Collection => ({
  name: c.name,
  version: c.version,
  schema: c.definition.schema,
  scope: c.definition.scope ?? null,
  conflict: c.definition.conflict ?? { strategy: 'LWW' },
  pack: c.pack,
  builtin: c.builtin,
  ...(c.writtenBy ? { writtenBy: c.writtenBy } : {}),
});

/** The packs a schema holds collections of, in PACK_NAMES order (then any other name). */
const packsOf = (schema: StoredSchema): string[] => {
  const held = new Set(schema.collections.flatMap((c) => (c.pack ? [c.pack] : [])));
  return [
    ...PACK_NAMES.filter((p) => held.has(p)),
    ...[...held].filter((p) => !(PACK_NAMES as readonly string[]).includes(p)).sort(),
  ];
};

/** GET /v1/schema (SPEC v1.1 "Collections"): the tenant's schema version, packs and collections. */
export async function getSchema(deps: { schemas: SchemaStore }, tenant: Tenant): Promise<TenantSchema> {
  const schema = await deps.schemas.load(tenant);
  return {
    schemaVersion: schema.schemaVersion,
    packs: packsOf(schema),
    collections: schema.collections.map(collectionView),
  };
}

export interface PutCollectionOutcome {
  created: boolean;
  changed: boolean;
  collection: Collection;
  schemaVersion: number;
}

/**
 * PUT /v1/schema/collections/{name} (SPEC v1.1 "Collections"): creates a collection, or changes it when the
 * change is backward compatible (shared/schema/compat.ts). ValidationError (400) when the definition is not
 * a sound one (checkDefinition); ConflictError SCHEMA_INCOMPATIBLE (409) with every incompatibility as
 * `errors: [{path, message}]`; ConflictError BUILTIN_COLLECTION for a v1 entity. An identical definition
 * changes nothing (no version bump). A change bumps the collection's version and the tenant's schema version
 * in one transaction; the collection keeps the pack that installed it.
 */
export async function putCollection(
  deps: { schemas: SchemaStore },
  tenant: Tenant,
  name: string,
  definition: CollectionDefinition,
  changedBy: string,
): Promise<PutCollectionOutcome> {
  const problems = checkDefinition(definition);
  if (problems.length > 0) throw new ValidationError('the collection definition is invalid', problems);
  const result = await deps.schemas.putCollection(
    tenant,
    name,
    (current) => {
      if (!current)
        return {
          kind: 'write',
          collection: {
            name,
            definition: normalised(definition),
            pack: null,
            builtin: false,
            writtenBy: null,
          },
        };
      if (current.builtin)
        return {
          kind: 'refused',
          errors: [
            {
              path: 'name',
              message: `${name} is a builtin collection of the ${current.pack ?? 'oil-gas'} pack, defined by the v1 contract (${current.writtenBy ?? 'v1 events'})`,
            },
          ],
        };
      if (sameDefinition(current.definition, definition)) return { kind: 'unchanged' };
      const errors = incompatibilities(current.definition, definition);
      if (errors.length > 0) return { kind: 'refused', errors };
      return { kind: 'write', collection: { ...current, definition: normalised(definition) } };
    },
    changedBy,
  );
  if (result.kind === 'refused') {
    const builtin = result.errors.some((e) => e.path === 'name');
    throw new ConflictError(
      builtin
        ? `${name} is a builtin collection and cannot be changed`
        : `the change to ${name} is not backward compatible: ${result.errors.length} problem(s)`,
      builtin ? 'BUILTIN_COLLECTION' : 'SCHEMA_INCOMPATIBLE',
      undefined,
      result.errors,
    );
  }
  return {
    created: result.kind === 'created',
    changed: result.kind !== 'unchanged',
    collection: collectionView(result.collection),
    schemaVersion: result.schemaVersion,
  };
}

/** The outcome of installing packs: per collection, what happened. */
export interface PackInstall {
  installed: { pack: string; collection: string; outcome: 'created' | 'updated' | 'unchanged' }[];
}

/**
 * Installs packs into a tenant (tenant creation, `--pack`): each collection of each pack is created, left
 * as it is when identical, or upgraded when the shipped definition is a compatible change of the stored one.
 * Refused, with every reason as ConflictError PACK_CONFLICT: two chosen packs defining the same collection
 * (none of the shipped packs do), a collection already defined by another pack or by an
 * admin, an incompatible upgrade. Unknown pack names are a ValidationError. Safe to run again.
 */
export async function installPacks(
  deps: { schemas: SchemaStore },
  tenant: Tenant,
  packNames: readonly string[],
  changedBy: string,
): Promise<PackInstall> {
  const unknown = packNames.filter((p) => !(PACK_NAMES as readonly string[]).includes(p));
  if (unknown.length > 0) {
    throw new ValidationError(
      `unknown pack(s) ${unknown.join(', ')}; the packs are ${PACK_NAMES.join(', ')}`,
      [{ path: 'packs', message: `must be among ${PACK_NAMES.join(', ')}` }],
    );
  }
  const packs = [...new Set(packNames)].map((p) => loadPack(p as PackName));
  const owner = new Map<string, string>();
  const clashes: FieldError[] = [];
  for (const pack of packs) {
    for (const name of Object.keys(pack.collections)) {
      const other = owner.get(name);
      if (other)
        clashes.push({
          path: `packs.${pack.name}.${name}`,
          message: `${name} is defined by both ${other} and ${pack.name}`,
        });
      else owner.set(name, pack.name);
    }
  }
  if (clashes.length > 0)
    throw new ConflictError(
      'these packs cannot be combined in one tenant',
      'PACK_CONFLICT',
      undefined,
      clashes,
    );
  const installed: PackInstall['installed'] = [];
  const refused: FieldError[] = [];
  for (const pack of packs) {
    for (const [name, { builtin, writtenBy, ...definition }] of Object.entries(pack.collections)) {
      const result = await deps.schemas.putCollection(
        tenant,
        name,
        (current) => {
          const wanted = {
            name,
            definition: normalised(definition),
            pack: pack.name,
            builtin: builtin === true,
            writtenBy: writtenBy ?? null,
          };
          if (!current) return { kind: 'write', collection: wanted };
          if (current.pack !== pack.name)
            return {
              kind: 'refused',
              errors: [
                {
                  path: `packs.${pack.name}.${name}`,
                  message: `${name} already exists (${current.pack ? `pack ${current.pack}` : 'defined by an admin'})`,
                },
              ],
            };
          if (sameDefinition(current.definition, definition) && current.builtin === wanted.builtin)
            return { kind: 'unchanged' };
          const errors = current.builtin ? [] : incompatibilities(current.definition, definition);
          if (errors.length > 0)
            return {
              kind: 'refused',
              errors: errors.map((e) => ({
                path: `packs.${pack.name}.${name}.${e.path}`,
                message: e.message,
              })),
            };
          return { kind: 'write', collection: wanted };
        },
        changedBy,
      );
      if (result.kind === 'refused') refused.push(...result.errors);
      else installed.push({ pack: pack.name, collection: name, outcome: result.kind });
    }
  }
  if (refused.length > 0)
    throw new ConflictError('the packs could not be installed', 'PACK_CONFLICT', undefined, refused);
  return { installed };
}

/**
 * The tenant's collections as push-time validation needs them, compiled once per (tenant, collection,
 * version) and cached per tenant by schema version: each push asks the store for the schema version only
 * (one cheap query) and reloads the collections when it moved.
 */
export function createRecordSchemas(
  store: SchemaStore,
  cache = new ValidatorCache(),
): (tenant: Tenant) => Promise<RecordSchemas> {
  const byTenant = new Map<string, RecordSchemas>();
  return async (tenant) => {
    const version = await store.schemaVersion(tenant);
    const held = byTenant.get(tenant.id);
    if (held && held.schemaVersion === version) return held;
    const schema = await store.load(tenant);
    const collections = new Map(schema.collections.map((c) => [c.name, c]));
    const lookup = (name: string): CollectionLookup => {
      const c = collections.get(name);
      if (!c) return { kind: 'unknown' };
      if (c.builtin) return { kind: 'builtin', writtenBy: c.writtenBy ?? 'the v1 events' };
      return { kind: 'collection', validator: cache.get(tenant.id, c) };
    };
    const schemas: RecordSchemas = { schemaVersion: schema.schemaVersion, lookup };
    byTenant.set(tenant.id, schemas);
    return schemas;
  };
}
