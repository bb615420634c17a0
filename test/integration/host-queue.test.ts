import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type FunctionsHost,
  type QueueDelivery,
  type QueueSubscriber,
  startFunctionsHost,
} from '../../local/host.js';
import { fixtureRecord, resetFixtureRecord } from '../fixtures/host/record.js';

const functionsEntry = fileURLToPath(new URL('../fixtures/host/functions.ts', import.meta.url));

type Outcome = 'completed' | 'dead-lettered';

interface SendOptions {
  messageId: string;
  applicationProperties?: Record<string, unknown>;
  correlationId?: string;
  contentType?: string;
}

/**
 * In-memory queue: a rejected onMessage abandons the message, which is redelivered with deliveryCount + 1,
 * up to maxDeliveryCount deliveries; then it is dead-lettered.
 */
class MemoryQueue implements QueueSubscriber {
  readonly handlers = new Map<string, (message: QueueDelivery) => Promise<void>>();
  readonly subscribed: string[] = [];

  constructor(private readonly maxDeliveryCount = 3) {}

  async subscribe(queueName: string, onMessage: (message: QueueDelivery) => Promise<void>) {
    this.handlers.set(queueName, onMessage);
    this.subscribed.push(queueName);
    return {
      stop: async () => {
        this.handlers.delete(queueName);
      },
    };
  }

  /** Resolves with the final outcome once the message is completed or dead-lettered. */
  async send(queueName: string, body: unknown, options: SendOptions): Promise<Outcome> {
    const enqueuedTimeUtc = new Date('2025-01-02T03:04:05.678Z');
    for (let deliveryCount = 1; deliveryCount <= this.maxDeliveryCount; deliveryCount++) {
      const handler = this.handlers.get(queueName);
      if (!handler) throw new Error(`nobody listens on ${queueName}`);
      try {
        await handler({
          body,
          messageId: options.messageId,
          deliveryCount,
          enqueuedTimeUtc,
          applicationProperties: options.applicationProperties ?? {},
          correlationId: options.correlationId,
          contentType: options.contentType,
        });
        return 'completed';
      } catch {
        // abandoned: deliver again
      }
    }
    return 'dead-lettered';
  }
}

describe('local functions host: Service Bus triggers', () => {
  const queue = new MemoryQueue();
  const logs: Record<string, unknown>[] = [];
  let host: FunctionsHost;

  beforeAll(async () => {
    host = await startFunctionsHost({
      port: 0,
      functionsEntry,
      settings: { TEST_QUEUE: 'fieldsync-test-queue', TEST_BATCH_SUFFIX: 'two' },
      queue,
      log: (entry) => logs.push(entry),
    });
  });

  afterAll(async () => {
    await host?.stop();
  });

  beforeEach(() => resetFixtureRecord());

  const calls = (functionName: string) =>
    fixtureRecord().queueCalls.filter((c) => c.functionName === functionName);

  it('subscribes with queue names resolved from the settings', () => {
    expect(queue.subscribed.sort()).toEqual(['batch-two', 'fieldsync-test-queue']);
    expect(host.functions.find((f) => f.name === 'syncWorker')?.queueName).toBe('fieldsync-test-queue');
  });

  it('hands the body and Service Bus trigger metadata to the function', async () => {
    const outcome = await queue.send(
      'fieldsync-test-queue',
      { chunk: 1, events: ['a', 'b'] },
      {
        messageId: 'msg-1',
        applicationProperties: { TenantId: 't-1', kind: 'chunk' },
        correlationId: 'corr-1',
        contentType: 'application/json',
      },
    );
    expect(outcome).toBe('completed');
    const [call, ...more] = calls('syncWorker');
    expect(more).toEqual([]);
    expect(call?.body).toEqual({ chunk: 1, events: ['a', 'b'] });
    expect(call?.triggerMetadata).toEqual({
      messageId: 'msg-1',
      deliveryCount: 1,
      enqueuedTimeUtc: '2025-01-02T03:04:05.678Z',
      // As in Azure, the worker lower-cases the first letter of nested metadata keys.
      applicationProperties: { tenantId: 't-1', kind: 'chunk' },
      correlationId: 'corr-1',
      contentType: 'application/json',
      lockToken: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
    });
    expect(logs.filter((e) => e.msg === 'invocation' && e.messageId === 'msg-1')).toEqual([
      expect.objectContaining({
        function: 'syncWorker',
        trigger: 'serviceBus',
        messageId: 'msg-1',
        deliveryCount: 1,
        status: 'completed',
        durationMs: expect.any(Number),
      }),
    ]);
  });

  it('rejects onMessage when the function throws, so the message is redelivered', async () => {
    const outcome = await queue.send('fieldsync-test-queue', { failOnce: true }, { messageId: 'msg-2' });
    expect(outcome).toBe('completed');
    expect(calls('syncWorker').map((c) => c.triggerMetadata?.deliveryCount)).toEqual([1, 2]);
    const entries = logs.filter((e) => e.msg === 'invocation' && e.messageId === 'msg-2');
    expect(entries.map((e) => [e.deliveryCount, e.status, e.error])).toEqual([
      [1, 'failed', 'marked to fail once'],
      [2, 'completed', undefined],
    ]);
  });

  it('keeps failing a poisoned message until the queue gives up', async () => {
    const outcome = await queue.send('fieldsync-test-queue', { fail: true }, { messageId: 'msg-3' });
    expect(outcome).toBe('dead-lettered');
    expect(calls('syncWorker').map((c) => c.triggerMetadata?.deliveryCount)).toEqual([1, 2, 3]);
    expect(new Set(calls('syncWorker').map((c) => c.invocationId)).size).toBe(3);
  });

  it("gives a cardinality 'many' function an array and the extension's *Array metadata", async () => {
    const outcome = await queue.send(
      'batch-two',
      { n: 1 },
      { messageId: 'msg-4', applicationProperties: { A: 1 } },
    );
    expect(outcome).toBe('completed');
    const [call] = calls('syncBatchWorker');
    expect(call?.body).toEqual([{ n: 1 }]);
    expect(call?.triggerMetadata).toMatchObject({
      messageIdArray: ['msg-4'],
      deliveryCountArray: [1],
      enqueuedTimeUtcArray: ['2025-01-02T03:04:05.678Z'],
      applicationPropertiesArray: [{ a: 1 }],
    });
  });

  it('fails to start, naming the setting, when a queue name setting is missing', async () => {
    const started = startFunctionsHost({
      port: 0,
      functionsEntry,
      settings: { TEST_BATCH_SUFFIX: 'x' },
      queue: new MemoryQueue(),
      log: () => undefined,
    });
    await expect(started).rejects.toThrow(/syncWorker.*"TEST_QUEUE"/);
  });

  it('stop() ends the subscriptions', async () => {
    const other = new MemoryQueue();
    const second = await startFunctionsHost({
      port: 0,
      functionsEntry,
      settings: { TEST_QUEUE: 'q-stop', TEST_BATCH_SUFFIX: 'stop' },
      queue: other,
      log: () => undefined,
    });
    expect([...other.handlers.keys()].sort()).toEqual(['batch-stop', 'q-stop']);
    await second.stop();
    expect(other.handlers.size).toBe(0);
  });
});
