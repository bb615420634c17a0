import type { PhotoContentType } from './types.js';

/** Largest photo the server accepts (SPEC "Photos": sizeBytes ≤ 10 MiB). */
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

/**
 * The content type of image bytes from their first bytes (the same magic numbers the server checks,
 * docs/photos.md), or undefined when they are none of JPEG, PNG, WEBP, HEIC.
 */
export function sniffContentType(bytes: Uint8Array): PhotoContentType | undefined {
  const at = (i: number) => bytes[i] ?? -1;
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'image/jpeg';
  if ([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => at(i) === b)) return 'image/png';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  if (ascii(4, 8) === 'ftyp') return 'image/heic';
  return undefined;
}

/** Lower-case hex SHA-256 of bytes (Web Crypto: browsers and Node ≥ 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as BufferSource);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Reads a file's bytes (Node, Electron's main process); loaded only when a photo is a file path. */
export const readFileBytes = async (path: string): Promise<Uint8Array> => {
  const fs = await import('node:fs/promises');
  return new Uint8Array(await fs.readFile(path));
};
