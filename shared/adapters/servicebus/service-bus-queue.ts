/**
 * The queue in Azure: a Service Bus queue (duplicate detection, MaxDeliveryCount and lock duration are
 * set on the queue by Bicep, not here). The Functions host consumes it through `app.serviceBusQueue`; this
 * adapter sends, and gives ops access to the dead-letter subqueue.
 *
 * No broker runs here (no Service Bus emulator without Docker, see NOTES), so only the parts that need
 * none are unit-tested: message mapping, batching, error mapping, replay copies.
 */
import { createHash } from 'node:crypto';
import type { TokenCredential } from '@azure/identity';
import {
  isServiceBusError,
  ServiceBusClient,
  type ServiceBusMessage,
  type ServiceBusMessageBatch,
  type ServiceBusReceivedMessage,
  type ServiceBusSender,
} from '@azure/service-bus';
import type { Connection, QueueConfig } from '../../config.js';
import { DependencyUnavailableError } from '../../errors.js';
import type {
  DeadLetteredMessage,
  DeadLetterQueue,
  EventQueue,
  OutgoingMessage,
} from '../../usecases/ports/queue.js';
import { isNetworkErrorCode } from '../network-errors.js';

/** The part of a message batch this adapter uses (the SDK's ServiceBusMessageBatch has it). */
export interface MessageBatchLike {
  readonly count: number;
  tryAddMessage(message: ServiceBusMessage): boolean;
}

/** The part of a sender this adapter uses to send batches (the SDK's ServiceBusSender has it). */
export interface BatchSender<B extends MessageBatchLike> {
  createMessageBatch(): Promise<B>;
  sendMessages(batch: B): Promise<void>;
}

/** A dead letter as received: the fields of ServiceBusReceivedMessage read here. */
export type ReceivedDeadLetter = Pick<
  ServiceBusReceivedMessage,
  | 'messageId'
  | 'body'
  | 'applicationProperties'
  | 'contentType'
  | 'correlationId'
  | 'deadLetterReason'
  | 'deadLetterErrorDescription'
  | 'enqueuedTimeUtc'
  | 'deliveryCount'
  | 'sequenceNumber'
>;

export interface ServiceBusQueueOptions {
  /** A connection string, or the namespace (`<name>.servicebus.windows.net`) for an identity. */
  connection: Connection;
  /** Needed with an identity connection: the app passes `azureCredential(...)`. */
  credential?: TokenCredential;
  queue: Pick<QueueConfig, 'queueName'>;
}

/** Errors worth retrying later: the broker is busy, slow or out of reach. */
const TRANSIENT_CODES = new Set(['ServiceBusy', 'ServiceTimeout', 'ServiceCommunicationProblem']);
const PEEK_PAGE = 100;
/** replay leaves the rest for a later run after looking at this many dead letters. */
const REPLAY_SCAN_LIMIT = 5_000;

export function isTransientServiceBusError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // A ServiceBusError's code says what happened (its `retryable` defaults to true, whatever the code).
  if (isServiceBusError(error)) {
    return TRANSIENT_CODES.has(error.code) || (error.code === 'GeneralError' && error.retryable);
  }
  const { name, retryable, code } = error as { name?: unknown; retryable?: unknown; code?: unknown };
  if (name === 'MessagingError' && retryable === true) return true;
  return isNetworkErrorCode(code);
}

/** Transient failures become DependencyUnavailableError('queue'); others are passed on. */
export function toQueueError(error: unknown): unknown {
  return isTransientServiceBusError(error)
    ? new DependencyUnavailableError('queue', 5, { cause: error })
    : error;
}

export function toServiceBusMessage(message: OutgoingMessage): ServiceBusMessage {
  return {
    messageId: message.messageId,
    body: message.body,
    contentType: 'application/json',
    applicationProperties: { ...message.applicationProperties },
  };
}

/**
 * Sends the messages in order, in as few batches as the size limit (256 KB on Standard) allows: one
 * `createMessageBatch` per batch. Returns how many batches were sent. A message too large even for an
 * empty batch is refused with an Error (batches before it stay sent); the push use case keeps chunks well
 * under the limit.
 */
export async function sendInBatches<B extends MessageBatchLike>(
  sender: BatchSender<B>,
  messages: ServiceBusMessage[],
): Promise<number> {
  let batch = await sender.createMessageBatch();
  let sent = 0;
  for (const message of messages) {
    if (batch.tryAddMessage(message)) continue;
    if (batch.count === 0) throw tooLarge(message);
    await sender.sendMessages(batch);
    sent++;
    batch = await sender.createMessageBatch();
    if (!batch.tryAddMessage(message)) throw tooLarge(message);
  }
  if (batch.count > 0) {
    await sender.sendMessages(batch);
    sent++;
  }
  return sent;
}

function tooLarge(message: ServiceBusMessage): Error {
  return new Error(`queue message ${String(message.messageId)} is larger than a Service Bus batch may be`);
}

/** The part of a sender `scheduleCopy` uses (the SDK's ServiceBusSender has it). */
export interface ScheduleSender {
  scheduleMessages(messages: ServiceBusMessage, scheduledEnqueueTimeUtc: Date): Promise<unknown>;
}

/**
 * Sends one message as a scheduled message: Service Bus holds it, invisible, until `enqueueAt`
 * (`scheduledEnqueueTimeUtc`); duplicate detection applies to its MessageId as to any send. Transient
 * failures become DependencyUnavailableError('queue').
 */
export async function scheduleCopy(
  sender: ScheduleSender,
  message: OutgoingMessage,
  enqueueAt: Date,
): Promise<void> {
  try {
    await sender.scheduleMessages(toServiceBusMessage(message), enqueueAt);
  } catch (error) {
    throw toQueueError(error);
  }
}

/** A new MessageId for a replayed dead letter (so duplicate detection does not drop it). */
export function replayMessageId(original: string, unique: string, at: Date = new Date()): string {
  return createHash('sha256').update(`${original}:replay:${at.toISOString()}:${unique}`).digest('hex');
}

/** The copy of a dead letter that replay sends to the main queue. */
export function replayCopy(message: ReceivedDeadLetter, at: Date = new Date()): ServiceBusMessage {
  const original = String(message.messageId ?? '');
  const {
    DeadLetterReason: _reason,
    DeadLetterErrorDescription: _description,
    ...properties
  } = message.applicationProperties ?? {};
  const body: unknown = message.body;
  // A replay is a new chain: it starts again at attempt 1 (with the whole back-off schedule ahead).
  const { attempt: _attempt, ...rest } = properties;
  const { attempt: _bodyAttempt, ...fields } =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : { attempt: undefined };
  return {
    messageId: replayMessageId(original, String(message.sequenceNumber ?? ''), at),
    body:
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? { ...fields, reason: 'replay' }
        : body,
    contentType: message.contentType ?? 'application/json',
    correlationId: message.correlationId,
    applicationProperties: { ...rest, reason: 'replay', replayOf: original },
  };
}

export function toDeadLettered(message: ReceivedDeadLetter): DeadLetteredMessage {
  return {
    messageId: String(message.messageId ?? ''),
    body: message.body as unknown,
    applicationProperties: { ...message.applicationProperties },
    deadLetterReason: message.deadLetterReason,
    deadLetterErrorDescription: message.deadLetterErrorDescription,
    enqueuedTimeUtc: message.enqueuedTimeUtc,
    deliveryCount: message.deliveryCount ?? 0,
  };
}

function isOfTenant(message: ReceivedDeadLetter, tenantId: string | undefined): boolean {
  if (tenantId === undefined) return true;
  const property = message.applicationProperties?.tenantId;
  const body: unknown = message.body;
  const fromBody =
    typeof body === 'object' && body !== null ? (body as { tenantId?: unknown }).tenantId : undefined;
  return (property ?? fromBody) === tenantId;
}

/** EventQueue and DeadLetterQueue on a Service Bus queue. */
export class ServiceBusQueue implements EventQueue, DeadLetterQueue {
  private readonly client: ServiceBusClient;
  private readonly queueName: string;
  private sender: ServiceBusSender | undefined;

  constructor(options: ServiceBusQueueOptions) {
    const { connection, credential } = options;
    this.queueName = options.queue.queueName;
    // Fail fast: the SDK retries a failed operation itself (twice here) before we report the queue down.
    const clientOptions = { retryOptions: { maxRetries: 2, timeoutInMs: 20_000 } };
    if (connection.kind === 'connectionString') {
      this.client = new ServiceBusClient(connection.connectionString, clientOptions);
    } else {
      if (!credential) throw new Error('a Service Bus identity connection needs a TokenCredential');
      this.client = new ServiceBusClient(connection.endpoint, credential, clientOptions);
    }
  }

  /**
   * Sends every message: one batch per 256 KB, through one sender reused across calls. Service Bus
   * cannot make several batches atomic, so a failure after the first batch leaves a partial send. The
   * push use case tolerates that: the processor applies only events recorded PENDING, and the client's
   * retry re-sends the same MessageIds, which duplicate detection drops for the batches that got through.
   */
  async send(messages: OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    this.sender ??= this.client.createSender(this.queueName);
    try {
      await sendInBatches<ServiceBusMessageBatch>(this.sender, messages.map(toServiceBusMessage));
    } catch (error) {
      throw toQueueError(error);
    }
  }

  /** Sends one message that becomes visible at `enqueueAt` (a scheduled message). */
  async schedule(message: OutgoingMessage, enqueueAt: Date): Promise<void> {
    this.sender ??= this.client.createSender(this.queueName);
    await scheduleCopy(this.sender, message, enqueueAt);
  }

  /** Peeks the dead-letter subqueue (nothing is locked or changed); default at most 100. */
  async list(options: { tenantId?: string; max?: number } = {}): Promise<DeadLetteredMessage[]> {
    const max = options.max ?? 100;
    const receiver = this.client.createReceiver(this.queueName, { subQueueType: 'deadLetter' });
    try {
      const found: DeadLetteredMessage[] = [];
      while (found.length < max) {
        const page = await receiver.peekMessages(PEEK_PAGE);
        if (page.length === 0) break;
        for (const message of page) {
          if (found.length < max && isOfTenant(message, options.tenantId))
            found.push(toDeadLettered(message));
        }
      }
      return found;
    } catch (error) {
      throw toQueueError(error);
    } finally {
      await receiver.close().catch(() => undefined);
    }
  }

  /**
   * Receives dead letters in peek-lock; each match is sent to the main queue as a copy with a new
   * MessageId, then completed (removed). Send-then-complete is not atomic: a crash in between replays
   * the message twice, which the idempotent processor absorbs. Non-matching dead letters stay locked until
   * the end, then are abandoned (back in the subqueue).
   */
  async replay(options: { tenantId?: string; max?: number } = {}): Promise<number> {
    const max = options.max ?? Number.POSITIVE_INFINITY;
    const receiver = this.client.createReceiver(this.queueName, {
      subQueueType: 'deadLetter',
      receiveMode: 'peekLock',
    });
    this.sender ??= this.client.createSender(this.queueName);
    const skipped: ServiceBusReceivedMessage[] = [];
    let moved = 0;
    let scanned = 0;
    try {
      while (moved < max && scanned < REPLAY_SCAN_LIMIT) {
        const wanted = options.tenantId === undefined ? Math.min(PEEK_PAGE, max - moved) : PEEK_PAGE;
        const received = await receiver.receiveMessages(wanted, { maxWaitTimeInMs: 3_000 });
        if (received.length === 0) break;
        scanned += received.length;
        for (const message of received) {
          if (moved >= max || !isOfTenant(message, options.tenantId)) {
            skipped.push(message);
            continue;
          }
          await this.sender.sendMessages(replayCopy(message));
          await receiver.completeMessage(message);
          moved++;
        }
      }
      return moved;
    } catch (error) {
      throw toQueueError(error);
    } finally {
      for (const message of skipped) await receiver.abandonMessage(message).catch(() => undefined);
      await receiver.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    await this.sender?.close().catch(() => undefined);
    await this.client.close();
  }
}
