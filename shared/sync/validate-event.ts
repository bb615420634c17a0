import {
  findTooDeep,
  findUnstorableText,
  pathWhere,
  jsonPath,
  MAX_JSON_DEPTH,
  tooDeepError,
} from '../contracts/common.js';
import { eventEnvelopeSchema, PAYLOAD_SCHEMAS, type SyncEvent } from '../contracts/events.js';
import type { FieldError } from '../errors.js';
import type { RecordSchemas } from '../schema/validator.js';

/** How far ahead of the server's clock an event's occurredAt may be (SPEC: 5 minutes). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
/** A production date may be the server's "tomorrow": east of UTC a device's today is already UTC's tomorrow. */
const PRODUCTION_DATE_GRACE_DAYS = 1;

export interface EventRejection {
  /** The event's id when it has a usable one; null when the id itself is what is wrong. */
  eventId: string | null;
  index: number;
  code: 'INVALID_PAYLOAD' | 'CLOCK_SKEW' | 'EVENT_ID_REUSED' | 'UNKNOWN_COLLECTION';
  message: string;
  retryable: boolean;
  errors?: FieldError[];
}

export type EventCheck = { ok: true; event: SyncEvent } | { ok: false; rejection: EventRejection };

/** The id to report a rejected event by: only when it is a plain token (it is echoed and stored). */
const idOf = (raw: unknown): string | null => {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' && /^[A-Za-z0-9._:-]{1,64}$/.test(id) ? id : null;
};

/** At most this many field errors are reported per event: enough to fix it, bounded for storage. */
const MAX_ERRORS_PER_EVENT = 20;

/**
 * Checks one pushed event on its own: nesting depth (at most MAX_JSON_DEPTH levels, the event being level
 * 1), storable text, envelope, the payload schema of its type (dates included: years 0001–9999 in UTC),
 * then the rules that need the server's clock, then (SPEC v1.1 "Record events") a RECORD_* event against the
 * tenant's collections when `schemas` is given: an unknown collection is UNKNOWN_COLLECTION, a builtin one
 * (a v1 entity) INVALID_PAYLOAD at `payload.collection`, `data` is checked against the full schema and
 * `changes` field by field (paths `events[i].payload.data.<field>` / `events[i].payload.changes.<field>`).
 * Never throws; a bad event becomes a rejection with JSON paths under `events[i]`, so its neighbours are
 * accepted.
 */
export function checkEvent(raw: unknown, index: number, now: Date, schemas?: RecordSchemas): EventCheck {
  const prefix = `events[${index}]`;
  const reject = (code: EventRejection['code'], message: string, errors?: FieldError[]): EventCheck => ({
    ok: false,
    rejection: {
      eventId: idOf(raw),
      index,
      code,
      message,
      retryable: false,
      ...(errors ? { errors: errors.slice(0, MAX_ERRORS_PER_EVENT) } : {}),
    },
  });
  // Nesting first: everything after this (text check, zod, hashing) recurses over the event.
  const deep = findTooDeep(raw, MAX_JSON_DEPTH);
  if (deep) return reject('INVALID_PAYLOAD', 'the event is nested too deeply', [tooDeepError(deep, prefix)]);
  const unstorable = findUnstorableText(raw);
  if (unstorable) {
    return reject('INVALID_PAYLOAD', 'the event is invalid', [
      { path: jsonPath(unstorable, prefix), message: 'must be valid Unicode text without NUL characters' },
    ]);
  }
  const proto = findProtoKey(raw);
  if (proto) {
    // Parsing would drop the key silently (it names the prototype): refuse it instead of losing a field.
    return reject('INVALID_PAYLOAD', 'the event is invalid', [
      { path: jsonPath(proto, prefix), message: 'a field may not be named __proto__' },
    ]);
  }
  const envelope = eventEnvelopeSchema.safeParse(raw);
  if (!envelope.success) {
    return reject(
      'INVALID_PAYLOAD',
      'the event is invalid',
      envelope.error.issues.map((i) => ({ path: jsonPath(i.path, prefix), message: i.message })),
    );
  }
  const { id, type, occurredAt, location } = envelope.data;
  const payload = PAYLOAD_SCHEMAS[type].safeParse(envelope.data.payload);
  if (!payload.success) {
    return reject(
      'INVALID_PAYLOAD',
      `the ${type} payload is invalid`,
      payload.error.issues.map((i) => ({ path: jsonPath(i.path, `${prefix}.payload`), message: i.message })),
    );
  }
  const occurred = new Date(occurredAt);
  if (occurred.getTime() - now.getTime() > MAX_CLOCK_SKEW_MS) {
    return reject('CLOCK_SKEW', `occurredAt ${occurredAt} is more than 5 minutes ahead of the server clock`);
  }
  if (type === 'PRODUCTION_LOGGED') {
    const latest = new Date(now.getTime() + PRODUCTION_DATE_GRACE_DAYS * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const date = (payload.data as { productionDate: string }).productionDate;
    if (date > latest) {
      return reject('INVALID_PAYLOAD', 'the production date is in the future', [
        { path: `${prefix}.payload.productionDate`, message: `must not be after ${latest}` },
      ]);
    }
  }
  if (schemas && (type === 'RECORD_CREATED' || type === 'RECORD_UPDATED' || type === 'RECORD_DELETED')) {
    const record = payload.data as {
      collection: string;
      data?: Record<string, unknown>;
      changes?: Record<string, unknown>;
    };
    const found = schemas.lookup(record.collection);
    if (found.kind === 'unknown') {
      return reject('UNKNOWN_COLLECTION', `this tenant has no collection ${record.collection}`, [
        {
          path: `${prefix}.payload.collection`,
          message: 'is not a collection of this tenant (GET /v1/schema)',
        },
      ]);
    }
    if (found.kind === 'builtin') {
      return reject(
        'INVALID_PAYLOAD',
        `${record.collection} is a builtin collection: RECORD_* events do not write it`,
        [
          {
            path: `${prefix}.payload.collection`,
            message: `is builtin; it is written by ${found.writtenBy}`,
          },
        ],
      );
    }
    const [part, errors] =
      type === 'RECORD_CREATED'
        ? ['data', found.validator.validateData(record.data ?? {})]
        : type === 'RECORD_UPDATED'
          ? ['changes', found.validator.validateChanges(record.changes ?? {})]
          : ['', []];
    if (errors.length > 0) {
      const at = `${prefix}.payload.${part}`;
      return reject(
        'INVALID_PAYLOAD',
        `the ${type} ${part} do not match the schema of ${record.collection}`,
        errors.map((e) => ({
          path: e.path === '$' ? at : e.path.startsWith('[') ? `${at}${e.path}` : `${at}.${e.path}`,
          message: e.message,
        })),
      );
    }
  }
  return {
    ok: true,
    event: {
      id: id.toLowerCase(),
      type,
      occurredAt: occurred.toISOString(),
      payload: payload.data,
      ...(location ? { location } : {}),
    } as SyncEvent,
  };
}

/** The longest stretch checkEvents runs without giving the event loop back (other requests, timers). */
export const CHECK_SLICE_MS = 8;

/**
 * checkEvent over a push's events `from` (inclusive, default 0) to `to` (exclusive, default all), in order:
 * result i is event `from + i`, checked at that index (its paths say `events[from + i]`). Checking 1000 events
 * takes several milliseconds of CPU: so it yields to the event loop (setImmediate) every `sliceMs` (default
 * CHECK_SLICE_MS), and a push never holds up the other requests of its instance for longer than that.
 */
export async function checkEvents(
  raws: readonly unknown[],
  now: Date,
  schemas?: RecordSchemas,
  {
    sliceMs = CHECK_SLICE_MS,
    from = 0,
    to = raws.length,
  }: { sliceMs?: number; from?: number; to?: number } = {},
): Promise<EventCheck[]> {
  const checks: EventCheck[] = [];
  let sliceStart = performance.now();
  for (let index = from; index < to; index += 1) {
    checks.push(checkEvent(raws[index], index, now, schemas));
    if (performance.now() - sliceStart >= sliceMs) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return checks;
}

/** The path of the first own key `__proto__` in a parsed JSON value (nesting already bounded), or undefined. */
function findProtoKey(value: unknown): (string | number)[] | undefined {
  const path: (string | number)[] = [];
  return pathWhere(value, path, (text, isKey) => isKey && text === '__proto__') ? path : undefined;
}
