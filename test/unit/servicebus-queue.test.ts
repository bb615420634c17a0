// No Service Bus broker runs here (no emulator without Docker, see NOTES): these tests cover what the
// adapter does without one. Sending, peeking and settling against a real namespace is left to Azure.
import { type ServiceBusMessage, ServiceBusError } from '@azure/service-bus';
import { describe, expect, it } from 'vitest';
import {
  type BatchSender,
  isTransientServiceBusError,
  type MessageBatchLike,
  replayCopy,
  scheduleCopy,
  sendInBatches,
  ServiceBusQueue,
  toDeadLettered,
  toQueueError,
  toServiceBusMessage,
} from '../../shared/adapters/servicebus/service-bus-queue.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import type { OutgoingMessage } from '../../shared/usecases/ports/queue.js';

const LIMIT = 256 * 1024;

/** A fake sender: batches that count JSON bytes (plus a fixed overhead) against the 256 KB limit. */
function fakeSender(): BatchSender<MessageBatchLike & { messages: ServiceBusMessage[] }> & {
  sent: ServiceBusMessage[][];
} {
  const sent: ServiceBusMessage[][] = [];
  return {
    sent,
    async createMessageBatch() {
      let size = 0;
      const messages: ServiceBusMessage[] = [];
      return {
        messages,
        get count() {
          return messages.length;
        },
        tryAddMessage(message: ServiceBusMessage) {
          const bytes = Buffer.byteLength(JSON.stringify(message)) + 64;
          if (size + bytes > LIMIT) return false;
          size += bytes;
          messages.push(message);
          return true;
        },
      };
    },
    async sendMessages(batch) {
      sent.push(batch.messages);
    },
  };
}

function outgoing(i: number, events = 2): OutgoingMessage {
  const tenantId = `tenant-${i % 2}`;
  return {
    messageId: `msg-${i}`,
    body: {
      tenantId,
      batchId: `batch-${i}`,
      deviceId: 'dev-1',
      eventIds: Array.from(
        { length: events },
        (_, e) => `00000000-0000-4000-8000-${String(e).padStart(12, '0')}`,
      ),
      reason: 'push',
    },
    applicationProperties: { tenantId, deviceId: 'dev-1', batchId: `batch-${i}`, reason: 'push' },
  };
}

describe('Service Bus queue adapter (no broker)', () => {
  it('maps an outgoing message to a Service Bus message', () => {
    // Prepare
    const message = outgoing(1);
    // Act
    const mapped = toServiceBusMessage(message);
    // Assess
    expect(mapped).toEqual({
      messageId: 'msg-1',
      body: message.body,
      contentType: 'application/json',
      applicationProperties: message.applicationProperties,
    });
  });

  it('sends small messages in one batch', async () => {
    // Prepare
    const sender = fakeSender();
    const messages = Array.from({ length: 50 }, (_, i) => toServiceBusMessage(outgoing(i)));
    // Act
    const batches = await sendInBatches(sender, messages);
    // Assess
    expect(batches).toBe(1);
    expect(sender.sent).toHaveLength(1);
    expect(sender.sent[0]?.map((m) => m.messageId)).toEqual(messages.map((m) => m.messageId));
  });

  it('splits messages across batches at the 256 KB limit, keeping their order', async () => {
    // Prepare: ~94 KB each (2,400 event ids), so two fit in a batch and a third does not.
    const sender = fakeSender();
    const messages = Array.from({ length: 5 }, (_, i) => toServiceBusMessage(outgoing(i, 2_400)));
    // Act
    const batches = await sendInBatches(sender, messages);
    // Assess
    expect(batches).toBe(3);
    expect(sender.sent.map((b) => b.map((m) => m.messageId))).toEqual([
      ['msg-0', 'msg-1'],
      ['msg-2', 'msg-3'],
      ['msg-4'],
    ]);
  });

  it('refuses a message larger than a batch', async () => {
    // Prepare
    const sender = fakeSender();
    const huge = toServiceBusMessage(outgoing(9, 8_000));
    // Act
    const sending = sendInBatches(sender, [huge]);
    // Assess
    await expect(sending).rejects.toThrow(/larger than a Service Bus batch/);
    expect(sender.sent).toEqual([]);
  });

  it('reports transient broker and network errors as DependencyUnavailableError("queue")', () => {
    // Prepare
    const busy = new ServiceBusError('busy', 'ServiceBusy');
    const timeout = new ServiceBusError('slow', 'ServiceTimeout');
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const missing = new ServiceBusError('no such queue', 'MessagingEntityNotFound');
    // Act
    const mapped = [busy, timeout, refused, missing].map(toQueueError);
    // Assess
    expect(mapped.slice(0, 3).every((e) => e instanceof DependencyUnavailableError)).toBe(true);
    expect(mapped[0]).toMatchObject({ dependency: 'queue' });
    expect(mapped[3]).toBe(missing);
    expect(isTransientServiceBusError(missing)).toBe(false);
  });

  it('maps a dead letter and makes a replay copy with a new messageId', () => {
    // Prepare
    const original = outgoing(3);
    const deadLetter = {
      messageId: original.messageId,
      body: original.body,
      contentType: 'application/json',
      applicationProperties: {
        ...original.applicationProperties,
        DeadLetterReason: 'MaxDeliveryCountExceeded',
        DeadLetterErrorDescription: 'tenant database down',
      },
      deadLetterReason: 'MaxDeliveryCountExceeded',
      deadLetterErrorDescription: 'tenant database down',
      enqueuedTimeUtc: new Date('2025-01-02T03:04:05Z'),
      deliveryCount: 10,
    };
    // Act
    const listed = toDeadLettered(deadLetter);
    const copy = replayCopy(deadLetter, new Date('2025-02-01T00:00:00Z'));
    // Assess
    expect(listed).toMatchObject({
      messageId: 'msg-3',
      deadLetterReason: 'MaxDeliveryCountExceeded',
      deadLetterErrorDescription: 'tenant database down',
      deliveryCount: 10,
      enqueuedTimeUtc: new Date('2025-01-02T03:04:05Z'),
    });
    expect(copy.messageId).not.toBe('msg-3');
    expect(String(copy.messageId).length).toBeLessThanOrEqual(128);
    expect(copy.body).toEqual({ ...original.body, reason: 'replay' });
    expect(copy.applicationProperties).toEqual({
      tenantId: 'tenant-1',
      deviceId: 'dev-1',
      batchId: 'batch-3',
      reason: 'replay',
      replayOf: 'msg-3',
    });
  });

  it('needs a credential for an identity connection, and builds a client from a connection string', async () => {
    // Prepare
    const queue = { queueName: 'sync-events' };
    const connectionString =
      'Endpoint=sb://fieldsync-test.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=not-a-key';
    // Act
    const identity = () =>
      new ServiceBusQueue({ connection: { kind: 'identity', endpoint: 'x.servicebus.windows.net' }, queue });
    const fromString = new ServiceBusQueue({
      connection: { kind: 'connectionString', connectionString },
      queue,
    });
    // Assess
    expect(identity).toThrow(/TokenCredential/);
    await fromString.close();
  });

  it('schedules the next attempt of a failed chunk: one scheduled message, same mapping, transient errors → 503', async () => {
    // Prepare: a fake sender recording scheduleMessages calls, then failing once as a busy broker would.
    const scheduled: { message: ServiceBusMessage; at: Date }[] = [];
    const broker: { failure?: unknown } = {};
    const sender = {
      async scheduleMessages(message: ServiceBusMessage, at: Date) {
        if (broker.failure) throw broker.failure;
        scheduled.push({ message, at });
        return [1n];
      },
    };
    const base = outgoing(5);
    const message: OutgoingMessage = {
      ...base,
      messageId: 'msg-5-attempt-2',
      body: { ...base.body, attempt: 2 },
      applicationProperties: { ...base.applicationProperties, attempt: 2 },
    };
    const at = new Date('2026-01-01T00:00:10Z');
    // Act
    await scheduleCopy(sender, message, at);
    broker.failure = new ServiceBusError('busy', 'ServiceBusy');
    const busy = await scheduleCopy(sender, message, at).catch((e: unknown) => e);
    // Assess: the scheduled message is the one send would enqueue, visible at `at`.
    expect(scheduled).toEqual([{ message: toServiceBusMessage(message), at }]);
    expect(scheduled[0]?.message).toMatchObject({
      messageId: 'msg-5-attempt-2',
      body: { attempt: 2 },
      applicationProperties: { attempt: 2 },
    });
    expect(busy).toBeInstanceOf(DependencyUnavailableError);
  });

  it('a replay copy starts a new chain: the attempt counter is dropped from body and properties', () => {
    // Prepare: a letter dead-lettered on its 7th attempt.
    const base = outgoing(6);
    const copy = replayCopy({
      messageId: 'msg-6-attempt-7',
      body: { ...base.body, attempt: 7 },
      contentType: 'application/json',
      applicationProperties: { ...base.applicationProperties, attempt: 7 },
      deadLetterReason: 'MaxDeliveryCountExceeded',
      deadLetterErrorDescription: 'tenant database down',
      enqueuedTimeUtc: new Date('2025-01-02T03:04:05Z'),
      deliveryCount: 10,
      correlationId: undefined,
      sequenceNumber: undefined,
    });
    // Assess
    expect(copy.body).toEqual({ ...base.body, reason: 'replay' });
    expect(copy.applicationProperties).not.toHaveProperty('attempt');
    expect(copy.applicationProperties).toMatchObject({ reason: 'replay', replayOf: 'msg-6-attempt-7' });
  });
});
