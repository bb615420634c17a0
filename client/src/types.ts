/**
 * Wire shapes of the fieldsync v1/v1.1 API the client speaks (SPEC "Events", "Batch outcome", "Pull",
 * "Photos", v1.1 "Record events") and the client's own public shapes. Written out here rather than imported
 * from the server's zod contracts so the package has no server dependency and runs in browsers.
 */

/** A JSON value as the API carries it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A location a device attaches to an event (degrees; accuracy in metres). */
export interface EventLocation {
  latitude: number;
  longitude: number;
  accuracy?: number;
}

/** One event as pushed (SPEC "Events"): `id` is a client-made UUID and the event's idempotency key. */
export interface SyncEvent {
  id: string;
  type: string;
  /** RFC 3339 date-time of the device clock (more than 5 min in the server's future: CLOCK_SKEW). */
  occurredAt: string;
  payload: Record<string, unknown>;
  location?: EventLocation;
}

/** The refusal of one event (`error` of an outcome; docs/outcomes.md lists the codes). */
export interface EventError {
  code: string;
  message: string;
  /** True when the same event, unchanged, may succeed later (e.g. TARGET_NOT_FOUND, PHOTO_NOT_UPLOADED). */
  retryable: boolean;
  /** JSON paths such as `events[3].payload.oilVolume`. */
  errors?: { path: string; message: string }[];
}

/** A conflict on an event's outcome: the conflicting fields' values on each side (SPEC "Conflicts"). */
export interface ConflictReport {
  conflictId: string;
  fields: string[];
  resolution: 'CLIENT_WINS' | 'SERVER_WINS' | 'MERGED' | 'PENDING_REVIEW';
  serverValue: Record<string, unknown>;
  clientValue: Record<string, unknown>;
}

export type EventStatus = 'PENDING' | 'APPLIED' | 'DUPLICATE' | 'CONFLICT' | 'REJECTED' | 'FAILED';

/** One event's outcome in a batch outcome. */
export interface EventOutcome {
  eventId: string | null;
  status: EventStatus;
  conflict?: ConflictReport;
  error?: EventError;
}

/** `GET /v1/sync/batches/{batchId}`, or the 200 answer of a push with `Prefer: wait`. */
export interface BatchOutcome {
  batchId: string;
  deviceId: string;
  status: 'PENDING' | 'PROCESSING' | 'COMPLETED';
  receivedAt: string;
  completedAt?: string;
  counts: Record<string, number>;
  events: EventOutcome[];
}

/** The 202 answer of `POST /v1/sync/batches`. */
export interface PushAccepted {
  batchId: string;
  receivedAt: string;
  accepted: number;
  duplicates: string[];
  rejected: (EventError & { eventId: string | null; index?: number })[];
  statusUrl: string;
}

/** A deletion in a pull page: a v1 entity, or a record of a collection. */
export type PullDeletion =
  | { type: 'well' | 'equipment' | 'user' | 'production'; id: string }
  | { type: 'RECORD'; collection: string; id: string };

/** A record of a collection as pulled (SPEC v1.1). */
export interface PulledRecord {
  collection: string;
  id: string;
  version: number;
  data: Record<string, unknown>;
  updatedAt: string;
}

/** One page of `GET /v1/sync/pull`. */
export interface PullPage {
  tenantId: string;
  wells: ({ id: string } & Record<string, unknown>)[];
  equipment: ({ id: string } & Record<string, unknown>)[];
  users: ({ id: string } & Record<string, unknown>)[];
  production: ({ id: string } & Record<string, unknown>)[];
  records?: PulledRecord[];
  deleted: PullDeletion[];
  nextCursor: string;
  hasMore: boolean;
  serverTime: string;
  /** The calling device's pushed events not applied yet ("not processed yet" vs "reverted"). */
  pendingEvents: number;
  schemaVersion?: number;
}

/** What a photo is attached to (PHOTO_ATTACHED `target`). */
export type PhotoTarget =
  | { type: 'WELL' | 'EQUIPMENT' | 'INSPECTION' | 'MAINTENANCE' | 'PRODUCTION'; id: string }
  | { type: 'RECORD'; collection: string; id: string };

/** Content types the server accepts for photos (SPEC "Photos"). */
export type PhotoContentType = 'image/jpeg' | 'image/png' | 'image/heic' | 'image/webp';

/** Platform and app version sent with each push (`deviceInfo`). */
export interface DeviceInfo {
  platform: 'electron' | 'ios' | 'android' | 'web';
  appVersion: string;
}
