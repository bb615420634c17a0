/**
 * Ports: sync statistics for the managers' reads.
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
import type { EventType } from '../../contracts/events.js';
import type { Tenant } from './tenancy.js';
import type { DeviceCounts } from './devices.js';

export interface SyncStatsFilter {
  /** Inclusive; events by received_at. */
  from: Date;
  /** Exclusive. */
  to: Date;
  userId?: string | undefined;
  deviceId?: string | undefined;
  /** Events of this type only (then what the push refused or found known, which has no type, is left out). */
  eventType?: EventType | undefined;
  /** Events writing this collection only (shared/adapters/postgres/stats-store.ts, eventCollectionSql). */
  collection?: string | undefined;
  /** With a bucket: the series too, one entry per UTC hour or day from the one holding `from`. */
  bucket?: 'hour' | 'day' | undefined;
}

/** The figures of one bucket of a stats series (SyncStatsData.series). */
export interface SyncStatsBucketData {
  /** The bucket's start (UTC, on the hour or at midnight); it covers [start, start + 1 h or 24 h) ∩ [from, to). */
  start: Date;
  byStatus: Record<string, number>;
  rejectedAtPush: number;
  duplicatesAtPush: number;
  /** Percentiles of received → applied over the bucket's settled events. */
  receivedToAppliedMs: { p50: number | null; p95: number | null };
}

/** Raw figures of the event log over a time range; shared/usecases/stats.ts derives rates from them. */
export interface SyncStatsData {
  /** Events in the event log by status (PENDING, APPLIED, DUPLICATE, CONFLICT, REJECTED, FAILED). */
  byStatus: Record<string, number>;
  /** Refused at push, never in the event log: invalid events, clock skew, event ids reused with another body. */
  rejectedAtPush: number;
  /** Reported as duplicates at push (the server already had them). */
  duplicatesAtPush: number;
  /** Events settled by the processor (every status but PENDING and FAILED): the latency sample. */
  settled: number;
  occurredToAppliedMs: { p50: number | null; p95: number | null };
  receivedToAppliedMs: { p50: number | null; p95: number | null };
  /** With a bucket: every bucket of the range in order, empty ones with zero counts. */
  series?: SyncStatsBucketData[];
}

/** Read-only aggregates over a tenant's event log (managers' routes). */
export interface SyncStatsStore {
  /** Counts of every device that has any (or of one device): one grouped query, not one per device. */
  deviceCounts(tenant: Tenant, deviceId?: string): Promise<Map<string, DeviceCounts>>;
  syncStats(tenant: Tenant, filter: SyncStatsFilter): Promise<SyncStatsData>;
}
