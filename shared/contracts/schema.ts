import { z } from 'zod';
import { STRATEGIES } from './conflicts.js';
import { collectionNameSchema } from './events.js';

/** A field name of a collection's records (a top-level property of its JSON Schema). */
export const fieldNameSchema = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,63}$/,
    'must be a field name: a letter or "_", then up to 63 letters, digits or "_"',
  );

/** A collection's conflict strategy (SPEC v1.1 "Collections"): a default and optional per-field overrides. */
export const collectionConflictSchema = z
  .object({
    strategy: z.enum(STRATEGIES),
    fields: z.record(fieldNameSchema, z.enum(STRATEGIES)).optional(),
  })
  .strict();
export type CollectionConflict = z.infer<typeof collectionConflictSchema>;

/**
 * Body of `PUT /v1/schema/collections/{name}` (SPEC v1.1 "Collections"): the JSON Schema (draft 2020-12) of
 * the records' fields, the optional scope field, the optional conflict strategy (default LWW). The shape is
 * checked here; what the JSON Schema says is checked by shared/schema/definition.ts (checkDefinition).
 */
export const collectionDefinitionSchema = z
  .object({
    schema: z
      .record(z.string(), z.unknown())
      .describe('JSON Schema (draft 2020-12) of the record fields: `type: object` with `properties`'),
    scope: fieldNameSchema
      .optional()
      .describe('The field whose value devices subscribe to (a declared string or integer property)'),
    conflict: collectionConflictSchema.optional(),
  })
  .strict();
export type CollectionDefinition = z.infer<typeof collectionDefinitionSchema>;

export const collectionParamsSchema = z.object({ name: collectionNameSchema });

/** One collection as GET /v1/schema and PUT answer it. */
export const collectionSchema = z.object({
  name: z.string(),
  version: z.number().int().min(1).describe("Counts this collection's accepted changes"),
  schema: z.record(z.string(), z.unknown()),
  scope: z.string().nullable(),
  conflict: collectionConflictSchema,
  pack: z.string().nullable().describe('The pack that installed it; null when a tenant admin defined it'),
  builtin: z
    .boolean()
    .describe(
      'A v1 entity (oil-gas pack): served by the v1 routes and written by the v1 events, not RECORD_*',
    ),
  writtenBy: z.string().optional().describe('For a builtin collection: which v1 events and routes write it'),
});
export type Collection = z.infer<typeof collectionSchema>;

/** Body of GET /v1/schema: what this tenant syncs. */
export const tenantSchemaSchema = z.object({
  schemaVersion: z
    .number()
    .int()
    .min(0)
    .describe("The tenant's schema version: counts every accepted change of any collection (0: none)"),
  packs: z.array(z.string()),
  collections: z.array(collectionSchema),
});
export type TenantSchema = z.infer<typeof tenantSchemaSchema>;
