/**
 * Ports: the sync queue (Service Bus in Azure, pg-boss locally) and its dead-letter subqueue.
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
/** A message for the processor: which accepted events of which tenant to apply (by reference). */
export interface SyncChunkMessage {
  tenantId: string;
  batchId: string;
  deviceId: string;
  /**
   * Ids of events of the batch already durably recorded as PENDING in the tenant's event log (a retry);
   * absent: every event of the batch still PENDING (a push: at most 1000 events, one chunk).
   */
  eventIds?: string[] | undefined;
  /** Why it was sent: a push, a retry of FAILED events, or an ops replay. */
  reason: 'push' | 'retry' | 'replay';
  /** Which attempt this copy is (absent = 1); see shared/sync/backoff.ts. */
  attempt?: number | undefined;
}

export interface OutgoingMessage {
  /** Fixed by content, so the queue's duplicate detection drops a re-send within its window. */
  messageId: string;
  body: SyncChunkMessage;
  applicationProperties: {
    tenantId: string;
    deviceId: string;
    batchId: string;
    reason: string;
    attempt?: number;
  };
}

/** The queue between the push route and the processor (Service Bus in Azure, pg-boss locally). */
export interface EventQueue {
  /** Durably enqueues every message or throws (DependencyUnavailableError('queue')): all or nothing per call. */
  send(messages: OutgoingMessage[]): Promise<void>;
  /**
   * Enqueues one message that becomes visible at `enqueueAt` (Service Bus scheduled message, pg-boss
   * startAfter); duplicate detection applies as for send. Throws DependencyUnavailableError('queue').
   */
  schedule(message: OutgoingMessage, enqueueAt: Date): Promise<void>;
}

export interface DeadLetteredMessage {
  messageId: string;
  body: unknown;
  applicationProperties: Record<string, unknown>;
  deadLetterReason: string | undefined;
  deadLetterErrorDescription: string | undefined;
  enqueuedTimeUtc: Date | undefined;
  deliveryCount: number;
}

/** Ops access to the dead-letter queue: list, and send messages back to the main queue. */
export interface DeadLetterQueue {
  list(options: { tenantId?: string; max?: number }): Promise<DeadLetteredMessage[]>;
  /** Moves matching dead letters back to the main queue; returns how many. */
  replay(options: { tenantId?: string; max?: number }): Promise<number>;
}
