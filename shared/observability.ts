import { type Counter, type Histogram, type MeterProvider, metrics } from '@opentelemetry/api';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { describeError } from './redact.js';

/**
 * Telemetry: OpenTelemetry to Application Insights when APPLICATIONINSIGHTS_CONNECTION_STRING is set, and
 * the app's own metrics through the OpenTelemetry API (no-ops until an SDK is registered, so they cost
 * nothing locally and in tests):
 *
 * - `fieldsync.events` (counter, attributes `outcome` and `tenant.id`): events by outcome, as they settle;
 * - `fieldsync.queue.lag_ms` (histogram, ms): from a chunk message's enqueue to the start of its processing;
 * - `fieldsync.tenant_job.failures` (counter, attributes `job` and `tenant.id`): a timer's work that failed
 *   for one tenant (usecases/each-tenant.ts); the other tenants still ran.
 */

export const METER_NAME = 'fieldsync';
export const EVENTS_METRIC = 'fieldsync.events';
export const QUEUE_LAG_METRIC = 'fieldsync.queue.lag_ms';
export const TENANT_JOB_FAILURES_METRIC = 'fieldsync.tenant_job.failures';

interface Instruments {
  provider: MeterProvider;
  events: Counter;
  queueLag: Histogram;
  tenantJobFailures: Counter;
}

let instruments: Instruments | undefined;

/** Instruments of the current global meter provider: made again when an SDK registers a new one. */
function current(): Instruments {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider !== provider) {
    const meter = provider.getMeter(METER_NAME);
    instruments = {
      provider,
      events: meter.createCounter(EVENTS_METRIC, {
        description: 'Sync events by outcome (PENDING, APPLIED, DUPLICATE, CONFLICT, REJECTED, FAILED)',
        unit: '{event}',
      }),
      queueLag: meter.createHistogram(QUEUE_LAG_METRIC, {
        description: 'Time from enqueueing a sync chunk message to the start of its processing',
        unit: 'ms',
      }),
      tenantJobFailures: meter.createCounter(TENANT_JOB_FAILURES_METRIC, {
        description: 'Per-tenant failures of jobs that walk every tenant (change-log prune, photo sweep)',
        unit: '{failure}',
      }),
    };
  }
  return instruments;
}

/** Adds each outcome's count to `fieldsync.events`. Zero counts are skipped. */
export function recordOutcomes(tenantId: string, byStatus: Record<string, number>): void {
  const { events } = current();
  for (const [outcome, count] of Object.entries(byStatus)) {
    if (Number.isFinite(count) && count > 0) events.add(count, { outcome, 'tenant.id': tenantId });
  }
}

/** Records one message's queue lag in `fieldsync.queue.lag_ms` (negative clock skew counts as 0). */
export function recordQueueLag(ms: number): void {
  if (Number.isFinite(ms)) current().queueLag.record(Math.max(0, ms));
}

/** Counts one tenant's failure of `job` (e.g. sweepPhotos) in `fieldsync.tenant_job.failures`. */
export function recordTenantJobFailure(job: string, tenantId: string): void {
  current().tenantJobFailures.add(1, { job, 'tenant.id': tenantId });
}

/**
 * Milliseconds since a Service Bus message was enqueued, from the trigger's `enqueuedTimeUtc` (an ISO
 * string; one without a zone designator is UTC); undefined when absent or unreadable.
 */
export function queueLagMs(enqueuedTimeUtc: unknown, now: number = Date.now()): number | undefined {
  const text =
    enqueuedTimeUtc instanceof Date
      ? enqueuedTimeUtc.toISOString()
      : typeof enqueuedTimeUtc === 'string'
        ? enqueuedTimeUtc
        : '';
  if (!text) return undefined;
  const at = Date.parse(/(Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : `${text}Z`);
  return Number.isNaN(at) ? undefined : now - at;
}

let started: Promise<boolean> | undefined;

/**
 * Starts OpenTelemetry with Azure Monitor once per process, when a connection string is configured; does
 * nothing otherwise. Call it at start-up, before the modules it instruments are loaded. Never throws: the
 * app runs without telemetry rather than not at all (the failure is logged).
 */
export function startTelemetry(
  config: Pick<Config, 'telemetry' | 'inAzure' | 'managedIdentityClientId'>,
  log?: Logger,
): Promise<boolean> {
  const connectionString = config.telemetry.connectionString;
  if (!connectionString) return Promise.resolve(false);
  started ??= import('./adapters/telemetry/azure-monitor.js')
    .then(({ startAzureMonitor }) =>
      startAzureMonitor({
        connectionString,
        entraId: config.inAzure,
        managedIdentityClientId: config.managedIdentityClientId,
      }),
    )
    .then(
      () => true,
      (error: unknown) => {
        if (log) log.error({ err: describeError(error) }, 'telemetry not started');
        else console.error(`[fieldsync] telemetry not started: ${describeError(error).message}`);
        return false;
      },
    );
  return started;
}
