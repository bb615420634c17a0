import { gunzipSync } from 'node:zlib';
import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import { findUnstorableText, jsonPath } from '../contracts/common.js';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../errors.js';

/** The largest request body accepted, after decompression (SPEC: 4 MiB). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

const isJsonContentType = (value: string | null) =>
  value !== null && /^application\/([a-z0-9.+-]+\+)?json\s*(;.*)?$/i.test(value.trim());

/**
 * Reads a JSON body: 415 unless it is JSON (optionally gzip-encoded), 413 past the size limit (checked on
 * the declared length first, then on the bytes and the decompressed bytes), 400 when it does not parse.
 */
export async function readJsonBody(request: HttpRequest, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  if (!isJsonContentType(request.headers.get('content-type'))) {
    throw new UnsupportedMediaTypeError('the body must be JSON (Content-Type: application/json)');
  }
  const encoding = (request.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity' && encoding !== 'gzip') {
    throw new UnsupportedMediaTypeError(`Content-Encoding ${encoding} is not supported; use gzip or none`);
  }
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new PayloadTooLargeError(`the body is larger than ${maxBytes} bytes`);
  }
  let bytes = Buffer.from(await request.arrayBuffer());
  if (bytes.length > maxBytes) throw new PayloadTooLargeError(`the body is larger than ${maxBytes} bytes`);
  if (encoding === 'gzip') {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (error) {
      if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new PayloadTooLargeError(`the decompressed body is larger than ${maxBytes} bytes`);
      }
      throw new ValidationError('the body is not valid gzip');
    }
  }
  if (bytes.length === 0) throw new ValidationError('a JSON body is required');
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new ValidationError(`the body is not valid JSON: ${(error as Error).message}`);
  }
}

/**
 * Validates a value against a schema; failures become a ValidationError listing JSON paths. Unless told
 * otherwise, text that cannot be stored (NUL, broken surrogates) is refused too.
 */
export function validate<T>(
  schema: z.ZodType<T>,
  value: unknown,
  what: string,
  pathPrefix = '',
  options: { checkText?: boolean } = {},
): T {
  const result = schema.safeParse(value);
  if (result.success) {
    const bad = options.checkText === false ? undefined : findUnstorableText(result.data);
    if (bad) {
      throw new ValidationError(`the ${what} is invalid`, [
        { path: jsonPath(bad, pathPrefix), message: 'must be valid Unicode text without NUL characters' },
      ]);
    }
    return result.data;
  }
  throw new ValidationError(
    `the ${what} is invalid`,
    result.error.issues.map((issue) => ({ path: jsonPath(issue.path, pathPrefix), message: issue.message })),
  );
}
