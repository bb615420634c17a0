/**
 * POST compat/fieldops/sync/batch (document 003, Sprint 8 "Batch Sync API"), over the v1 use cases: inline
 * photos are stored through the photo use case (storeInlinePhotos: the upload path's checks, blob
 * `{tenantId}/{photoId}.{ext}`), every event and every photo's PHOTO_ATTACHED goes through the v1 push
 * (pushBatch: one batch, the processor's photo precheck verifies each blob like an uploaded one), and the
 * answer waits for the outcomes (waitForBatch) because the document's client reads them in the response.
 */
import type { Principal } from '../../auth/principal.js';
import { MAX_EVENTS_PER_BATCH } from '../../contracts/events.js';
import type { PhotoContentType } from '../../contracts/photos.js';
import type { BatchOutcome } from '../../contracts/sync.js';
import { PayloadTooLargeError } from '../../errors.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import type { App } from '../../app.js';
import { photoDeps, storeInlinePhotos, uploadedPhoto } from '../../usecases/photos.js';
import { pushBatch } from '../../usecases/push.js';
import { waitForOriginalOutcomes } from '../../usecases/wait-for-batch.js';
import {
  decodePhoto,
  deviceIdFor,
  outcomesById,
  photoAttachedEvent,
  type ResponsePlan,
  toBatchResponse,
  translateEvent,
  type V1Event,
} from './mapping.js';
import type { FieldopsBatchResponse } from './wire.js';

/** How long the answer waits for processing: the v1 `Prefer: wait` cap, far below the platform's 230 s. */
export const FIELDOPS_WAIT_MS = 30_000;

export interface FieldopsBatchCommand {
  tenant: Tenant;
  principal: Principal;
  body: { deviceId?: string | undefined; events: unknown[]; photos: unknown[] };
  deviceHeader: string | null;
  idempotencyKey: string | undefined;
  waitMs?: number;
}

/**
 * Runs one document batch: translate, store photos, push, wait, answer in the document's shape. Throws
 * PayloadTooLargeError past 1000 events and photos together (one v1 batch), ValidationError for a bad device
 * id, ForbiddenError DEVICE_NOT_OWNED for another user's device (the v1 push's rule).
 */
export async function runFieldopsBatch(
  app: App,
  command: FieldopsBatchCommand,
): Promise<FieldopsBatchResponse> {
  const { tenant, principal, body } = command;
  const deviceId = deviceIdFor(principal, body.deviceId, command.deviceHeader);
  if (body.events.length + body.photos.length > MAX_EVENTS_PER_BATCH) {
    throw new PayloadTooLargeError(
      `a batch holds at most ${MAX_EVENTS_PER_BATCH} events and photos together; this one has ${body.events.length + body.photos.length}`,
    );
  }
  const plan: ResponsePlan = { events: [], failed: [], photoFailed: [], photos: [] };
  const v1Events: V1Event[] = [];
  const byClientId = new Map<string, ReturnType<typeof translateEvent>>();
  body.events.forEach((raw, index) => {
    const translated = translateEvent(raw, index, deviceId);
    if (!translated.ok) {
      plan.failed.push(translated.failed);
      return;
    }
    byClientId.set(translated.clientId, translated);
    plan.events.push({ clientId: translated.clientId, v1Id: translated.event.id, attachIds: [] });
    v1Events.push(translated.event);
  });
  const entryOf = (clientId: string) => plan.events.find((e) => e.clientId === clientId);
  const deps = photoDeps(app);

  // Inline photos: decoded, tied to their event's target, stored as uploads would be.
  const ranks = new Map<string, number>();
  const inline = body.photos.flatMap((raw, index) => {
    const key = JSON.stringify([
      (raw as { eventId?: unknown })?.eventId,
      (raw as { filename?: unknown })?.filename,
    ]);
    const rank = ranks.get(key) ?? 0;
    ranks.set(key, rank + 1);
    const decoded = decodePhoto(raw, index, deviceId, rank);
    if (!decoded.ok) {
      plan.photoFailed.push(decoded.failed);
      return [];
    }
    const event = byClientId.get(decoded.photo.eventId);
    if (!event?.ok || !event.photoTarget) {
      plan.photoFailed.push({
        eventId: decoded.photo.eventId,
        reason: event?.ok
          ? `a ${event.event.type} event has nothing a photo can be attached to`
          : 'the photo names no event of this batch: send it with its event',
        code: 'TARGET_NOT_FOUND',
        retryable: false,
        filename: decoded.photo.filename,
      });
      return [];
    }
    return [{ ...decoded, event }];
  });
  const stored = await storeInlinePhotos(
    deps,
    tenant,
    principal,
    deviceId,
    inline.map((p) => ({ photoId: p.photoId, contentType: p.photo.contentType, bytes: p.bytes })),
  );
  inline.forEach((p, i) => {
    const result = stored[i];
    if (!result || !p.event.ok || !p.event.photoTarget) return;
    if (!result.ok) {
      plan.photoFailed.push({
        eventId: p.photo.eventId,
        reason: result.message,
        code: result.code,
        retryable: false,
        filename: p.photo.filename,
        errors: [{ path: `photos[${p.index}].${result.path}`, message: result.message }],
      });
      plan.photos.push({ eventId: p.photo.eventId, filename: p.photo.filename, photoId: result.photoId });
      return;
    }
    const attach = photoAttachedEvent({
      ...result,
      target: p.event.photoTarget,
      occurredAt: p.event.event.occurredAt,
    });
    v1Events.push(attach);
    entryOf(p.event.clientId)?.attachIds.push(attach.id);
    plan.photos.push({
      eventId: p.photo.eventId,
      filename: p.photo.filename,
      photoId: result.photoId,
      blobName: result.blobName,
      sizeBytes: result.sizeBytes,
      sha256: result.sha256,
      attachId: attach.id,
    });
  });

  // Photos uploaded through the upload-URL route and named by blob in an event's `photoUrls` (Sprint 6 flow).
  for (const event of byClientId.values()) {
    if (!event.ok || event.photoUrls.length === 0) continue;
    for (const blobName of event.photoUrls) {
      const uploaded = event.photoTarget ? await uploadedPhoto(deps, tenant, blobName) : undefined;
      if (!uploaded || !event.photoTarget) {
        plan.photoFailed.push({
          eventId: event.clientId,
          reason: event.photoTarget
            ? `nothing was uploaded as ${blobName} (or it is not a blob name this server handed out): PUT the photo to its upload URL, then send the event again`
            : `a ${event.event.type} event has nothing a photo can be attached to`,
          code: event.photoTarget ? 'PHOTO_NOT_UPLOADED' : 'TARGET_NOT_FOUND',
          retryable: event.photoTarget !== undefined,
        });
        continue;
      }
      const attach = photoAttachedEvent({
        ...uploaded,
        contentType: uploaded.contentType as PhotoContentType,
        target: event.photoTarget,
        occurredAt: event.event.occurredAt,
      });
      v1Events.push(attach);
      entryOf(event.clientId)?.attachIds.push(attach.id);
    }
  }

  if (v1Events.length > MAX_EVENTS_PER_BATCH) {
    throw new PayloadTooLargeError(`a batch holds at most ${MAX_EVENTS_PER_BATCH} events with their photos`);
  }
  let outcome: BatchOutcome | undefined;
  if (v1Events.length > 0) {
    const pushed = await pushBatch(app, {
      tenant,
      principal,
      body: { deviceId, events: v1Events },
      idempotencyKey: command.idempotencyKey,
    });
    const batchId =
      pushed.kind === 'accepted' ? pushed.response.batchId : (pushed.body as { batchId: string }).batchId;
    // A re-sent event (or attach) answers its original outcome: a conflict again, a refusal again.
    outcome = await waitForOriginalOutcomes(
      app,
      tenant,
      principal,
      deviceId,
      batchId,
      command.waitMs ?? FIELDOPS_WAIT_MS,
    );
  }
  return toBatchResponse(plan, outcomesById(outcome));
}
