/**
 * The one sync engine: applies a chunk of PENDING events — v1 events and v1.1 record events alike — through
 * one plan → write path (issue 13 item 5). The rules of a chunk's transaction live here; the store
 * (ChunkStore port) runs statements only, and the decisions are the pure planner's (shared/sync/plan-chunk.ts).
 */
import { randomUUID } from 'node:crypto';
import type {
  ChunkProcessor,
  ChunkStore,
  ChunkSummary,
  ChunkTransaction,
  EventPrecheck,
  LockedBlob,
  Tenant,
} from '../ports.js';
import { describeError } from '../redact.js';
import { chunkReferences, planChunk } from '../sync/plan-chunk.js';

const unique = <T>(values: T[]) => [...new Set(values)];

/**
 * Applies chunks of PENDING events exactly once, one transaction per chunk:
 * 1. wait for the push's commit (its message may come first), lock the chunk's PENDING event rows (a
 *    redelivered chunk finds none and applies nothing a second time);
 * 2. lock the photos it attaches, then run the precheck (checks outside the database: the photo's blob), so a
 *    photo's check and link agree; the precheck runs in every attempt, halved chunks included;
 * 3. lock what it rewrites — equipment rows, production and record keys, each in sorted order (no deadlock);
 * 4. load its inputs, plan (pure), write the plan, unlock the blobs of photos that did not end attached.
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

  async process(tenant: Tenant, batchId: string, eventIds: string[]): Promise<ChunkSummary> {
    const locked: LockedBlob[] = [];
    try {
      return await this.store.inTransaction(tenant, (tx) => this.apply(tx, tenant, eventIds, locked));
    } catch (error) {
      const poison = this.store.isPoison(error);
      if (locked.length) {
        // Rolled back: no photo of this attempt is attached, so none of its blobs may stay locked. When
        // the chunk is redelivered anyway, an unlock that fails now is done by the next attempt (which
        // finds the lock and releases it unless it attaches); a poison event is settled now, so not here.
        const unlocking = this.store.inTransaction(tenant, async (tx) => {
          await tx.lockPhotos(locked.map((l) => l.photoId));
          await this.unlockUnattached(tx, tenant, locked);
        });
        await (poison ? unlocking : unlocking.catch(() => {}));
      }
      if (!poison) throw error;
      // One event's data broke a statement: find it by halving, apply the rest, refuse only that one.
      if (eventIds.length === 1) return this.refusePoison(tenant, eventIds[0] as string, error);
      const middle = Math.ceil(eventIds.length / 2);
      const [left, right] = [eventIds.slice(0, middle), eventIds.slice(middle)];
      return mergeSummaries(
        await this.process(tenant, batchId, left),
        await this.process(tenant, batchId, right),
      );
    }
  }

  private async apply(
    tx: ChunkTransaction,
    tenant: Tenant,
    eventIds: string[],
    locked: LockedBlob[],
  ): Promise<ChunkSummary> {
    const events = await tx.loadPending(eventIds);
    if (events.length === 0) return { processed: 0, byStatus: {}, deviceIds: [] };
    const refs = chunkReferences(events);
    // One chunk at a time per photo, from its check to its commit: its link and its lock agree.
    await tx.lockPhotos(refs.photoIds);
    const checked = await this.precheck.check(tenant, events);
    locked.push(...checked.locked);
    await tx.lockRecords(refs);
    const input = await tx.loadInput(events, refs);
    const plan = planChunk({ ...input, prechecked: checked.outcomes, newId: this.newId });
    await tx.writePlan(events, plan);
    if (locked.length) await this.unlockUnattached(tx, tenant, locked);
    const byStatus: Record<string, number> = {};
    for (const outcome of plan.outcomes.values())
      byStatus[outcome.status] = (byStatus[outcome.status] ?? 0) + 1;
    return { processed: events.length, byStatus, deviceIds: unique(events.map((e) => e.deviceId)) };
  }

  /**
   * Unlocks the blobs of photos that did not end ATTACHED with that blob, under the photos' advisory locks
   * (held by `tx`: an attach of the same photo in another chunk waits, so a lock it relies on is never broken).
   */
  private async unlockUnattached(tx: ChunkTransaction, tenant: Tenant, locked: LockedBlob[]): Promise<void> {
    const blobs = await tx.unattachedBlobs(locked);
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
