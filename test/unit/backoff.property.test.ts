import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.js';
import {
  backoffDelaySeconds,
  backoffSchedule,
  nextRetryDelaySeconds,
  type RetryPolicy,
} from '../../shared/sync/backoff.js';

// The back-off of failed sync chunks (issue 12 item 4): shared/sync/backoff.ts.
const RUNS = { numRuns: 500 };

/** Policies the config accepts: base ≤ max delay, span ≤ 1000 × base. */
const policy: fc.Arbitrary<RetryPolicy> = fc
  .record({
    baseSeconds: fc.double({ min: 0.01, max: 60, noNaN: true }),
    factor: fc.double({ min: 1, max: 100, noNaN: true }),
    spanFactor: fc.double({ min: 0.01, max: 1000, noNaN: true }),
  })
  .map(({ baseSeconds, factor, spanFactor }) => ({
    baseSeconds,
    maxDelaySeconds: baseSeconds * factor,
    spanSeconds: baseSeconds * spanFactor,
  }));

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe('back-off schedule (shared/sync/backoff.ts)', () => {
  it('is monotone, capped by maxDelaySeconds, starts at baseSeconds', () => {
    fc.assert(
      fc.property(policy, (p) => {
        const delays = backoffSchedule(p);
        expect(delays[0]).toBe(Math.min(p.baseSeconds, p.maxDelaySeconds));
        for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] ?? 0);
        expect(delays.every((d) => d > 0 && d <= p.maxDelaySeconds)).toBe(true);
      }),
      RUNS,
    );
  });

  it('spans at least spanSeconds, and less than one delay more', () => {
    fc.assert(
      fc.property(policy, (p) => {
        const delays = backoffSchedule(p);
        const total = sum(delays);
        expect(total).toBeGreaterThanOrEqual(p.spanSeconds);
        expect(total - (delays.at(-1) ?? 0)).toBeLessThan(p.spanSeconds);
        // Bounded: never more attempts than the span allows at the base delay, plus one.
        expect(delays.length).toBeLessThanOrEqual(Math.ceil(p.spanSeconds / p.baseSeconds) + 1);
      }),
      RUNS,
    );
  });

  it('nextRetryDelaySeconds walks the schedule, then gives up', () => {
    fc.assert(
      fc.property(policy, (p) => {
        const delays = backoffSchedule(p);
        delays.forEach((delay, i) => {
          expect(nextRetryDelaySeconds(p, i + 1)).toBe(delay);
          expect(backoffDelaySeconds(p, i + 1)).toBe(delay);
        });
        expect(nextRetryDelaySeconds(p, delays.length + 1)).toBeUndefined();
        expect(nextRetryDelaySeconds(p, delays.length + 50)).toBeUndefined();
      }),
      RUNS,
    );
  });

  it('the defaults outlast a 60-second database outage by far and span at least 10 minutes', () => {
    const config = loadConfig({
      POSTGRES_URL: 'postgres://localhost/x',
      CosmosConnection: 'AccountEndpoint=https://localhost:8081/;AccountKey=a2V5;',
      StorageConnection: 'UseDevelopmentStorage=true',
      AUTH_ISSUER: 'i',
      AUTH_AUDIENCE: 'a',
      AUTH_DEV_SECRET: 'x'.repeat(32),
    });
    const { retry } = config.queue;
    const delays = backoffSchedule(retry);
    expect(sum(delays)).toBeGreaterThanOrEqual(600);
    // Attempts that start while a 60 s outage (from the first attempt) lasts: all of them fail...
    let elapsed = 0;
    let failedDuringOutage = 0;
    while (elapsed < 60) elapsed += delays[failedDuringOutage++] ?? Number.POSITIVE_INFINITY;
    // ...and the next attempt after them still belongs to the schedule: no event becomes FAILED.
    expect(failedDuringOutage).toBeLessThan(delays.length);
    expect(nextRetryDelaySeconds(retry, failedDuringOutage)).toBeDefined();
    expect(delays.every((d) => d <= retry.maxDelaySeconds)).toBe(true);
  });

  it('the config refuses a base above the maximum delay and an unbounded number of attempts', () => {
    const base = {
      POSTGRES_URL: 'postgres://localhost/x',
      CosmosConnection: 'AccountEndpoint=https://localhost:8081/;AccountKey=a2V5;',
      StorageConnection: 'UseDevelopmentStorage=true',
      AUTH_ISSUER: 'i',
      AUTH_AUDIENCE: 'a',
      AUTH_DEV_SECRET: 'x'.repeat(32),
    };
    expect(() =>
      loadConfig({ ...base, QUEUE_RETRY_BASE_SECONDS: '30', QUEUE_RETRY_MAX_DELAY_SECONDS: '10' }),
    ).toThrow(/QUEUE_RETRY_MAX_DELAY_SECONDS/);
    expect(() =>
      loadConfig({ ...base, QUEUE_RETRY_BASE_SECONDS: '0.01', QUEUE_RETRY_SPAN_SECONDS: '900' }),
    ).toThrow(/QUEUE_RETRY_SPAN_SECONDS/);
    expect(() => loadConfig({ ...base, QUEUE_RETRY_BASE_SECONDS: '0' })).toThrow(/QUEUE_RETRY_BASE_SECONDS/);
    expect(loadConfig({ ...base, QUEUE_RETRY_BASE_SECONDS: '1.5' }).queue.retry.baseSeconds).toBe(1.5);
  });
});
