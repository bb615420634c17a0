import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SyncEvent } from '../../shared/contracts/events.js';
import {
  type ChunkInput,
  type EquipmentState,
  type Outcome,
  type PendingEvent,
  planChunk,
  type SettledAttach,
  type Target,
} from '../../shared/sync/plan-chunk.js';

const equipment = (id: string, deleted: boolean): EquipmentState => ({
  id,
  wellId: 'well-1',
  deleted,
  version: 1,
  values: { status: 'OPERATIONAL', serialNumber: 'SN', manufacturer: null, model: null, notes: null },
  fieldMeta: {},
  baseStamp: { occurredAt: '2025-10-01T00:00:00.000Z', deviceId: '', eventId: '' },
});

const pending = (
  type: SyncEvent['type'],
  payload: Record<string, unknown>,
  options: { id?: string; occurredAt?: string; deviceId?: string } = {},
): PendingEvent => ({
  event: {
    id: options.id ?? randomUUID(),
    type,
    occurredAt: options.occurredAt ?? '2025-10-25T08:30:00.000Z',
    payload,
  } as SyncEvent,
  batchId: 'b-1',
  deviceId: options.deviceId ?? 'tablet',
  userId: 'u-1',
});

const input = (events: PendingEvent[], extra: Partial<ChunkInput> = {}): ChunkInput => {
  let n = 0;
  return {
    events,
    wells: new Map([
      ['well-1', { status: 'ACTIVE' as const }],
      ['well-off', { status: 'INACTIVE' as const }],
      ['well-plugged', { status: 'PLUGGED' as const }],
    ]),
    equipment: new Map([
      ['pump-1', equipment('pump-1', false)],
      ['pump-gone', equipment('pump-gone', true)],
    ]),
    production: new Map(),
    strategies: {},
    newId: () => `c-${(n += 1)}`,
    ...extra,
  };
};

const note = (target: Target, options: Parameters<typeof pending>[2] = {}) =>
  pending('NOTES_ADDED', { target, text: 'Leak fixed' }, options);

const photo = (photoId: string, target: Target, options: Parameters<typeof pending>[2] = {}) =>
  pending(
    'PHOTO_ATTACHED',
    {
      photoId,
      blobName: `t/${photoId}.jpg`,
      contentType: 'image/jpeg',
      sizeBytes: 100,
      target,
      takenAt: '2025-10-25T08:00:00.000Z',
    },
    options,
  );

const inspection = (wellId: string, occurredAt = '2025-10-25T09:00:00.000Z') =>
  pending(
    'EQUIPMENT_INSPECTED',
    { wellId, inspectionType: 'ROUTINE', status: 'PASS', inspectedAt: occurredAt },
    { occurredAt },
  );
const maintenance = (equipmentId: string, occurredAt = '2025-10-25T09:00:00.000Z') =>
  pending(
    'MAINTENANCE_LOGGED',
    { equipmentId, maintenanceType: 'ROUTINE', description: 'belt', performedAt: occurredAt },
    { occurredAt },
  );
const production = (wellId: string, occurredAt = '2025-10-25T09:00:00.000Z') =>
  pending('PRODUCTION_LOGGED', { wellId, productionDate: '2025-10-24', oilVolume: 10 }, { occurredAt });
const reading = (wellId: string) =>
  pending('WELL_READING_RECORDED', {
    wellId,
    readingType: 'PRESSURE',
    value: 850,
    unit: 'psi',
    recordedAt: '2025-10-25T08:00:00.000Z',
  });

const codeOf = (outcome: Outcome | undefined) => outcome?.error?.code ?? outcome?.status;

/** The events that name a target, each in a chunk of its own beside a reading that must stay APPLIED. */
const TARGETING = [
  { type: 'NOTES_ADDED', make: (target: Target) => note(target) },
  { type: 'PHOTO_ATTACHED', make: (target: Target) => photo(randomUUID(), target) },
] as const;

describe.each(TARGETING)('planChunk: the target of $type follows the reference rules', ({ make }) => {
  const outcomeOf = (target: Target, extra: Partial<ChunkInput> = {}, others: PendingEvent[] = []) => {
    const event = make(target);
    const neighbour = reading('well-1');
    const plan = planChunk(input([neighbour, ...others, event], extra));
    // The neighbour is never affected by the target's fate.
    expect(plan.outcomes.get(neighbour.event.id)).toEqual({ status: 'APPLIED' });
    return { outcome: plan.outcomes.get(event.event.id), plan, event };
  };

  it.each([
    [{ type: 'WELL', id: 'well-1' }, 'APPLIED'],
    [{ type: 'WELL', id: 'no-such-well' }, 'WELL_NOT_FOUND'],
    [{ type: 'WELL', id: 'well-off' }, 'WELL_INACTIVE'],
    [{ type: 'WELL', id: 'well-plugged' }, 'WELL_INACTIVE'],
    [{ type: 'EQUIPMENT', id: 'pump-1' }, 'APPLIED'],
    [{ type: 'EQUIPMENT', id: 'no-such-pump' }, 'EQUIPMENT_NOT_FOUND'],
    [{ type: 'EQUIPMENT', id: 'pump-gone' }, 'EQUIPMENT_DELETED'],
  ])('%o → %s (not retryable)', (target, expected) => {
    const { outcome } = outcomeOf(target);
    expect(codeOf(outcome)).toBe(expected);
    if (outcome?.error) expect(outcome.error.retryable).toBe(false);
  });

  it.each(['INSPECTION', 'MAINTENANCE', 'PRODUCTION'] as const)(
    'a %s target: unknown → TARGET_NOT_FOUND (retryable); known in the database (any case) → APPLIED',
    (type) => {
      const id = randomUUID();
      const unknown = outcomeOf({ type, id });
      expect(unknown.outcome).toMatchObject({
        status: 'REJECTED',
        error: { code: 'TARGET_NOT_FOUND', retryable: true },
      });
      // Known: the database holds it (ids come in lower case from Postgres; the device may send upper case).
      const known = outcomeOf({ type, id: id.toUpperCase() }, { targets: { [type]: new Set([id]) } });
      expect(known.outcome).toEqual({ status: 'APPLIED' });
      // A set for another type does not count.
      const other = type === 'INSPECTION' ? 'MAINTENANCE' : 'INSPECTION';
      expect(codeOf(outcomeOf({ type, id }, { targets: { [other]: new Set([id]) } }).outcome)).toBe(
        'TARGET_NOT_FOUND',
      );
    },
  );

  const creators = {
    INSPECTION: { good: () => inspection('well-1'), bad: () => inspection('no-such-well') },
    MAINTENANCE: { good: () => maintenance('pump-1'), bad: () => maintenance('pump-gone') },
    PRODUCTION: { good: () => production('well-1'), bad: () => production('well-off') },
  } as const;

  it.each(['INSPECTION', 'MAINTENANCE', 'PRODUCTION'] as const)(
    'a %s created in the same chunk counts, whatever its stamp; one the chunk rejects does not',
    (type) => {
      // The creating event occurs after the note/photo: still planned first.
      const created = creators[type].good();
      const { outcome, plan } = outcomeOf({ type, id: created.event.id }, {}, [created]);
      expect(plan.outcomes.get(created.event.id)?.status).toBe('APPLIED');
      expect(outcome).toEqual({ status: 'APPLIED' });

      const refused = creators[type].bad();
      const second = outcomeOf({ type, id: refused.event.id }, {}, [refused]);
      expect(second.plan.outcomes.get(refused.event.id)?.status).toBe('REJECTED');
      expect(codeOf(second.outcome)).toBe('TARGET_NOT_FOUND');

      // The id of an event of another type is not a target of this type.
      const wrongType = type === 'INSPECTION' ? maintenance('pump-1') : inspection('well-1');
      expect(codeOf(outcomeOf({ type, id: wrongType.event.id }, {}, [wrongType]).outcome)).toBe(
        'TARGET_NOT_FOUND',
      );
    },
  );

  it('a precheck outcome (the photo was not uploaded) is kept as decided', () => {
    const event = make({ type: 'WELL', id: 'well-1' });
    const refused: Outcome = {
      status: 'REJECTED',
      error: { code: 'PHOTO_NOT_UPLOADED', message: 'x', retryable: true },
    };
    const plan = planChunk(input([event], { prechecked: new Map([[event.event.id, refused]]) }));
    expect(plan.outcomes.get(event.event.id)).toBe(refused);
    expect(plan.appends.PHOTO_ATTACHED).toEqual([]);
    expect(plan.appends.NOTES_ADDED).toEqual([]);
  });
});

describe('planChunk: one photo, one link', () => {
  const A: Target = { type: 'WELL', id: 'well-1' };
  const B: Target = { type: 'EQUIPMENT', id: 'pump-1' };

  it('two attaches with different targets: the later is APPLIED and linked, the other says why it was not', () => {
    const photoId = randomUUID();
    const early = photo(photoId, A, { occurredAt: '2025-10-25T08:00:00.000Z' });
    const late = photo(photoId, B, { occurredAt: '2025-10-25T09:00:00.000Z' });
    const neighbour = note(A);
    for (const events of [
      [early, late, neighbour],
      [neighbour, late, early],
    ]) {
      const plan = planChunk(input(events));
      expect(plan.outcomes.get(late.event.id)).toEqual({ status: 'APPLIED' });
      expect(plan.outcomes.get(early.event.id)).toMatchObject({
        status: 'REJECTED',
        error: { code: 'PHOTO_ATTACHED_ELSEWHERE', retryable: false },
      });
      expect(plan.outcomes.get(early.event.id)?.error?.message).toContain(late.event.id);
      expect(plan.appends.PHOTO_ATTACHED.map((r) => r.eventId)).toEqual([late.event.id]);
      expect(plan.outcomes.get(neighbour.event.id)).toEqual({ status: 'APPLIED' });
    }
  });

  it('the same target twice: the earlier is a DUPLICATE of the later', () => {
    const photoId = randomUUID();
    const early = photo(photoId, A, { occurredAt: '2025-10-25T08:00:00.000Z' });
    const late = photo(photoId.toUpperCase(), A, { occurredAt: '2025-10-25T09:00:00.000Z' });
    const plan = planChunk(input([late, early]));
    expect(plan.outcomes.get(early.event.id)).toEqual({ status: 'DUPLICATE' });
    expect(plan.outcomes.get(late.event.id)).toEqual({ status: 'APPLIED' });
    expect(plan.appends.PHOTO_ATTACHED).toHaveLength(1);
  });

  it('an attach refused by its target does not compete for the link', () => {
    const photoId = randomUUID();
    const good = photo(photoId, A, { occurredAt: '2025-10-25T08:00:00.000Z' });
    const bad = photo(photoId, { type: 'WELL', id: 'well-off' }, { occurredAt: '2025-10-25T09:00:00.000Z' });
    const plan = planChunk(input([good, bad]));
    expect(plan.outcomes.get(good.event.id)).toEqual({ status: 'APPLIED' });
    expect(codeOf(plan.outcomes.get(bad.event.id))).toBe('WELL_INACTIVE');
  });

  it('against an earlier chunk: a newer attach relabels the old one; an older one loses to it', () => {
    const photoId = randomUUID();
    const settled: SettledAttach = {
      eventId: randomUUID(),
      stamp: { occurredAt: '2025-10-25T08:30:00.000Z', deviceId: 'tablet', eventId: 'x' },
      target: A,
      outcome: { status: 'APPLIED' },
    };
    settled.stamp.eventId = settled.eventId;
    const photoAttaches = new Map([[photoId, [settled]]]);

    const newer = photo(photoId, B, { occurredAt: '2025-10-25T09:00:00.000Z' });
    const plan = planChunk(input([newer], { photoAttaches }));
    expect(plan.outcomes.get(newer.event.id)).toEqual({ status: 'APPLIED' });
    expect(plan.relabelled).toEqual([
      {
        eventId: settled.eventId,
        outcome: expect.objectContaining({
          error: expect.objectContaining({ code: 'PHOTO_ATTACHED_ELSEWHERE' }),
        }),
      },
    ]);

    const older = photo(photoId, B, { occurredAt: '2025-10-25T08:00:00.000Z' });
    const second = planChunk(input([older], { photoAttaches }));
    expect(codeOf(second.outcomes.get(older.event.id))).toBe('PHOTO_ATTACHED_ELSEWHERE');
    expect(second.appends.PHOTO_ATTACHED).toEqual([]);
    expect(second.relabelled).toEqual([]);
  });
});

describe('planChunk: attaches of one photo — outcomes do not depend on arrival order (property)', () => {
  const TARGETS: Target[] = [
    { type: 'WELL', id: 'well-1' },
    { type: 'EQUIPMENT', id: 'pump-1' },
    { type: 'WELL', id: 'well-off' }, // refused: never competes
  ];
  const TIMES = ['2025-10-25T08:00:00.000Z', '2025-10-25T08:30:00.000Z', '2025-10-25T09:00:00.000Z'];
  const DEVICES = ['phone', 'tablet'];

  const attachesArb = fc
    .array(
      fc.record({
        target: fc.constantFrom(...TARGETS),
        occurredAt: fc.constantFrom(...TIMES),
        deviceId: fc.constantFrom(...DEVICES),
      }),
      { minLength: 1, maxLength: 5 },
    )
    .map((items) => {
      const photoId = '6f1d2a4e-0000-4000-8000-000000000001';
      return items.map((item, i) =>
        photo(photoId, item.target, {
          id: `00000000-0000-4000-8000-00000000000${i}`,
          occurredAt: item.occurredAt,
          deviceId: item.deviceId,
        }),
      );
    });

  /**
   * Runs the events through successive chunks as the processor would: each chunk sees the attaches
   * earlier chunks settled (APPLIED, DUPLICATE, PHOTO_ATTACHED_ELSEWHERE), and relabels apply to them.
   * Returns every event's final outcome and the link the photo ends with.
   */
  function run(chunks: PendingEvent[][]) {
    const log = new Map<string, { event: PendingEvent; outcome: Outcome }>();
    let link: string | undefined;
    for (const chunk of chunks) {
      const settled: SettledAttach[] = [...log.values()]
        .filter(
          ({ outcome }) =>
            outcome.status === 'APPLIED' ||
            outcome.status === 'DUPLICATE' ||
            outcome.error?.code === 'PHOTO_ATTACHED_ELSEWHERE',
        )
        .map(({ event, outcome }) => ({
          eventId: event.event.id,
          stamp: { occurredAt: event.event.occurredAt, deviceId: event.deviceId, eventId: event.event.id },
          target: (event.event.payload as { target: Target }).target,
          outcome,
        }));
      const photoId = (chunk[0]?.event.payload as { photoId: string }).photoId;
      const plan = planChunk(input(chunk, { photoAttaches: new Map([[photoId, settled]]) }));
      for (const event of chunk)
        log.set(event.event.id, { event, outcome: plan.outcomes.get(event.event.id) as Outcome });
      for (const r of plan.relabelled) {
        const entry = log.get(r.eventId);
        if (entry) entry.outcome = r.outcome;
      }
      const row = plan.appends.PHOTO_ATTACHED[0];
      if (row) link = JSON.stringify(row.payload.target);
    }
    const outcomes = Object.fromEntries(
      [...log].map(([id, { outcome }]) => [id, { status: outcome.status, code: outcome.error?.code }]),
    );
    return { outcomes, link };
  }

  it('in one chunk, any order; or split over chunks arriving in any order: the same outcomes and link', () => {
    fc.assert(
      fc.property(
        attachesArb.chain((events) =>
          fc.tuple(
            fc.constant(events),
            fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }),
            fc.array(fc.integer({ min: 1, max: events.length }), { maxLength: 3 }),
          ),
        ),
        ([events, shuffled, cuts]) => {
          const reference = run([events]);
          expect(run([shuffled])).toEqual(reference);
          // Arrival in several chunks, in the shuffled order.
          const bounds = [...new Set([0, ...cuts, shuffled.length])].sort((a, b) => a - b);
          const chunks = bounds
            .slice(1)
            .map((end, i) => shuffled.slice(bounds[i], end))
            .filter((c) => c.length);
          expect(run(chunks)).toEqual(reference);
          // Exactly one attach is APPLIED when any passed its checks; it names the link.
          const applied = Object.values(reference.outcomes).filter((o) => o.status === 'APPLIED');
          const passing = events.filter(
            (e) => (e.event.payload as { target: Target }).target.id !== 'well-off',
          );
          expect(applied).toHaveLength(passing.length ? 1 : 0);
        },
      ),
      { numRuns: 500 },
    );
  });
});
