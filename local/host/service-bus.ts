/** Service Bus triggers: one QueueDelivery → one invocation with the extension's trigger metadata. */
import { randomUUID } from 'node:crypto';
import azureFunctions from '@azure/functions';
import type { CoreFunctionCallback, CoreFunctionMetadata } from './core-shim.js';
import {
  effectiveOptions,
  elapsedMs,
  errorMessage,
  type InvocationScope,
  invokeWithHooks,
  userLogHandler,
} from './invoke.js';
import type { QueueDelivery } from './types.js';

const { InvocationContext } = azureFunctions;

export interface ServiceBusFunction {
  name: string;
  queueName: string;
  many: boolean;
  metadata: CoreFunctionMetadata;
  callback: CoreFunctionCallback;
}

/**
 * In Azure the worker camel-cases trigger metadata keys recursively (first letter lowered), so nested
 * keys such as applicationProperties' are changed too: `TenantId` arrives as `tenantId`. Same here.
 */
export function camelCaseValue(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || data instanceof Date) return data;
  if (Array.isArray(data)) return data.map(camelCaseValue);
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    result[key.charAt(0).toLowerCase() + key.slice(1)] = camelCaseValue(value);
  }
  return result;
}

interface MessageMetadata {
  messageId: string;
  deliveryCount: number;
  enqueuedTimeUtc: string;
  applicationProperties: unknown;
  correlationId: string | undefined;
  contentType: string | undefined;
  lockToken: string;
}

function messageMetadata(message: QueueDelivery): MessageMetadata {
  return {
    messageId: message.messageId,
    deliveryCount: message.deliveryCount,
    enqueuedTimeUtc: message.enqueuedTimeUtc.toISOString(),
    applicationProperties: camelCaseValue(message.applicationProperties ?? {}),
    correlationId: message.correlationId,
    contentType: message.contentType,
    lockToken: randomUUID(),
  };
}

/** The extension's trigger metadata: single values for one message, `*Array` values for a batch. */
export function serviceBusTriggerMetadata(message: QueueDelivery, many: boolean): Record<string, unknown> {
  const m = messageMetadata(message);
  if (!many) return { ...m };
  return {
    messageIdArray: [m.messageId],
    deliveryCountArray: [m.deliveryCount],
    enqueuedTimeUtcArray: [m.enqueuedTimeUtc],
    applicationPropertiesArray: [m.applicationProperties],
    correlationIdArray: [m.correlationId],
    contentTypeArray: [m.contentType],
    lockTokenArray: [m.lockToken],
  };
}

/** The onMessage callback for one function; rejects when the function fails (so the message is abandoned). */
export function createServiceBusInvoker(
  fn: ServiceBusFunction,
  scope: InvocationScope,
): (message: QueueDelivery) => Promise<void> {
  return async (message) => {
    const startedAt = process.hrtime.bigint();
    const invocationId = randomUUID();
    const context = new InvocationContext({
      invocationId,
      functionName: fn.name,
      logHandler: userLogHandler(scope, fn.name, invocationId),
      triggerMetadata: serviceBusTriggerMetadata(message, fn.many),
      options: effectiveOptions(fn.metadata) as never,
    });
    const entry = {
      msg: 'invocation',
      function: fn.name,
      trigger: 'serviceBus',
      invocationId,
      messageId: message.messageId,
      deliveryCount: message.deliveryCount,
    };
    try {
      await invokeWithHooks(scope, context, [fn.many ? [message.body] : message.body], fn.callback);
    } catch (error) {
      scope.log({
        level: 'error',
        ...entry,
        status: 'failed',
        durationMs: elapsedMs(startedAt),
        error: errorMessage(error),
      });
      throw error;
    }
    scope.log({ level: 'info', ...entry, status: 'completed', durationMs: elapsedMs(startedAt) });
  };
}
