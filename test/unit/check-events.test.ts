import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkEvent, checkEvents } from '../../shared/sync/validate-event.js';
import { ACCEPT_PART_SIZE, checkedParts, eventHash } from '../../shared/usecases/push.js';

const now = new Date('2026-05-01T12:00:00Z');

/** A valid NOTES_ADDED event, or (every third) one with a broken payload, or (every fifth) one from the future. */
const eventAt = (i: number): unknown => ({
  id: randomUUID(),
  type: 'NOTES_ADDED',
  occurredAt: i % 5 === 4 ? '2026-05-02T12:00:00Z' : '2026-05-01T08:00:00z',
  payload:
    i % 3 === 2 ? { target: { type: 'WELL' } } : { target: { type: 'WELL', id: `well-${i}` }, text: 'ok' },
});

describe('checkEvents', () => {
  it('answers for each event what checkEvent answers for it at its index', async () => {
    // Prepare
    const raws = Array.from({ length: 60 }, (_, i) => eventAt(i));
    // Act
    const checks = await checkEvents(raws, now, undefined, { sliceMs: 0 });
    // Assess
    expect(checks).toEqual(raws.map((raw, i) => checkEvent(raw, i, now)));
    expect(checks.filter((c) => !c.ok).length).toBeGreaterThan(0);
    expect(checks.filter((c) => c.ok).length).toBeGreaterThan(0);
  });

  it('gives the event loop back between slices: work queued meanwhile runs before it finishes', async () => {
    // Prepare: a slice of 0 ms yields after every event.
    const raws = Array.from({ length: 20 }, (_, i) => eventAt(i));
    let ranDuring = false;
    // Act
    const checking = checkEvents(raws, now, undefined, { sliceMs: 0 }).then((checks) => ({
      checks,
      ranDuring,
    }));
    setImmediate(() => {
      ranDuring = true;
    });
    const { checks, ranDuring: sawIt } = await checking;
    // Assess
    expect(checks).toHaveLength(20);
    expect(sawIt).toBe(true);
  });

  it("checks a range at the events' own indexes (their paths say events[i] of the whole push)", async () => {
    // Prepare
    const raws = Array.from({ length: 30 }, (_, i) => eventAt(i));
    // Act
    const checks = await checkEvents(raws, now, undefined, { sliceMs: 0, from: 10, to: 20 });
    // Assess
    expect(checks).toEqual(raws.slice(10, 20).map((raw, i) => checkEvent(raw, 10 + i, now)));
    const refused = checks.find((c) => !c.ok);
    expect(refused && !refused.ok && refused.rejection.index).toBeGreaterThanOrEqual(10);
  });
});

describe('checkedParts', () => {
  it('gives the push back in parts of ACCEPT_PART_SIZE: each event once, at its index, hashed', async () => {
    // Prepare
    const raws = Array.from({ length: 2 * ACCEPT_PART_SIZE + 7 }, (_, i) => eventAt(i));
    // Act
    const parts = [];
    for await (const part of checkedParts(raws, now)) parts.push(part);
    // Assess
    expect(parts.map((p) => p.accepted.length + p.rejected.length)).toEqual([
      ACCEPT_PART_SIZE,
      ACCEPT_PART_SIZE,
      7,
    ]);
    const expected = raws.map((raw, i) => checkEvent(raw, i, now));
    expect(parts.flatMap((p) => p.accepted)).toEqual(
      expected.flatMap((c, index) => (c.ok ? [{ event: c.event, hash: eventHash(c.event), index }] : [])),
    );
    expect(parts.flatMap((p) => p.rejected)).toEqual(expected.flatMap((c) => (c.ok ? [] : [c.rejection])));
  });
});
