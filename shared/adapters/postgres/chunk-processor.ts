import type pg from 'pg';
import type { EventPrecheck, Tenant } from '../../ports.js';
import { ChunkEngine } from '../../usecases/apply-chunk.js';
import { PostgresChunkStore } from './chunk-store.js';

/**
 * The chunk engine (shared/usecases/apply-chunk.ts) on the Postgres chunk store: composition only, no rule
 * and no SQL here. Kept under this name for the callers that build a processor of their own (tests,
 * tools); the composition root builds the same pair.
 */
export class PostgresChunkProcessor extends ChunkEngine {
  constructor(poolFor: (tenant: Tenant) => pg.Pool, precheck: EventPrecheck) {
    super(new PostgresChunkStore(poolFor), precheck);
  }
}
