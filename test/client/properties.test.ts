import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRetryAfter, planBatches, retryDelayMs } from '../../client/src/index.js';

// Rules of the client that must hold for all inputs (fast-check).

describe('planBatches', () => {
  it('never exceeds the limits and never loses, duplicates or reorders an event', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 2, max: 5_000 }), { maxLength: 3_000 }),
        fc.integer({ min: 1, max: 1_000 }),
        fc.integer({ min: 6_000, max: 4 * 1024 * 1024 }),
        (sizes, maxEvents, maxBytes) => {
          const events = sizes.map((bytes, i) => ({ id: `e${i}`, bytes }));
          const batches = planBatches(events, { maxEvents, maxBytes });
          // Every event once, in order.
          expect(batches.flat()).toEqual(events.map((e) => e.id));
          const size = new Map(events.map((e) => [e.id, e.bytes]));
          for (const batch of batches) {
            expect(batch.length).toBeGreaterThan(0);
            expect(batch.length).toBeLessThanOrEqual(maxEvents);
            // Envelope (1 KiB) + events + commas within the body budget, unless the batch is one event that
            // cannot fit even alone (record() refuses those before they reach the outbox).
            const bytes = 1024 + batch.reduce((sum, id) => sum + (size.get(id) ?? 0), 0) + batch.length - 1;
            if (bytes > maxBytes) expect(batch).toHaveLength(1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('fills batches: no two neighbours could have been one batch', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 2, max: 300 }), { maxLength: 500 }),
        fc.integer({ min: 1, max: 50 }),
        (sizes, maxEvents) => {
          const maxBytes = 4_000;
          const events = sizes.map((bytes, i) => ({ id: `e${i}`, bytes }));
          const size = new Map(events.map((e) => [e.id, e.bytes]));
          const batches = planBatches(events, { maxEvents, maxBytes });
          for (let i = 0; i + 1 < batches.length; i++) {
            const batch = batches[i] ?? [];
            const next = batches[i + 1]?.[0] ?? '';
            const bytes =
              1024 + [...batch, next].reduce((sum, id) => sum + (size.get(id) ?? 0), 0) + batch.length;
            expect(batch.length >= maxEvents || bytes > maxBytes).toBe(true);
          }
        },
      ),
    );
  });
});

describe('retryDelayMs', () => {
  it('never retries before Retry-After, and adds at most 1 s of jitter to it', () => {
    fc.assert(
      fc.property(
        fc.nat(20),
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, retryAfter, r) => {
          const delay = retryDelayMs(attempt, {}, retryAfter, () => r);
          expect(delay).toBeGreaterThanOrEqual(retryAfter);
          expect(delay).toBeLessThanOrEqual(retryAfter + 1_000);
        },
      ),
    );
  });

  it('without Retry-After stays between half and all of min(max, base·2^attempt)', () => {
    fc.assert(
      fc.property(
        fc.nat(60),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 0.999999, noNaN: true }),
        (attempt, baseDelayMs, maxDelayMs, r) => {
          const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** attempt);
          const delay = retryDelayMs(attempt, { baseDelayMs, maxDelayMs }, undefined, () => r);
          expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
          expect(delay).toBeLessThanOrEqual(ceiling);
        },
      ),
    );
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2026-11-30T12:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7_000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
