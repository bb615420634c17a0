import { z } from 'zod';
import { tenantIdSchema } from '../auth/principal.js';
import { deviceIdSchema } from './events.js';

/** The queue message between the push route and the processor (events by reference). */
export const syncChunkMessageSchema = z.object({
  tenantId: tenantIdSchema,
  batchId: z.uuid(),
  deviceId: deviceIdSchema,
  /**
   * Absent (a push's message): every event of the batch still PENDING when the chunk runs — a batch holds at
   * most 1000 events, so it is one chunk, and the message stays a few hundred bytes whatever the batch size.
   * Present (a retry's message): those events of the batch.
   */
  eventIds: z.array(z.uuid()).min(1).max(1000).optional(),
  reason: z.enum(['push', 'retry', 'replay']),
  /**
   * Which attempt this copy is (absent = 1): a chunk that failed for an infrastructure reason is re-sent
   * later with attempt + 1 (shared/sync/backoff.ts); a replayed dead letter starts again at 1.
   */
  attempt: z.number().int().min(1).max(10_000).optional(),
});
