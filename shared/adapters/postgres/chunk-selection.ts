import type { ChunkSelection } from '../../usecases/ports/chunks.js';

/**
 * The WHERE condition on sync_events for a chunk's events and its one parameter (as `$1`): by ids when the
 * message names them (a retry), else every event of the batch (a push: `sync_events_batch_idx`).
 */
export function chunkCondition({ batchId, eventIds }: ChunkSelection): {
  where: string;
  param: string | string[];
} {
  return eventIds
    ? { where: 'id = any($1::uuid[])', param: eventIds }
    : { where: 'batch_id = $1::uuid', param: batchId };
}
