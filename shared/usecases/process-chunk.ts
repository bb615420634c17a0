import { syncChunkMessageSchema } from '../contracts/messages.js';
import type { Logger } from '../logger.js';
import type { ChunkProcessor, ChunkSummary, DeviceStatusStore, EventLog, TenantRegistry } from '../ports.js';
import { recordOutcomes } from '../observability.js';
import { describeError } from '../redact.js';

export interface ProcessDeps {
  /** Runs every check outside the database itself (the photo precheck is its constructor dependency). */
  tenants: TenantRegistry;
  processor: ChunkProcessor;
  eventLog: EventLog;
  devices: DeviceStatusStore;
  log: Logger;
}

export interface Delivery {
  deliveryCount: number;
  maxDeliveryCount: number;
}

/**
 * Applies one chunk message. Business outcomes are recorded, never thrown; only an infrastructure failure
 * throws, so the queue redelivers the message and, after its last delivery, dead-letters it. On that last
 * delivery the events are marked FAILED first when the database allows it (the dead-letter handler does it
 * otherwise, once the database is back).
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
  const log = deps.log.child({ tenantId: tenant.id, batchId: message.batchId, deviceId: message.deviceId });
  let summary: ChunkSummary;
  try {
    summary = await deps.processor.process(tenant, message.batchId, message.eventIds);
  } catch (error) {
    if (delivery.deliveryCount >= delivery.maxDeliveryCount) {
      const failed = await deps.eventLog
        .markFailed(tenant, message.eventIds, {
          code: 'PROCESSING_FAILED',
          message: `gave up after ${delivery.deliveryCount} attempts: ${describeError(error).code ?? 'error'}`,
        })
        .catch(() => 0);
      log.error({ err: describeError(error), failed }, 'sync chunk failed on its last delivery');
      recordOutcomes(tenant.id, { FAILED: failed });
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

/**
 * A dead-lettered chunk: its events that are still PENDING become FAILED (retryable with POST
 * /v1/sync/retry). Throws while the tenant database is unreachable, so the dead letter is retried.
 */
export async function settleDeadLetter(
  deps: Pick<ProcessDeps, 'tenants' | 'eventLog' | 'log'>,
  body: unknown,
  reason: { deadLetterReason?: string | undefined; description?: string | undefined },
): Promise<number> {
  const parsed = syncChunkMessageSchema.safeParse(body);
  if (!parsed.success) return 0;
  const tenant = await deps.tenants.find(parsed.data.tenantId);
  if (!tenant) return 0;
  const failed = await deps.eventLog.markFailed(tenant, parsed.data.eventIds, {
    code: 'PROCESSING_FAILED',
    message: `dead-lettered (${reason.deadLetterReason ?? 'unknown reason'})${
      reason.description ? `: ${reason.description.slice(0, 200)}` : ''
    }`,
  });
  deps.log.warn(
    { tenantId: tenant.id, batchId: parsed.data.batchId, failed },
    'dead-lettered sync chunk settled',
  );
  return failed;
}
