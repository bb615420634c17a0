/**
 * Ports: the tenant sync schema: collections (SPEC v1.1).
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
import type { CollectionDefinition } from '../../contracts/schema.js';
import type { FieldError } from '../../errors.js';
import type { Tenant } from './tenancy.js';

/** One stored collection of a tenant's sync schema (sync_collections, SPEC v1.1 "Collections"). */
export interface StoredCollection {
  name: string;
  /** Counts this collection's accepted changes (1 when created). */
  version: number;
  definition: CollectionDefinition;
  pack: string | null;
  builtin: boolean;
  /** For a builtin collection: which v1 events and routes write it. */
  writtenBy: string | null;
}

/** A tenant's sync schema: its version (max schema change; 0 when none) and its collections by name. */
export interface StoredSchema {
  schemaVersion: number;
  collections: StoredCollection[];
}

/** What to do with a collection, decided by the use case from its current stored state (or undefined). */
export type CollectionDecision =
  | { kind: 'write'; collection: Omit<StoredCollection, 'version'> }
  | { kind: 'unchanged' }
  | { kind: 'refused'; errors: FieldError[] };

/** The outcome of putCollection: the collection as it now is and what happened. */
export type PutCollectionResult =
  | { kind: 'created' | 'updated' | 'unchanged'; collection: StoredCollection; schemaVersion: number }
  | { kind: 'refused'; errors: FieldError[] };

/** The tenant's sync schema in its database (sync_collections + sync_schema_changes). */
export interface SchemaStore {
  /** The tenant's schema version alone: one cheap query, for caches keyed by it. */
  schemaVersion(tenant: Tenant): Promise<number>;
  /** The whole schema, collections ordered by name. */
  load(tenant: Tenant): Promise<StoredSchema>;
  /**
   * In one transaction, serialised with every other schema change of the tenant: reads the collection,
   * asks `decide`, and on 'write' stores it with version + 1 (1 when new) and appends a schema change (the
   * tenant's schema version + 1) naming `changedBy`.
   */
  putCollection(
    tenant: Tenant,
    name: string,
    decide: (current: StoredCollection | undefined) => CollectionDecision,
    changedBy: string,
  ): Promise<PutCollectionResult>;
}
