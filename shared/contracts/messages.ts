import { z } from 'zod';
import { tenantIdSchema } from '../auth/principal.js';
import { deviceIdSchema } from './events.js';

/** The queue message between the push route and the processor (events by reference). */
export const syncChunkMessageSchema = z.object({
  tenantId: tenantIdSchema,
  batchId: z.uuid(),
  deviceId: deviceIdSchema,
  eventIds: z.array(z.uuid()).min(1).max(1000),
  reason: z.enum(['push', 'retry', 'replay']),
  /**
   * Which attempt this copy is (absent = 1): a chunk that failed for an infrastructure reason is re-sent
   * later with attempt + 1 (shared/sync/backoff.ts); a replayed dead letter starts again at 1.
   */
  attempt: z.number().int().min(1).max(10_000).optional(),
});
