import { app, type InvocationContext } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { settleDeadLetter } from '../shared/usecases/process-chunk.js';

/**
 * Service Bus trigger on the dead-letter subqueue: the chunk's events that are still PENDING become FAILED,
 * visible in the batch outcome and retryable with POST /v1/sync/retry. Throws (and is retried) while the
 * tenant database is down.
 */
export async function processDeadLetter(message: unknown, context: InvocationContext): Promise<void> {
  const fieldsync = getApp();
  const properties = (context.triggerMetadata?.applicationProperties ?? {}) as Record<string, unknown>;
  const metadata = context.triggerMetadata ?? {};
  await settleDeadLetter(
    { ...fieldsync, log: fieldsync.log.child({ invocationId: context.invocationId }) },
    message,
    {
      deadLetterReason: String(
        metadata.deadLetterReason ?? properties.deadLetterReason ?? 'MaxDeliveryCountExceeded',
      ),
      description: String(metadata.deadLetterErrorDescription ?? properties.deadLetterErrorDescription ?? ''),
    },
  );
}

app.serviceBusQueue('processDeadLetter', {
  connection: 'ServiceBusConnection',
  queueName: '%SYNC_QUEUE_NAME%/$deadletterqueue',
  cardinality: 'one',
  handler: processDeadLetter,
});
