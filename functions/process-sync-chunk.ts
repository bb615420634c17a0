import { app, type InvocationContext } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { queueLagMs, recordQueueLag } from '../shared/observability.js';
import { processSyncChunk } from '../shared/usecases/process-chunk.js';

/**
 * Service Bus trigger: applies one chunk of events. One message per invocation (cardinality one), so a
 * failure abandons only this message; a thrown error means "redeliver", and after the queue's
 * MaxDeliveryCount the message is dead-lettered.
 */
export async function processSyncChunkMessage(message: unknown, context: InvocationContext): Promise<void> {
  const fieldsync = getApp();
  const lag = queueLagMs(context.triggerMetadata?.enqueuedTimeUtc);
  if (lag !== undefined) recordQueueLag(lag);
  const deliveryCount = Number(context.triggerMetadata?.deliveryCount ?? 1);
  await processSyncChunk(
    {
      ...fieldsync,
      log: fieldsync.log.child({
        invocationId: context.invocationId,
        messageId: context.triggerMetadata?.messageId,
      }),
    },
    message,
    { deliveryCount, maxDeliveryCount: fieldsync.config.queue.maxDeliveryCount },
  );
}

app.serviceBusQueue('processSyncChunk', {
  connection: 'ServiceBusConnection',
  queueName: '%SYNC_QUEUE_NAME%',
  cardinality: 'one',
  handler: processSyncChunkMessage,
});
