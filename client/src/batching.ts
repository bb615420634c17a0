/** Batch limits of `POST /v1/sync/batches` (SPEC "Push"): 1..1000 events, a body of at most 4 MiB. */
export const MAX_EVENTS_PER_BATCH = 1000;
export const MAX_BODY_BYTES = 4 * 1024 * 1024;
/**
 * Default body budget of one batch, in bytes of uncompressed JSON: below the server's 4 MiB (which it
 * checks on the decompressed body too) with room for the envelope.
 */
export const DEFAULT_BATCH_BYTES = MAX_BODY_BYTES - 64 * 1024;
/** Bytes of the envelope around the events (`{"deviceId":…,"deviceInfo":…,"events":[…]}`), an upper bound. */
export const ENVELOPE_BYTES = 1024;

/** One event to batch: its id and the bytes of its JSON. */
export interface Sized {
  id: string;
  bytes: number;
}

/** Limits of {@link planBatches}. */
export interface BatchLimits {
  /** At most this many events per batch (1..1000). */
  maxEvents: number;
  /** At most this many bytes of JSON per body, envelope included. */
  maxBytes: number;
}

/**
 * Splits events, in order, into consecutive batches within the limits: every event in exactly one batch,
 * order kept, each batch non-empty, ≤ maxEvents events and ≤ maxBytes (envelope + events + commas).
 * An event that cannot fit even alone is refused by `record()` before it reaches the outbox; here it would
 * go alone in its batch (and the server answers 413).
 */
export function planBatches(events: readonly Sized[], limits: BatchLimits): string[][] {
  const batches: string[][] = [];
  let current: string[] = [];
  let bytes = ENVELOPE_BYTES;
  for (const event of events) {
    const extra = event.bytes + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (current.length >= limits.maxEvents || bytes + extra > limits.maxBytes)) {
      batches.push(current);
      current = [];
      bytes = ENVELOPE_BYTES;
    }
    bytes += event.bytes + (current.length > 0 ? 1 : 0);
    current.push(event.id);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

const encoder = new TextEncoder();

/** Bytes of a value's JSON in UTF-8. */
export const jsonBytes = (value: unknown): number => encoder.encode(JSON.stringify(value)).length;
