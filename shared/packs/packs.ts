import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { collectionNameSchema } from '../contracts/events.js';
import { collectionDefinitionSchema } from '../contracts/schema.js';

/** The packs shipped with the product (SPEC v1.1 "Collections"): data files beside this module. */
export const PACK_NAMES = ['oil-gas', 'facilities', 'clinic'] as const;
export type PackName = (typeof PACK_NAMES)[number];

/** One collection of a pack: a definition, or a builtin v1 entity with what writes it. */
export const packCollectionSchema = collectionDefinitionSchema.extend({
  builtin: z.boolean().optional(),
  writtenBy: z.string().optional(),
});

/** A pack file: shared/packs/<name>.json. */
export const packSchema = z
  .object({
    name: z.enum(PACK_NAMES),
    description: z.string(),
    collections: z.record(collectionNameSchema, packCollectionSchema),
  })
  .strict();
export type Pack = z.infer<typeof packSchema>;

/**
 * The folder holding the pack files: this module's own, from source or from dist/ (tsc copies the JSON
 * files into dist/shared/packs/, tsconfig.json `include`, so the deployment package has them).
 */
export const packsDir = (): string => dirname(fileURLToPath(import.meta.url));

/** Reads and checks one pack file; throws (a packaging bug) when it is missing or malformed. */
export function loadPack(name: PackName): Pack {
  const pack = packSchema.parse(JSON.parse(readFileSync(join(packsDir(), `${name}.json`), 'utf8')));
  if (pack.name !== name) throw new Error(`shared/packs/${name}.json names itself ${pack.name}`);
  return pack;
}
