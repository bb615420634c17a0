import { describe, expect, it } from 'vitest';
import type { SyncEvent } from '../../shared/contracts/events.js';
import type { EventError } from '../../shared/contracts/sync.js';
import type { ChunkStore, ChunkTransaction, EventPrecheck, LockedBlob, Tenant } from '../../shared/ports.js';
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

class FakeStore implements ChunkStore {
  steps: string[] = [];
  refused: { eventId: string; error: EventError }[] = [];
  written: string[] = [];
  constructor(
    private readonly events: PendingEvent[],
    private readonly poisonText?: string,
  ) {}
  isPoison = (error: unknown) => (error as { code?: string }).code === '22P02';
  async refuse(_t: Tenant, eventId: string, error: EventError) {
    this.refused.push({ eventId, error });
    return ['dev-a'];
  }
  async inTransaction<T>(_t: Tenant, work: (tx: ChunkTransaction) => Promise<T>): Promise<T> {
    const pending: string[] = [];
    const tx: ChunkTransaction = {
      loadPending: async (ids) => {
        this.steps.push(`loadPending ${ids.length}`);
        return this.events.filter((e) => ids.includes(e.event.id) && !this.written.includes(e.event.id));
      },
      lockPhotos: async () => void this.steps.push('lockPhotos'),
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
        if (events.some((e) => (e.event.payload as { text?: string }).text === this.poisonText))
          throw Object.assign(new Error('invalid input syntax'), { code: '22P02' });
        pending.push(...[...plan.outcomes.keys()]);
      },
      unattachedBlobs: async (locked: LockedBlob[]) => locked.map((l) => l.blobName),
    };
    const result = await work(tx);
    this.written.push(...pending); // committed
    return result;
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
  it('waits for the push, takes PENDING events, locks photos, prechecks, locks records, loads, plans, writes', async () => {
    const store = new FakeStore([note('e1', 'a'), note('e2', 'b')]);
    const log: string[] = [];
    const summary = await new ChunkEngine(store, precheck(log)).process(tenant, 'b-1', ['e1', 'e2']);
    expect(store.steps).toEqual(['loadPending 2', 'lockPhotos', 'lockRecords', 'loadInput', 'writePlan']);
    expect(log).toEqual(['precheck 2']);
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
    // The precheck ran in every attempt, halves included.
    expect(log.length).toBeGreaterThan(1);
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
});
