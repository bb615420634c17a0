import { randomUUID } from 'node:crypto';
import type { Principal } from '../auth/principal.js';
import {
  MAX_EVENTS_PER_BATCH,
  type PushBody,
  RECORD_EVENT_TYPES,
  type SyncEvent,
} from '../contracts/events.js';
import type { PushAccepted } from '../contracts/sync.js';
import { ConflictError, PayloadTooLargeError, UnprocessableError } from '../errors.js';
import type { CheckedPart, EventLog, OutboxMessage, OutboxStore } from './ports/event-log.js';
import type { DeviceStatusStore } from './ports/devices.js';
import type { EventQueue, OutgoingMessage, SyncChunkMessage } from './ports/queue.js';
import type { IdempotencyStore } from './ports/idempotency.js';
import type { Tenant } from './ports/tenancy.js';
import { recordOutcomes } from '../observability.js';
import { canonicalJson, sha256Hex } from '../sync/canonical.js';
import { checkEvents } from '../sync/validate-event.js';
import type { RecordSchemas } from '../schema/validator.js';
import type { Logger } from '../logger.js';
import { checkDeviceAccess } from './device-access.js';
import { relayOutbox } from './outbox.js';

/**
 * Event ids per retry message (a push's message names its batch, at most MAX_EVENTS_PER_BATCH events, and no
 * ids): 1000 ids are about 37 KB, far below Service Bus's 256 KB.
 */
export const CHUNK_SIZE = 1000;

/**
 * Events per part of a push on its way into the event log (EventLog.acceptBatch): Postgres writes a part
 * while the next is checked and hashed, so a 1000-event push pays for checking about one part, not four
 * (measured: docs/architecture.md "Issue 17, fourth pass"). Smaller parts add a statement each.
 */
export const ACCEPT_PART_SIZE = 250;

export interface PushDeps {
  eventLog: EventLog;
  queue: EventQueue;
  idempotency: IdempotencyStore;
  devices: DeviceStatusStore;
  /** The outbox rows the relay deletes once delivered (written with the events by eventLog). */
  outbox: OutboxStore;
  log?: Logger;
  /** The tenant's collections, for RECORD_* events (usecases/schema.ts createRecordSchemas: cached per schema version). */
  recordSchemas: (tenant: Tenant) => Promise<RecordSchemas>;
  now?: () => Date;
}

export interface PushCommand {
  tenant: Tenant;
  principal: Principal;
  body: PushBody;
  idempotencyKey?: string | undefined;
}

export type PushResult =
  { kind: 'accepted'; response: PushAccepted } | { kind: 'replayed'; status: number; body: unknown };

/**
 * Checks (sync/validate-event.ts checkEvent) and hashes a push's events, ACCEPT_PART_SIZE at a time, in push
 * order. Lazy: a part is checked when the event log asks for it, while it writes the one before.
 */
export async function* checkedParts(
  raws: readonly unknown[],
  now: Date,
  schemas?: RecordSchemas,
): AsyncGenerator<CheckedPart> {
  for (let from = 0; from < raws.length; from += ACCEPT_PART_SIZE) {
    const to = Math.min(raws.length, from + ACCEPT_PART_SIZE);
    const part: CheckedPart = { accepted: [], rejected: [] };
    const checks = await checkEvents(raws, now, schemas, { from, to });
    checks.forEach((check, i) => {
      if (check.ok) part.accepted.push({ event: check.event, hash: eventHash(check.event), index: from + i });
      else part.rejected.push(check.rejection);
    });
    yield part;
  }
}

/** The hash of an event's body: what "the same event" means for duplicates and EVENT_ID_REUSED. */
export const eventHash = (event: SyncEvent) =>
  sha256Hex(
    canonicalJson({
      type: event.type,
      occurredAt: event.occurredAt,
      payload: event.payload,
      location: event.location,
    }),
  );

/**
 * One chunk message: its MessageId is fixed by its content (tenant, batch, reason, ids — `*` for a push's
 * message, which names its batch only) and `salt`, so the
 * queue's duplicate detection drops a re-send of the same chunk; the application properties name it for
 * operators (and carry `attempt` on a scheduled retry).
 */
export function chunkMessage(body: SyncChunkMessage, salt = ''): OutgoingMessage {
  return {
    messageId: sha256Hex(
      `${body.tenantId}|${body.batchId}|${body.reason}|${salt}|${body.eventIds?.join(',') ?? '*'}`,
    ),
    body,
    applicationProperties: {
      tenantId: body.tenantId,
      deviceId: body.deviceId,
      batchId: body.batchId,
      reason: body.reason,
      ...(body.attempt !== undefined ? { attempt: body.attempt } : {}),
    },
  };
}

/** Splits accepted ids into chunk messages whose MessageId is fixed by their content. */
export function chunkMessages(
  base: Omit<SyncChunkMessage, 'eventIds'>,
  eventIds: string[],
  salt = '',
): OutgoingMessage[] {
  const messages: OutgoingMessage[] = [];
  for (let start = 0; start < eventIds.length; start += CHUNK_SIZE) {
    messages.push(chunkMessage({ ...base, eventIds: eventIds.slice(start, start + CHUNK_SIZE) }, salt));
  }
  return messages;
}

/**
 * Accepts a device's batch: checks each event on its own (a bad one never blocks the rest), records the
 * batch, its new events PENDING and the outbox rows (chunk messages, the device's push) in one transaction of
 * the tenant's event log; after the commit the relay enqueues the messages and writes the device status.
 * A failed delivery still answers 202 (the events are durable; the outbox sweep delivers later). A repeated
 * Idempotency-Key replays the first answer and enqueues nothing. The device must be the caller's own (or
 * not known yet): ForbiddenError DEVICE_NOT_OWNED otherwise (device-access.ts).
 */
export async function pushBatch(deps: PushDeps, command: PushCommand): Promise<PushResult> {
  const { tenant, principal, body } = command;
  if (body.events.length > MAX_EVENTS_PER_BATCH) {
    throw new PayloadTooLargeError(
      `a batch holds at most ${MAX_EVENTS_PER_BATCH} events; this one has ${body.events.length}`,
    );
  }
  // Before the idempotency claim: a refused device never holds a key.
  const access = await checkDeviceAccess(deps.devices, tenant, principal, body.deviceId, 'act');
  // The device already names this caller its owner: nothing waits on its status write (see acceptBatch).
  const ownerRecorded = access.record?.userId === principal.userId;
  const key = command.idempotencyKey;
  // Hashing the whole body costs; only a request with an Idempotency-Key needs it.
  const requestHash = key ? sha256Hex(canonicalJson(body)) : '';
  if (key) {
    const claim = await deps.idempotency.claim(tenant.id, principal.userId, key, requestHash);
    if (claim.state === 'completed') return { kind: 'replayed', ...claim.response };
    if (claim.state === 'mismatch') {
      throw new UnprocessableError('this Idempotency-Key was already used with a different body');
    }
    if (claim.state === 'in-flight') {
      throw new ConflictError(
        'a request with this Idempotency-Key is still being processed',
        'IDEMPOTENCY_IN_FLIGHT',
        2,
      );
    }
  }
  try {
    const response = await acceptBatch(deps, command, ownerRecorded);
    recordOutcomes(tenant.id, { DUPLICATE: response.duplicates.length, REJECTED: response.rejected.length });
    if (key)
      await deps.idempotency.complete(tenant.id, principal.userId, key, requestHash, {
        status: 202,
        body: response,
      });
    return { kind: 'accepted', response };
  } catch (error) {
    if (key) await deps.idempotency.release(tenant.id, principal.userId, key).catch(() => {});
    throw error;
  }
}

const isRecordEvent = (raw: unknown): boolean =>
  (RECORD_EVENT_TYPES as readonly unknown[]).includes((raw as { type?: unknown } | null)?.type);

async function acceptBatch(
  deps: PushDeps,
  { tenant, principal, body }: PushCommand,
  ownerRecorded: boolean,
): Promise<PushAccepted> {
  const now = (deps.now ?? (() => new Date()))();
  const batchId = randomUUID();
  const receivedAt = now.toISOString();
  // The tenant's collections are loaded only for a batch that has record events (v1 pushes pay nothing),
  // and before the event log's transaction: taking a part may only be CPU work.
  const schemas = body.events.some(isRecordEvent) ? await deps.recordSchemas(tenant) : undefined;

  const result = await deps.eventLog.acceptBatch(
    tenant,
    {
      id: batchId,
      deviceId: body.deviceId,
      userId: principal.userId,
      // Stored on each event: the processor's scope rule for record writes (DESIGN-13).
      roles: principal.roles,
      receivedAt,
      total: body.events.length,
    },
    // Checked part by part as the event log writes them; checking yields to the event loop every few ms.
    checkedParts(body.events, now, schemas),
    // Pure: this runs inside the transaction, so it only describes what the relay delivers after the commit.
    // The chunk names its batch, not its ids: the batch (≤ MAX_EVENTS_PER_BATCH = CHUNK_SIZE events) is one
    // chunk, and the processor takes whatever of it is still PENDING. 1000 ids made a 37 KB message that the
    // outbox, the queue and the processor each stored or parsed again.
    (acceptedIds): OutboxMessage[] => [
      ...(acceptedIds.length
        ? [
            {
              kind: 'chunk' as const,
              message: chunkMessage({
                tenantId: tenant.id,
                batchId,
                deviceId: body.deviceId,
                reason: 'push',
              }),
            },
          ]
        : []),
      {
        kind: 'device-push',
        push: {
          deviceId: body.deviceId,
          userId: principal.userId,
          ...(body.deviceInfo
            ? { platform: body.deviceInfo.platform, appVersion: body.deviceInfo.appVersion }
            : {}),
          at: receivedAt,
        },
      },
    ],
  );
  // Committed: from here on the batch is accepted whatever the queue or Cosmos say (the sweep makes good).
  const relay = relayOutbox(deps, tenant, result.outbox, { deleteInBackground: true });
  // A device's first push names its owner (DEVICE_NOT_OWNED for anyone else afterwards), so that relay is
  // awaited: from the 202 on, another user is refused. Any later push answers at the commit and its messages
  // and lastPushAt follow at once (relayOutbox never throws; the sweep makes good what a crash leaves):
  // the answer does not wait for the queue and Cosmos (docs/architecture.md "Push pipeline").
  if (!ownerRecorded) await relay;
  return {
    batchId,
    receivedAt,
    accepted: result.accepted.length,
    duplicates: result.duplicates,
    rejected: result.rejected,
    statusUrl: `/api/v1/sync/batches/${batchId}`,
  };
}
