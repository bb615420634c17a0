/**
 * The API's answers as the console reads them: the SPEC shapes (docs/console.md), written out here because
 * the browser build does not compile the server's zod contracts (shared/contracts/*.ts are their source).
 */

export interface OutcomeCounts {
  pending: number;
  applied: number;
  duplicate: number;
  conflict: number;
  rejected: number;
  failed: number;
}

export interface DeviceListItem {
  deviceId: string;
  userId: string | null;
  platform: string | null;
  appVersion: string | null;
  schemaVersion: number | null;
  lastPushAt: string | null;
  lastPullAt: string | null;
  lastSyncAt: string | null;
  pendingEvents: number;
  failedEvents: number;
  openConflicts: number;
  pendingPull: number | null;
  photos: { awaitingUpload: number; attached: number };
  stale: boolean;
}

export interface DeviceList {
  devices: DeviceListItem[];
  staleAfterHours: number;
  generatedAt: string;
}

export interface ActivityEvent {
  eventId: string;
  batchId: string;
  deviceId: string;
  userId: string;
  type: string;
  status: string;
  occurredAt: string;
  receivedAt: string;
  appliedAt: string | null;
  attempts: number;
  error: { code: string; message: string; retryable?: boolean } | null;
  payload: Record<string, unknown>;
}

export interface PhotoSummary {
  photoId: string;
  status: string;
  contentType: string;
  target: { type: string; id: string } | null;
  takenAt: string | null;
  updatedAt: string;
}

export interface DeviceActivity {
  deviceId: string;
  batches: {
    batchId: string;
    userId: string;
    receivedAt: string;
    counts: OutcomeCounts & { total: number };
  }[];
  failedEvents: ActivityEvent[];
  photos: PhotoSummary[];
}

export interface Conflict {
  id: string;
  recordType: string;
  recordKey: string;
  fields: string[];
  eventId: string;
  otherEventId: string | null;
  serverValue: Record<string, unknown>;
  clientValue: Record<string, unknown>;
  /** What the record holds now (PENDING_REVIEW while MANUAL holds it). */
  resolution: string;
  /** What the strategy decided on its own; null when MANUAL held the conflict. */
  automaticResolution: string | null;
  /** OPEN: no manager handled it; RESOLVED: a manager set the values; ACKNOWLEDGED: kept the automatic result. */
  status: ConflictStatus;
  resolvedBy: string | null;
  resolvedAt: string | null;
  resolvedValue: Record<string, unknown> | null;
  reviewedBy: string | null;
  reviewedAt: string | null;
  createdAt: string;
}

export const CONFLICT_STATUSES = ['OPEN', 'RESOLVED', 'ACKNOWLEDGED'] as const;
export type ConflictStatus = (typeof CONFLICT_STATUSES)[number];

/** The event types the stats can be filtered by (shared/contracts/events.ts EVENT_TYPES). */
export const EVENT_TYPES = [
  'PRODUCTION_LOGGED',
  'WELL_READING_RECORDED',
  'EQUIPMENT_INSPECTED',
  'MAINTENANCE_LOGGED',
  'EQUIPMENT_UPDATED',
  'PHOTO_ATTACHED',
  'NOTES_ADDED',
  'RECORD_CREATED',
  'RECORD_UPDATED',
  'RECORD_DELETED',
] as const;

export interface ConflictDetail {
  conflict: Conflict;
  events: (ActivityEvent & { side: 'CLIENT' | 'SERVER' })[];
  photos: PhotoSummary[];
}

/** One bucket of GET /v1/sync/stats?bucket= (SPEC "Managers' console and review states"). */
export interface StatsBucket {
  start: string;
  total: number;
  counts: OutcomeCounts;
  syncRate: number | null;
  latencyMs: { p50: number | null; p95: number | null };
}

export interface SyncStats {
  from: string;
  to: string;
  total: number;
  counts: OutcomeCounts;
  syncRate: number | null;
  series?: StatsBucket[];
}

export interface Photo {
  photoId: string;
  contentType: string;
  readUrl: string;
}

export interface ConsoleConfig {
  apiBase: string;
  signIn: 'dev' | 'entra' | 'none';
  entra?: { clientId: string; authority: string; scopes: string[] };
}
