import { app, type InvocationContext } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { queueLagMs, recordQueueLag } from '../shared/observability.js';
import { processSyncChunk } from '../shared/usecases/process-chunk.js';

/**
 * Service Bus trigger: applies one chunk of events. One message per invocation (cardinality one). A chunk
 * that fails for an infrastructure reason is completed and re-sent for later with back-off
 * (processSyncChunk); a thrown error (no copy could be scheduled, nor the events marked FAILED) means
 * "redeliver", and after the queue's MaxDeliveryCount the message is dead-lettered and stays there for
 * `npm run dlq -- replay`: no function consumes the dead-letter subqueue.
 */
export async function processSyncChunkMessage(message: unknown, context: InvocationContext): Promise<void> {
  const fieldsync = getApp();
  const lag = queueLagMs(context.triggerMetadata?.enqueuedTimeUtc);
  if (lag !== undefined) recordQueueLag(lag);
  const deliveryCount = Number(context.triggerMetadata?.deliveryCount ?? 1);
  const messageId = context.triggerMetadata?.messageId;
  await processSyncChunk(
    {
      ...fieldsync,
      log: fieldsync.log.child({
        invocationId: context.invocationId,
        messageId,
      }),
    },
    message,
    {
      messageId: typeof messageId === 'string' && messageId !== '' ? messageId : undefined,
      deliveryCount,
      maxDeliveryCount: fieldsync.config.queue.maxDeliveryCount,
      retry: fieldsync.config.queue.retry,
    },
  );
}

app.serviceBusQueue('processSyncChunk', {
  connection: 'ServiceBusConnection',
  queueName: '%SYNC_QUEUE_NAME%',
  cardinality: 'one',
  handler: processSyncChunkMessage,
});
