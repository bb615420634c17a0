import type pg from 'pg';
import { PostgresChunkStore } from '../../shared/adapters/postgres/chunk-store.js';
import type { EventPrecheck } from '../../shared/usecases/ports/chunks.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { ChunkEngine } from '../../shared/usecases/apply-chunk.js';

/**
 * A chunk processor of a test's own: the chunk engine (shared/usecases/apply-chunk.ts) on the Postgres chunk
 * store, composed as shared/app.ts composes App.processor. Composed here, not in an adapter, because adapters
 * never import use cases (.dependency-cruiser.cjs, adapters-do-not-import-usecases).
 *
 * @param poolFor the tenant's pool (App.tenantPool).
 * @param precheck the photo check (createPhotoPrecheck on the store the test uses).
 */
export function postgresChunkEngine(
  poolFor: (tenant: Tenant) => pg.Pool,
  precheck: EventPrecheck,
): ChunkEngine {
  return new ChunkEngine(new PostgresChunkStore(poolFor), precheck);
}
