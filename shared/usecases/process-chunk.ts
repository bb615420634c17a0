import { syncChunkMessageSchema } from '../contracts/messages.js';
import type { Logger } from '../logger.js';
import type { ChunkProcessor, ChunkSummary } from './ports/chunks.js';
import type { DeviceStatusStore } from './ports/devices.js';
import type { EventLog } from './ports/event-log.js';
import type { EventQueue, OutgoingMessage, SyncChunkMessage } from './ports/queue.js';
import type { TenantRegistry } from './ports/tenancy.js';
import { recordOutcomes } from '../observability.js';
import { describeError } from '../redact.js';
import { chunkMessage } from './push.js';
import { type RetryPolicy, nextRetryDelaySeconds } from '../sync/backoff.js';

export interface ProcessDeps {
  /** Runs every check outside the database itself (the photo precheck is its constructor dependency). */
  tenants: TenantRegistry;
  processor: ChunkProcessor;
  eventLog: EventLog;
  devices: DeviceStatusStore;
  /** Where a failed chunk's later attempt is scheduled. */
  queue: Pick<EventQueue, 'schedule'>;
  log: Logger;
}

export interface Delivery {
  /** The delivered message's MessageId: the copy for the next attempt derives its own from it. */
  messageId: string | undefined;
  deliveryCount: number;
  maxDeliveryCount: number;
  /** The back-off schedule (config.queue.retry). */
  retry: RetryPolicy;
  /** Now; injected by tests. */
  now?: () => Date;
}

/**
 * The copy of a failed chunk for attempt `attempt`. Its MessageId is fixed by the delivered message and
 * the attempt, so a redelivery of the same message that schedules again is dropped by duplicate detection,
 * while every chain (a push, a retry, a replay: each has its own MessageId) gets its own copies.
 */
export function nextAttemptMessage(
  message: SyncChunkMessage,
  deliveredMessageId: string | undefined,
  attempt: number,
): OutgoingMessage {
  const origin = deliveredMessageId ?? chunkMessage(message).messageId;
  return chunkMessage({ ...message, attempt }, `${origin}|attempt|${attempt}`);
}

/**
 * Applies one chunk message. Business outcomes are recorded, never thrown. When the processor throws (an
 * infrastructure failure: the tenant database restarting, a network fault) the message is completed and a
 * copy is scheduled for later with attempt + 1, per the back-off schedule (shared/sync/backoff.ts; issue
 * 12 item 4), so an outage of up to `retry.spanSeconds` costs no FAILED event; the copy re-checks which
 * events are still PENDING, so it never applies one twice. Once the schedule is used up the events become
 * FAILED (retryable with POST /v1/sync/retry). This throws — the queue redelivers at once and, after
 * maxDeliveryCount deliveries, dead-letters the message — only when neither a copy could be scheduled nor
 * (on the last delivery or attempt) the events marked FAILED: the dead letter then stays in the
 * dead-letter queue, where the alert sees it and `npm run dlq -- replay` sends it back (docs/deploy.md).
 * Nothing consumes the dead-letter queue (issue 12 item 3).
 */
export async function processSyncChunk(
  deps: ProcessDeps,
  body: unknown,
  delivery: Delivery,
): Promise<ChunkSummary> {
  const parsed = syncChunkMessageSchema.safeParse(body);
  if (!parsed.success) {
    // A message no version of this app sends: redelivering cannot help. Settle it and say so.
    deps.log.error({ issues: parsed.error.issues.slice(0, 5) }, 'discarded a malformed sync message');
    return { processed: 0, byStatus: {}, deviceIds: [] };
  }
  const message = parsed.data;
  const tenant = await deps.tenants.find(message.tenantId);
  if (!tenant) {
    deps.log.error(
      { tenantId: message.tenantId, batchId: message.batchId },
      'sync message for an unknown tenant',
    );
    return { processed: 0, byStatus: {}, deviceIds: [] };
  }
  const attempt = message.attempt ?? 1;
  const log = deps.log.child({
    tenantId: tenant.id,
    batchId: message.batchId,
    deviceId: message.deviceId,
    attempt,
  });
  let summary: ChunkSummary;
  try {
    summary = await deps.processor.process(tenant, message.batchId, message.eventIds);
  } catch (error) {
    const delay = nextRetryDelaySeconds(delivery.retry, attempt);
    if (delay !== undefined) {
      const now = (delivery.now ?? (() => new Date()))();
      const at = new Date(now.getTime() + Math.round(delay * 1000));
      try {
        await deps.queue.schedule(nextAttemptMessage(message, delivery.messageId, attempt + 1), at);
        log.warn(
          { err: describeError(error), retryAt: at.toISOString(), delaySeconds: delay },
          'sync chunk failed; next attempt scheduled',
        );
        return { processed: 0, byStatus: {}, deviceIds: [] };
      } catch (scheduleError) {
        log.error({ err: describeError(scheduleError) }, 'could not schedule the next attempt');
      }
    }
    if (delay === undefined || delivery.deliveryCount >= delivery.maxDeliveryCount) {
      const failed = await deps.eventLog
        .markFailed(
          tenant,
          { batchId: message.batchId, eventIds: message.eventIds },
          {
            code: 'PROCESSING_FAILED',
            message: `gave up after ${attempt} attempt(s), ${delivery.deliveryCount} delivery(ies): ${
              describeError(error).code ?? 'error'
            }`,
          },
        )
        .catch(() => undefined);
      if (failed !== undefined) {
        log.error({ err: describeError(error), failed }, 'sync chunk given up: its events are FAILED');
        recordOutcomes(tenant.id, { FAILED: failed });
        return { processed: 0, byStatus: { FAILED: failed }, deviceIds: [] };
      }
      log.error(
        { err: describeError(error) },
        'sync chunk given up, events not marked FAILED: dead-lettering',
      );
    }
    throw error;
  }
  log.info({ processed: summary.processed, byStatus: summary.byStatus }, 'sync chunk processed');
  recordOutcomes(tenant.id, summary.byStatus);
  await Promise.all(
    summary.deviceIds.map(async (deviceId) => {
      try {
        const counts = await deps.eventLog.deviceCounts(tenant, deviceId);
        if (counts.pending === 0)
          await deps.devices.recordSynced(tenant.id, deviceId, new Date().toISOString());
      } catch (error) {
        // Status is derived data: the events are applied; a missed timestamp is not worth a redelivery.
        log.warn({ err: describeError(error) }, 'could not update device lastSyncAt');
      }
    }),
  );
  return summary;
}
