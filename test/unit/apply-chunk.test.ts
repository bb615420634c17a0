import { describe, expect, it } from 'vitest';
import type { SyncEvent } from '../../shared/contracts/events.js';
import type { EventError } from '../../shared/contracts/sync.js';
import type {
  ChunkSession,
  ChunkStore,
  ChunkTransaction,
  EventPrecheck,
  LockedBlob,
} from '../../shared/usecases/ports/chunks.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import type { ChunkPlan, PendingEvent } from '../../shared/sync/plan-chunk.js';
import { ChunkEngine } from '../../shared/usecases/apply-chunk.js';

// The chunk engine's orchestration (shared/usecases/apply-chunk.ts) against a fake store: the order of the
// steps, the precheck in every attempt, poison isolation by halving. The Postgres store is exercised by the
// integration tests (exactly-once, photo-outcomes, records).

const tenant = { id: 't-1' } as Tenant;
const note = (id: string, text: string): PendingEvent => ({
  event: {
    id,
    type: 'NOTES_ADDED',
    occurredAt: '2025-10-25T08:30:00.000Z',
    payload: { target: { type: 'WELL', id: 'w-1' }, text },
  } as SyncEvent,
  batchId: 'b-1',
  deviceId: 'dev-a',
  userId: 'u-a',
});

const photo = (id: string, photoId: string): PendingEvent => ({
  event: {
    id,
    type: 'PHOTO_ATTACHED',
    occurredAt: '2025-10-25T08:31:00.000Z',
    payload: {
      photoId,
      blobName: `t-1/${photoId}.jpg`,
      contentType: 'image/jpeg',
      sizeBytes: 10,
      target: { type: 'WELL', id: 'w-1' },
      takenAt: '2025-10-25T08:29:00.000Z',
    },
  } as SyncEvent,
  batchId: 'b-1',
  deviceId: 'dev-a',
  userId: 'u-a',
});

class FakeStore implements ChunkStore {
  steps: string[] = [];
  refused: { eventId: string; error: EventError }[] = [];
  written: string[] = [];
  constructor(
    private readonly events: PendingEvent[],
    private readonly poisonText?: string,
  ) {}
  isPoison = (error: unknown) => (error as { code?: string }).code === '22P02';
  /** Runs when pendingEventIds is called: another processor settling events meanwhile. */
  beforePendingIds: () => void = () => {};
  async pendingEventIds(_t: Tenant, batchId: string) {
    this.beforePendingIds();
    this.steps.push(`pendingEventIds ${batchId}`);
    return this.events
      .filter((e) => e.batchId === batchId && !this.written.includes(e.event.id) && !this.isRefused(e))
      .map((e) => e.event.id);
  }
  private isRefused = (e: PendingEvent) => this.refused.some((r) => r.eventId === e.event.id);
  async refuse(_t: Tenant, eventId: string, error: EventError) {
    this.refused.push({ eventId, error });
    return ['dev-a'];
  }
  /** Whether a transaction is open now (the engine must call no other service then). */
  open = false;
  async withPhotoLocks<T>(_t: Tenant, photoIds: string[], work: (s: ChunkSession) => Promise<T>): Promise<T> {
    this.steps.push(`lockPhotos ${[...photoIds].sort().join(',')}`);
    try {
      return await work({
        inTransaction: (w) => this.inTransaction(_t, w),
        unattachedBlobs: async (locked: LockedBlob[]) => {
          this.steps.push('unattachedBlobs');
          if (this.open) throw new Error('unattachedBlobs runs with no transaction open');
          return locked.map((l) => l.blobName).filter((b) => !this.attached.includes(b));
        },
      });
    } finally {
      this.steps.push('unlockPhotos');
    }
  }
  /** Blobs of photos that end attached. */
  attached: string[] = [];
  async inTransaction<T>(_t: Tenant, work: (tx: ChunkTransaction) => Promise<T>): Promise<T> {
    const pending: string[] = [];
    const tx: ChunkTransaction = {
      loadPending: async ({ batchId, eventIds }) => {
        this.steps.push(eventIds ? `loadPending ${eventIds.length}` : `loadPending batch ${batchId}`);
        return this.events.filter(
          (e) =>
            (eventIds ? eventIds.includes(e.event.id) : e.batchId === batchId) &&
            !this.written.includes(e.event.id),
        );
      },
      lockRecords: async () => void this.steps.push('lockRecords'),
      loadInput: async (events) => {
        this.steps.push('loadInput');
        return {
          events,
          wells: new Map([['w-1', { status: 'ACTIVE' as const }]]),
          equipment: new Map(),
          production: new Map(),
          strategies: {},
        };
      },
      writePlan: async (events, plan: ChunkPlan) => {
        this.steps.push('writePlan');
        if (
          this.poisonText !== undefined &&
          events.some((e) => (e.event.payload as { text?: string }).text === this.poisonText)
        )
          throw Object.assign(new Error('invalid input syntax'), { code: '22P02' });
        pending.push(...[...plan.outcomes.keys()]);
      },
    };
    this.open = true;
    try {
      const result = await work(tx);
      this.written.push(...pending); // committed
      this.steps.push('commit');
      return result;
    } catch (error) {
      this.steps.push('rollback');
      throw error;
    } finally {
      this.open = false;
    }
  }
}

const precheck = (log: string[]): EventPrecheck => ({
  check: async (_t, events) => {
    log.push(`precheck ${events.length}`);
    return { outcomes: new Map(), locked: [] };
  },
  unlock: async () => {},
});

describe('ChunkEngine (use case) over the ChunkStore port', () => {
  it('a chunk without photos: waits for the push, takes PENDING events, locks records, loads, plans, writes', async () => {
    const store = new FakeStore([note('e1', 'a'), note('e2', 'b')]);
    const log: string[] = [];
    const summary = await new ChunkEngine(store, precheck(log)).process(tenant, 'b-1', ['e1', 'e2']);
    expect(store.steps).toEqual(['loadPending 2', 'lockRecords', 'loadInput', 'writePlan', 'commit']);
    // Nothing to check outside the database: no precheck, no photo locks.
    expect(log).toEqual([]);
    expect(summary).toEqual({ processed: 2, byStatus: { APPLIED: 2 }, deviceIds: ['dev-a'] });
    // Redelivered: nothing PENDING, nothing applied again.
    const again = await new ChunkEngine(store, precheck(log)).process(tenant, 'b-1', ['e1', 'e2']);
    expect(again.processed).toBe(0);
  });

  it('a poison event is found by halving: the rest applies, it alone is REJECTED UNPROCESSABLE_DATA', async () => {
    const events = ['a', 'b', 'bad', 'c', 'd'].map((text, i) => note(`e${i}`, text));
    const store = new FakeStore(events, 'bad');
    const log: string[] = [];
    const summary = await new ChunkEngine(store, precheck(log)).process(
      tenant,
      'b-1',
      events.map((e) => e.event.id),
    );
    expect(store.refused.map((r) => [r.eventId, r.error.code, r.error.retryable])).toEqual([
      ['e2', 'UNPROCESSABLE_DATA', false],
    ]);
    expect(store.written.sort()).toEqual(['e0', 'e1', 'e3', 'e4']);
    expect(summary.byStatus).toEqual({ APPLIED: 4, REJECTED: 1 });
    expect(log).toEqual([]);
  });

  it('a chunk that names its batch only: takes the batch’s PENDING events, and halves by their ids on a poison event', async () => {
    const events = ['a', 'bad', 'c'].map((text, i) => note(`e${i}`, text));
    const store = new FakeStore(events, 'bad');
    const summary = await new ChunkEngine(store, precheck([])).process(tenant, 'b-1');
    expect(store.steps.slice(0, 3)).toEqual(['loadPending batch b-1', 'lockRecords', 'loadInput']);
    expect(store.steps).toContain('pendingEventIds b-1');
    expect(store.refused.map((r) => r.eventId)).toEqual(['e1']);
    expect(store.written.sort()).toEqual(['e0', 'e2']);
    expect(summary.byStatus).toEqual({ APPLIED: 2, REJECTED: 1 });
    // Redelivered: nothing of the batch PENDING, nothing applied again.
    expect((await new ChunkEngine(store, precheck([])).process(tenant, 'b-1')).processed).toBe(0);
  });

  it('a chunk that names its batch only never refuses an event that did not fail alone (another processor settled the poison one meanwhile)', async () => {
    // Prepare: the batch's poison event and one valid event; between the failed attempt and the lookup of
    // the ids left, another processor settles the poison one (as it would after isolating it).
    const events = [note('e0', 'bad'), note('e1', 'fine')];
    const store = new FakeStore(events, 'bad');
    store.beforePendingIds = () => void store.written.push('e0');
    // Act
    const summary = await new ChunkEngine(store, precheck([])).process(tenant, 'b-1');
    // Assess: the valid event is tried on its own and applied, not refused with the other's error.
    expect(store.refused).toEqual([]);
    expect(store.written).toContain('e1');
    expect(summary.byStatus).toEqual({ APPLIED: 1 });
  });

  it('any other failure is thrown (the message is retried), nothing refused', async () => {
    const store = new FakeStore([note('e1', 'a')]);
    store.isPoison = () => false;
    const failing = Object.assign(store, {
      inTransaction: async () => {
        throw new Error('connection reset');
      },
    });
    await expect(new ChunkEngine(failing, precheck([])).process(tenant, 'b-1', ['e1'])).rejects.toThrow(
      'connection reset',
    );
    expect(store.refused).toEqual([]);
  });

  it('a chunk that attaches a photo: no Blob call while its transaction is open; check, link and unlock under the photo lock', async () => {
    const events = [note('e1', 'a'), photo('e2', 'P-1'), photo('e3', 'p-2')];
    const store = new FakeStore(events);
    store.attached = ['t-1/P-1.jpg'];
    const calls: string[] = [];
    const spy: EventPrecheck = {
      check: async (_t, checked) => {
        calls.push(`check ${checked.map((e) => e.event.id).join(',')} open=${store.open}`);
        store.steps.push('precheck');
        return {
          outcomes: new Map(),
          locked: checked.map((e) => ({
            photoId: String((e.event.payload as { photoId: string }).photoId).toLowerCase(),
            blobName: (e.event.payload as { blobName: string }).blobName,
          })),
        };
      },
      unlock: async (_t, blobs) => {
        calls.push(`unlock ${blobs.join(',')} open=${store.open}`);
        store.steps.push('unlockBlobs');
      },
    };
    const summary = await new ChunkEngine(store, spy).process(tenant, 'b-1', ['e1', 'e2', 'e3']);
    expect(calls).toEqual(['check e2,e3 open=false', 'unlock t-1/p-2.jpg open=false']);
    expect(store.steps).toEqual([
      // The plain transaction finds attaches and rolls back before any Blob call.
      'loadPending 3',
      'rollback',
      'lockPhotos p-1,p-2',
      'precheck',
      'loadPending 3',
      'lockRecords',
      'loadInput',
      'writePlan',
      'commit',
      'unattachedBlobs',
      'unlockBlobs',
      'unlockPhotos',
    ]);
    expect(summary.processed).toBe(3);
  });

  it('a poison event next to a photo: each attempt with the photo prechecks it, a rolled-back one unlocks its blob', async () => {
    const events = [photo('e0', 'p-1'), note('e1', 'bad'), note('e2', 'c')];
    const store = new FakeStore(events, 'bad');
    store.attached = ['t-1/p-1.jpg'];
    const calls: string[] = [];
    const spy: EventPrecheck = {
      check: async (_t, checked) => {
        calls.push(`check ${checked.map((e) => e.event.id).join(',')} open=${store.open}`);
        return { outcomes: new Map(), locked: [{ photoId: 'p-1', blobName: 't-1/p-1.jpg' }] };
      },
      unlock: async (_t, blobs) => void calls.push(`unlock ${blobs.join(',')} open=${store.open}`),
    };
    // The rolled-back attempt: its photo is not attached yet.
    store.attached = [];
    const engine = new ChunkEngine(store, spy);
    const original = store.inTransaction.bind(store);
    store.inTransaction = async (t, work) => {
      const result = await original(t, work);
      if (store.written.includes('e0')) store.attached = ['t-1/p-1.jpg'];
      return result;
    };
    const summary = await engine.process(tenant, 'b-1', ['e0', 'e1', 'e2']);
    expect(store.refused.map((r) => r.eventId)).toEqual(['e1']);
    expect(summary.byStatus).toEqual({ APPLIED: 2, REJECTED: 1 });
    expect(calls).toEqual([
      'check e0 open=false', // the whole chunk: rolled back by the poison event
      'unlock t-1/p-1.jpg open=false',
      'check e0 open=false', // the left half [e0, e1]: rolled back too
      'unlock t-1/p-1.jpg open=false',
      'check e0 open=false', // [e0] alone: attached, its blob stays locked
    ]);
  });
});
