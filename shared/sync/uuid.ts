import { createHash } from 'node:crypto';

/**
 * Shapes the first 16 bytes of a hash as an RFC 9562 UUID of `version` (5: name-based over SHA-1, or a hash's
 * bytes laid out the same way; 8: custom), the variant bits set. The same hash always gives the same id:
 * what derived ids (queue job ids, event ids for clients that send none) rely on.
 */
export function uuidFromHash(hash: Buffer, version: 5 | 8): string {
  const bytes = Buffer.from(hash.subarray(0, 16));
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | (version << 4);
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** RFC 9562 §5.5 UUIDv5: SHA-1 of the namespace's 16 bytes (hex, dashes allowed) then the name in UTF-8. */
export function uuidV5(namespace: string, name: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  return uuidFromHash(createHash('sha1').update(ns).update(name, 'utf8').digest(), 5);
}
