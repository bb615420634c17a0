import { z } from 'zod';
import { isoDateSchema, isoDateTimeSchema } from './common.js';
import { collectionNameSchema, deviceIdSchema } from './events.js';
import { equipmentSchema, wellSchema } from './reference-data.js';
import { scopeValueSchema } from './scopes.js';

/** A comma list of a query parameter (`a,b`), trimmed, empty items dropped, each checked by `item`; ≥ 1 item. */
const commaList = (item: z.ZodType<string, string>, max: number) =>
  z
    .string()
    .max(64 * 1024)
    .transform((text) => [
      ...new Set(
        text
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    ])
    // An empty list would silently sync nothing (a typo, a client bug): name one, or omit the parameter.
    .pipe(z.array(item).min(1, 'name at least one, or leave the parameter out for the default').max(max));

export const pullQuerySchema = z.object({
  deviceId: deviceIdSchema,
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
  collections: commaList(collectionNameSchema, 200)
    .optional()
    .describe(
      'Comma list of the collections whose records this device holds (default: every collection of the ' +
        "tenant's schema). v1 entities always come.",
    ),
  scopes: commaList(scopeValueSchema, 1000)
    .optional()
    .describe(
      "Comma list of the scopes (values of the collections' scope fields) this device holds (default: every " +
        'scope the user may read). Scopes the user may not read are left out silently.',
    ),
});

export const userEntitySchema = z.object({
  id: z.string(),
  displayName: z.string(),
  email: z.string().nullable(),
  role: z.enum(['OPERATOR', 'MANAGER', 'ADMIN']),
  updatedAt: isoDateTimeSchema,
});
export type UserEntity = z.infer<typeof userEntitySchema>;

export const productionEntitySchema = z.object({
  id: z.uuid(),
  wellId: z.string(),
  productionDate: isoDateSchema,
  oilVolume: z.number().nullable(),
  gasVolume: z.number().nullable(),
  waterVolume: z.number().nullable(),
  tubingPressure: z.number().nullable(),
  casingPressure: z.number().nullable(),
  chokeSize: z.number().nullable(),
  runtime: z.number().nullable(),
  notes: z.string().nullable(),
  updatedAt: isoDateTimeSchema,
});
export type ProductionEntity = z.infer<typeof productionEntitySchema>;

export const ENTITY_TYPES = ['well', 'equipment', 'user', 'production'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/** A record of a collection as a pull sends it (SPEC v1.1 "Scopes"). */
export const recordEntitySchema = z.object({
  collection: z.string(),
  id: z.string(),
  version: z.number().int(),
  data: z.record(z.string(), z.unknown()),
  updatedAt: isoDateTimeSchema,
});
export type RecordEntity = z.infer<typeof recordEntitySchema>;

/**
 * A deletion: a v1 entity `{type, id}`, or a record `{type: 'RECORD', collection, id}` — deleted, or no
 * longer in the device's collections and scopes (its scope changed, a grant was removed, the device asked
 * for less). Never more than the id.
 */
export const pullDeletionSchema = z.union([
  z.object({ type: z.enum(ENTITY_TYPES), id: z.string() }),
  z.object({ type: z.literal('RECORD'), collection: z.string(), id: z.string() }),
]);
export type PullDeletion = z.infer<typeof pullDeletionSchema>;

export const pullResponseSchema = z.object({
  tenantId: z.string(),
  wells: z.array(wellSchema),
  equipment: z.array(equipmentSchema),
  users: z.array(userEntitySchema),
  production: z.array(productionEntitySchema),
  records: z
    .array(recordEntitySchema)
    .describe("Records of the device's collections and scopes (snapshot, then changes)"),
  deleted: z.array(pullDeletionSchema),
  schemaVersion: z
    .number()
    .int()
    .min(0)
    .describe("The tenant's sync schema version (GET /v1/schema); 0 before any collection"),
  nextCursor: z.string(),
  hasMore: z.boolean(),
  serverTime: isoDateTimeSchema,
  pendingEvents: z.number().int(),
});
export type PullResponse = z.infer<typeof pullResponseSchema>;
