import {
  type Attributes,
  createNoopMeter,
  type Meter,
  type MeterProvider,
  metrics,
} from '@opentelemetry/api';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  EVENTS_METRIC,
  METER_NAME,
  QUEUE_LAG_METRIC,
  queueLagMs,
  recordOutcomes,
  recordQueueLag,
  startTelemetry,
} from '../../shared/observability.js';

const startAzureMonitor = vi.hoisted(() => vi.fn(async () => {}));
vi.mock('../../shared/adapters/telemetry/azure-monitor.js', () => ({ startAzureMonitor }));

interface Recorded {
  meter: string;
  instrument: string;
  kind: 'counter' | 'histogram';
  unit: string | undefined;
  value: number;
  attributes: Attributes | undefined;
}

/**
 * An in-memory meter provider: what an SDK would receive through the OpenTelemetry API, kept in an array.
 * (@opentelemetry/sdk-metrics is not a dependency; the API's global provider is the seam either way.)
 */
class InMemoryMeterProvider implements MeterProvider {
  readonly recorded: Recorded[] = [];

  getMeter(meterName: string): Meter {
    const record =
      (instrument: string, kind: Recorded['kind'], unit: string | undefined) =>
      (value: number, attributes?: Attributes) =>
        this.recorded.push({ meter: meterName, instrument, kind, unit, value, attributes });
    return Object.assign(Object.create(createNoopMeter()) as Meter, {
      createCounter: (name: string, options?: { unit?: string }) => ({
        add: record(name, 'counter', options?.unit),
      }),
      createHistogram: (name: string, options?: { unit?: string }) => ({
        record: record(name, 'histogram', options?.unit),
      }),
    });
  }
}

let provider: InMemoryMeterProvider;

beforeEach(() => {
  metrics.disable();
  provider = new InMemoryMeterProvider();
  metrics.setGlobalMeterProvider(provider);
});
afterAll(() => metrics.disable());

describe('metrics', () => {
  it('recordOutcomes adds each outcome count to fieldsync.events, with outcome and tenant attributes', () => {
    recordOutcomes('acme', { APPLIED: 5, REJECTED: 2, CONFLICT: 0 });
    expect(provider.recorded).toEqual([
      {
        meter: METER_NAME,
        instrument: EVENTS_METRIC,
        kind: 'counter',
        unit: '{event}',
        value: 5,
        attributes: { outcome: 'APPLIED', 'tenant.id': 'acme' },
      },
      {
        meter: METER_NAME,
        instrument: EVENTS_METRIC,
        kind: 'counter',
        unit: '{event}',
        value: 2,
        attributes: { outcome: 'REJECTED', 'tenant.id': 'acme' },
      },
    ]);
  });

  it('recordQueueLag records milliseconds in the fieldsync.queue.lag_ms histogram (never negative)', () => {
    recordQueueLag(1234);
    recordQueueLag(-20);
    recordQueueLag(Number.NaN);
    expect(provider.recorded.map((r) => [r.instrument, r.kind, r.unit, r.value])).toEqual([
      [QUEUE_LAG_METRIC, 'histogram', 'ms', 1234],
      [QUEUE_LAG_METRIC, 'histogram', 'ms', 0],
    ]);
  });

  it('follows a meter provider registered after the first use (the SDK starts after module load)', () => {
    recordQueueLag(1);
    metrics.disable();
    const later = new InMemoryMeterProvider();
    metrics.setGlobalMeterProvider(later);
    recordQueueLag(2);
    expect(provider.recorded.map((r) => r.value)).toEqual([1]);
    expect(later.recorded.map((r) => r.value)).toEqual([2]);
  });

  it('is a no-op without a meter provider', () => {
    metrics.disable();
    expect(() => {
      recordOutcomes('acme', { APPLIED: 1 });
      recordQueueLag(5);
    }).not.toThrow();
  });
});

describe('queueLagMs', () => {
  const now = Date.parse('2025-10-25T08:30:10.000Z');
  it.each([
    ['2025-10-25T08:30:00.000Z', 10_000],
    ['2025-10-25T08:30:00.5', 9_500], // Service Bus metadata without a zone designator is UTC
    ['2025-10-25T10:30:00+02:00', 10_000],
    [new Date('2025-10-25T08:30:09.000Z'), 1_000],
  ])('%s → %i ms', (enqueued, lag) => {
    expect(queueLagMs(enqueued, now)).toBe(lag);
  });
  it.each([undefined, null, '', 'yesterday', 42])('%s → undefined', (enqueued) => {
    expect(queueLagMs(enqueued, now)).toBeUndefined();
  });
});

describe('startTelemetry', () => {
  const base = { inAzure: true, managedIdentityClientId: 'client-id' };

  it('does nothing without APPLICATIONINSIGHTS_CONNECTION_STRING', async () => {
    expect(await startTelemetry({ ...base, telemetry: { connectionString: undefined } })).toBe(false);
    expect(startAzureMonitor).not.toHaveBeenCalled();
  });

  it('starts Azure Monitor once, with Entra ID auth in Azure', async () => {
    const config = { ...base, telemetry: { connectionString: 'InstrumentationKey=x' } };
    expect(await startTelemetry(config)).toBe(true);
    expect(await startTelemetry(config)).toBe(true);
    expect(startAzureMonitor).toHaveBeenCalledTimes(1);
    expect(startAzureMonitor).toHaveBeenCalledWith({
      connectionString: 'InstrumentationKey=x',
      entraId: true,
      managedIdentityClientId: 'client-id',
    });
  });
});
