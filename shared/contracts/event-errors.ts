import { z } from 'zod';

/**
 * What one event error code means for a device: who decides it, whether the same event can succeed later,
 * and what to do. docs/outcomes.md ("Codes") is the prose of this table and lists the same codes
 * (test/unit/event-error-codes.test.ts keeps the two, and the codes the server emits, in step).
 */
export interface EventErrorInfo {
  /** Where the refusal is decided: at push (never recorded), by the processor, or the queue giving up. */
  decidedBy: 'push' | 'processor' | 'push-or-processor' | 'queue';
  /** Whether the same event, unchanged, can succeed later (the `retryable` of the outcome's error). */
  retryable: boolean;
  /** What the device does about it. */
  retry: string;
}

/**
 * The catalogue of the codes an event outcome's `error.code` can carry (batch outcome `events[]`, push
 * `rejected[]`, `GET /v1/sync/batches/{id}`; SPEC "Events"). Every code the server writes is one of these;
 * compat dialects translate them into their own wire codes (shared/compat/*).
 */
export const EVENT_ERRORS = {
  /** The event (or a photo's bytes) does not satisfy its schema; `errors` names the JSON paths. */
  INVALID_PAYLOAD: {
    decidedBy: 'push',
    retryable: false,
    retry:
      'fix the event (paths in errors); a photo whose bytes are not what it declares: upload again, new id',
  },
  /** occurredAt is further in the future than the allowed clock skew; the event was never recorded. */
  CLOCK_SKEW: {
    decidedBy: 'push',
    retryable: false,
    retry: 'fix the clock; the corrected event may keep its id',
  },
  /** An event id the server already holds arrived with another body: a client bug. */
  EVENT_ID_REUSED: { decidedBy: 'push', retryable: false, retry: 'a client bug: one id, two bodies' },
  /** A RECORD_* event names a collection that is not in the tenant's sync schema. */
  UNKNOWN_COLLECTION: {
    decidedBy: 'push-or-processor',
    retryable: false,
    retry: 'read GET /v1/schema: the collection does not exist',
  },
  /** The well (wellId, or a WELL target) is unknown. */
  WELL_NOT_FOUND: { decidedBy: 'processor', retryable: false, retry: 'none: the well is unknown' },
  /** The well is INACTIVE or PLUGGED. */
  WELL_INACTIVE: { decidedBy: 'processor', retryable: false, retry: 'none: the well takes no more events' },
  /** The equipment (equipmentId, or an EQUIPMENT target) is unknown. */
  EQUIPMENT_NOT_FOUND: { decidedBy: 'processor', retryable: false, retry: 'none: the equipment is unknown' },
  /** The equipment was deleted on the server while the device was offline. */
  EQUIPMENT_DELETED: { decidedBy: 'processor', retryable: false, retry: 'none: the equipment is gone' },
  /** No such inspection / maintenance log / production record / record (yet): its own event may be on its way. */
  TARGET_NOT_FOUND: {
    decidedBy: 'processor',
    retryable: true,
    retry: 'push the same event again (or POST /v1/sync/retry) once the target’s event is applied',
  },
  /** The photo's bytes were not uploaded (or the upload URL expired before they were). */
  PHOTO_NOT_UPLOADED: {
    decidedBy: 'processor',
    retryable: true,
    retry: 'PUT the photo (ask for a new upload URL if it expired), then retry',
  },
  /** Another attach of the same photo, occurred later, names another target. */
  PHOTO_ATTACHED_ELSEWHERE: {
    decidedBy: 'processor',
    retryable: false,
    retry: 'attach it again with a new event to move the photo',
  },
  /** The database cannot store a value validation let through (a server bug: please report). */
  UNPROCESSABLE_DATA: { decidedBy: 'processor', retryable: false, retry: 'fix the value, new event id' },
  /**
   * FAILED: the server could not process the event (an outage outlasted every redelivery). Events an earlier
   * version marked `PROCESSING_ERROR` were renamed to this code by tenant migration 0016.
   */
  PROCESSING_FAILED: {
    decidedBy: 'queue',
    retryable: true,
    retry: 'push the same event again or POST /v1/sync/retry',
  },
  /** An update or delete of a record whose RECORD_CREATED is not applied (yet). */
  RECORD_NOT_FOUND: {
    decidedBy: 'processor',
    retryable: true,
    retry: 'retry once the RECORD_CREATED is applied',
  },
  /** An edit of a deleted record in a collection whose strategy is not LWW. */
  RECORD_DELETED: { decidedBy: 'processor', retryable: false, retry: 'none: the record is deleted' },
  /** An OPERATOR wrote a record of a scope (current or new) not granted to them. */
  SCOPE_NOT_GRANTED: {
    decidedBy: 'processor',
    retryable: false,
    retry: 'ask a manager for the scope; the event is not taken again',
  },
} as const satisfies Record<string, EventErrorInfo>;

/** One of the catalogued event error codes (EVENT_ERRORS). */
export type EventErrorCode = keyof typeof EVENT_ERRORS;

/** Every catalogued code, in catalogue order. */
export const EVENT_ERROR_CODES = Object.keys(EVENT_ERRORS) as [EventErrorCode, ...EventErrorCode[]];

/** The codes as a zod enum, for the outcome schemas (and so the OpenAPI document lists them). */
export const eventErrorCodeSchema = z.enum(EVENT_ERROR_CODES);

/** Whether a string is a catalogued code (reading errors written by other versions, compat mapping). */
export const isEventErrorCode = (code: string): code is EventErrorCode => Object.hasOwn(EVENT_ERRORS, code);
