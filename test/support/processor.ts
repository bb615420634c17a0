import { randomBytes, randomUUID } from 'node:crypto';
import azureFunctions from '@azure/functions';
import { beforeAll } from 'vitest';
import { processSyncChunkMessage } from '../../functions/process-sync-chunk.js';
import { serviceBusTriggerMetadata } from '../../local/host/service-bus.js';
import { getApp } from '../../shared/app.js';

const { InvocationContext } = azureFunctions;

/**
 * Gives the calling test file a sync queue and a processor of its own: SYNC_QUEUE_NAME is set to a fresh
 * name before the file's App is built, and the file's process subscribes the processSyncChunk function to
 * it (as the local host does, with the same trigger metadata; nothing consumes the dead-letter subqueue). The shared host's processor works every
 * other file's queue; a test that measures processing (`Prefer: wait`, a batch settling) then depends on
 * its own work only, not on how busy the run is. App.close() (closeApp) stops the subscription.
 *
 * Call at the top level of a test file, before anything builds the App.
 */
export function ownSyncProcessor(prefix: string): { queueName: string } {
  const queueName = `sync-${prefix}-${randomBytes(4).toString('hex')}`;
  process.env.SYNC_QUEUE_NAME = queueName;
  beforeAll(async () => {
    const app = getApp();
    if (app.config.queue.queueName !== queueName)
      throw new Error(
        `the App was built before ownSyncProcessor(): its queue is ${app.config.queue.queueName}`,
      );
    if (!app.localQueue) throw new Error('ownSyncProcessor needs QUEUE_DRIVER=local');
    // The host's one Service Bus function, on this file's queue.
    await app.localQueue.subscribe(queueName, (message) =>
      processSyncChunkMessage(
        message.body,
        new InvocationContext({
          invocationId: randomUUID(),
          functionName: 'processSyncChunk',
          triggerMetadata: serviceBusTriggerMetadata(message, false),
        }),
      ),
    );
  });
  return { queueName };
}
