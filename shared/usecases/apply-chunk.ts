/**
 * The one sync engine: applies a chunk of PENDING events — v1 events and v1.1 record events alike — through
 * one plan → write path (issue 13 item 5). The rules of a chunk's transaction live here; the store
 * (ChunkStore port) runs statements only, and the decisions are the pure planner's (shared/sync/plan-chunk.ts).
 */
import { randomUUID } from 'node:crypto';
import type {
  ChunkProcessor,
  ChunkSelection,
  ChunkSession,
  ChunkStore,
  ChunkSummary,
  ChunkTransaction,
  EventPrecheck,
  LockedBlob,
} from './ports/chunks.js';
import type { Tenant } from './ports/tenancy.js';
import { describeError } from '../redact.js';
import { type Outcome, type PendingEvent, chunkReferences, planChunk } from '../sync/plan-chunk.js';

const unique = <T>(values: T[]) => [...new Set(values)];

/**
 * Thrown inside a chunk transaction (so it rolls back) when the chunk attaches photos that no precheck of this
 * attempt has seen: the engine then runs the precheck outside any transaction and tries again. `events` are the
 * PHOTO_ATTACHED events to check (those seen before and these).
 */
class PhotoCheckNeeded extends Error {
  constructor(readonly events: PendingEvent[]) {
    super('the chunk attaches photos: precheck them first, outside the transaction');
  }
}

/** What the precheck of this pass decided, for the PHOTO_ATTACHED events it saw. */
interface Checked {
  events: PendingEvent[];
  outcomes: Map<string, Outcome>;
}
const NOTHING_CHECKED: Checked = { events: [], outcomes: new Map() };

/**
 * Applies chunks of PENDING events exactly once, one transaction per chunk, with no network call while a
 * transaction is open (issue 17):
 * 1. a chunk without photo attaches (most of them) is one transaction (its message left only after the push's
 *    commit: the outbox): lock the chunk's PENDING event rows (a redelivered chunk finds none and applies nothing
 *    a second time), lock what it rewrites (equipment rows, production and record keys, sorted: no deadlock),
 *    load its inputs, plan (pure), write the plan;
 * 2. a chunk that attaches photos rolls that back and goes again on one connection holding the photos'
 *    advisory locks at session level (ChunkStore.withPhotoLocks), with no transaction open while it runs the
 *    precheck (Blob Storage: the photo's blob), then the same transaction, then — after the commit, still under
 *    the photo locks — unlocks the blobs of photos that did not end attached. So a photo's check, link and
 *    unlock agree: a chunk attaching the same photo waits, and never sees a lock it relies on broken. The
 *    precheck runs in every attempt that attaches photos, halved chunks included.
 * An event whose data the database refuses (ChunkStore.isPoison) is found by halving the chunk: the rest is
 * applied and that one alone REJECTED UNPROCESSABLE_DATA (not retryable: it fails the same way every time).
 * Any other failure is thrown (the message is retried); blobs locked by the rolled-back attempt are unlocked.
 */
export class ChunkEngine implements ChunkProcessor {
  constructor(
    private readonly store: ChunkStore,
    private readonly precheck: EventPrecheck,
    private readonly newId: () => string = randomUUID,
  ) {}

  async process(tenant: Tenant, batchId: string, eventIds?: string[]): Promise<ChunkSummary> {
    try {
      // The photo locks of an attempt are released before a halved attempt takes them again.
      return await this.attempt(tenant, { batchId, eventIds });
    } catch (error) {
      if (!this.store.isPoison(error)) throw error;
      if (!eventIds) {
        // A chunk that named its batch only goes on by the ids of its events still PENDING, tried again as
        // such: another processor may have settled some of them meanwhile (the poison one among them), so
        // an id left alone here has not failed alone yet and must not be refused unseen.
        const ids = await this.store.pendingEventIds(tenant, batchId);
        return ids.length
          ? this.process(tenant, batchId, ids)
          : { processed: 0, byStatus: {}, deviceIds: [] };
      }
      // One event's data broke a statement: find it by halving, apply the rest, refuse only that one (an id
      // is refused only after an attempt that held it alone failed).
      if (eventIds.length === 1) return this.refusePoison(tenant, eventIds[0] as string, error);
      const middle = Math.ceil(eventIds.length / 2);
      const [left, right] = [eventIds.slice(0, middle), eventIds.slice(middle)];
      return mergeSummaries(
        await this.process(tenant, batchId, left),
        await this.process(tenant, batchId, right),
      );
    }
  }

  /** One attempt: the plain transaction, or — the chunk attaches photos — the checked passes. */
  private async attempt(tenant: Tenant, chunk: ChunkSelection): Promise<ChunkSummary> {
    let needed: PendingEvent[];
    try {
      return await this.store.inTransaction(tenant, (tx) => this.apply(tx, chunk, NOTHING_CHECKED));
    } catch (error) {
      if (!(error instanceof PhotoCheckNeeded)) throw error;
      needed = error.events;
    }
    // Events are immutable, so the set of attaches only grows (a retry made one PENDING again) and this ends.
    for (;;) {
      const photoIds = chunkReferences(needed).photoIds;
      try {
        return await this.store.withPhotoLocks(tenant, photoIds, (session) =>
          this.checkedPass(session, tenant, chunk, needed),
        );
      } catch (error) {
        if (!(error instanceof PhotoCheckNeeded)) throw error;
        needed = error.events;
      }
    }
  }

  /**
   * Under the photos' session locks, no transaction open: precheck the attaches, apply the chunk in one
   * transaction, then unlock the blobs of photos that did not end attached (also after a rollback).
   */
  private async checkedPass(
    session: ChunkSession,
    tenant: Tenant,
    chunk: ChunkSelection,
    attaches: PendingEvent[],
  ): Promise<ChunkSummary> {
    const locked: LockedBlob[] = [];
    let committed = false;
    try {
      const checked = await this.precheck.check(tenant, attaches);
      locked.push(...checked.locked);
      const summary = await session.inTransaction((tx) =>
        this.apply(tx, chunk, { events: attaches, outcomes: checked.outcomes }),
      );
      committed = true;
      // Committed: the outcomes stand even if Blob Storage fails now (throwing would retry a chunk that has
      // nothing PENDING left). A lease left on an unattached photo is released by its next attach attempt,
      // which finds the lock, checks the bytes and links or unlocks it.
      if (locked.length) await this.unlockUnattached(session, tenant, locked).catch(() => {});
      return summary;
    } catch (error) {
      if (!committed && locked.length) {
        // Rolled back: no photo of this attempt is attached, so none of its blobs may stay locked. When
        // the chunk is redelivered anyway, an unlock that fails now is done by the next attempt (which
        // finds the lock and releases it unless it attaches); a poison event is settled now, so not here.
        const unlocking = this.unlockUnattached(session, tenant, locked);
        await (this.store.isPoison(error) ? unlocking : unlocking.catch(() => {}));
      }
      throw error;
    }
  }

  private async apply(tx: ChunkTransaction, chunk: ChunkSelection, checked: Checked): Promise<ChunkSummary> {
    const events = await tx.loadPending(chunk);
    if (events.length === 0) return { processed: 0, byStatus: {}, deviceIds: [] };
    // An attach no precheck of this pass has seen: roll back, check outside the transaction, come back.
    const seen = new Set(checked.events.map((e) => e.event.id));
    const unseen = events.filter((e) => e.event.type === 'PHOTO_ATTACHED' && !seen.has(e.event.id));
    if (unseen.length) throw new PhotoCheckNeeded([...checked.events, ...unseen]);
    const refs = chunkReferences(events);
    await tx.lockRecords(refs);
    const input = await tx.loadInput(events, refs);
    const plan = planChunk({ ...input, prechecked: checked.outcomes, newId: this.newId });
    await tx.writePlan(events, plan);
    const byStatus: Record<string, number> = {};
    for (const outcome of plan.outcomes.values())
      byStatus[outcome.status] = (byStatus[outcome.status] ?? 0) + 1;
    return { processed: events.length, byStatus, deviceIds: unique(events.map((e) => e.deviceId)) };
  }

  /**
   * Unlocks the blobs of photos that did not end ATTACHED with that blob, under the photos' session locks
   * (an attach of the same photo in another chunk waits, so a lock it relies on is never broken). Runs with
   * no transaction open.
   */
  private async unlockUnattached(session: ChunkSession, tenant: Tenant, locked: LockedBlob[]): Promise<void> {
    const blobs = await session.unattachedBlobs(locked);
    if (blobs.length) await this.precheck.unlock(tenant, blobs);
  }

  /**
   * An event whose data the database refuses (a value validation let through): REJECTED UNPROCESSABLE_DATA,
   * not retryable — the same body fails the same way on every attempt (docs/outcomes.md).
   */
  private async refusePoison(tenant: Tenant, eventId: string, error: unknown): Promise<ChunkSummary> {
    const described = describeError(error);
    const deviceIds = await this.store.refuse(tenant, eventId, {
      code: 'UNPROCESSABLE_DATA',
      message: `the database cannot store a value of this event (SQLSTATE ${described.code ?? '?'}: ${described.message.slice(0, 200)}); the same event fails again, so it is not retried`,
      retryable: false,
    });
    return { processed: deviceIds.length, byStatus: deviceIds.length ? { REJECTED: 1 } : {}, deviceIds };
  }
}

function mergeSummaries(a: ChunkSummary, b: ChunkSummary): ChunkSummary {
  const byStatus = { ...a.byStatus };
  for (const [status, n] of Object.entries(b.byStatus)) byStatus[status] = (byStatus[status] ?? 0) + n;
  return {
    processed: a.processed + b.processed,
    byStatus,
    deviceIds: unique([...a.deviceIds, ...b.deviceIds]),
  };
}
