import { gunzipSync } from 'node:zlib';
import type { HttpRequest } from '@azure/functions';
import type { z } from 'zod';
import {
  findTooDeep,
  findUnstorableText,
  jsonPath,
  MAX_JSON_DEPTH,
  tooDeepError,
} from '../contracts/common.js';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../errors.js';

/** The largest request body accepted, after decompression (SPEC: 4 MiB). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

const isJsonContentType = (value: string | null) =>
  value !== null && /^application\/([a-z0-9.+-]+\+)?json\s*(;.*)?$/i.test(value.trim());

/** Every `charset` parameter of a Content-Type, unquoted and lower-cased (RFC 9110 §5.6.6 parameters). */
const charsetsOf = (contentType: string): string[] =>
  [...contentType.matchAll(/;\s*([^=;\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g)]
    .filter((m) => m[1]?.toLowerCase() === 'charset')
    .map((m) => {
      const raw = (m[2] ?? '').trim();
      return (raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw).toLowerCase();
    });

/** UTF-8 under its IANA name, and the WHATWG label `utf8` that many clients send. */
const UTF8_LABELS = new Set(['utf-8', 'utf8']);

/**
 * Decodes the bytes as UTF-8, refusing what is not (RFC 8259 §8.1: JSON exchanged between systems MUST be
 * UTF-8) rather than storing U+FFFD in place of the client's text. A leading UTF-8 byte order mark is
 * ignored, as §8.1 allows (some Windows tools add one).
 */
function decodeUtf8(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    const utf16 = (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
    throw new ValidationError(
      utf16
        ? 'the body is UTF-16 (it starts with a UTF-16 byte order mark); JSON must be sent as UTF-8 (RFC 8259 §8.1)'
        : 'the body is not valid UTF-8; JSON must be sent as UTF-8 (RFC 8259 §8.1), e.g. not Latin-1 or Windows-1252',
    );
  }
}

export interface ReadJsonOptions {
  /**
   * The elements of the body's top-level arrays (a push's events) are checked one by one by the handler,
   * so their nesting is not held against the whole body here.
   */
  itemsCheckedByHandler?: boolean;
}

/** A path to an element of one of the body's top-level arrays: `events[3]`. */
const isItem = (path: readonly (string | number)[]) =>
  path.length === 2 && typeof path[0] === 'string' && typeof path[1] === 'number';

/**
 * Reads a JSON body: 415 unless it is JSON (optionally gzip-encoded) with no charset or UTF-8, 413 past the
 * size limit (checked on the declared length first, then on the bytes and the decompressed bytes), 400
 * when the bytes are not UTF-8, when it does not parse, or when it nests arrays or objects more than
 * MAX_JSON_DEPTH levels deep (checked here, before anything recursive sees the value).
 */
export async function readJsonBody(
  request: HttpRequest,
  maxBytes = MAX_BODY_BYTES,
  options: ReadJsonOptions = {},
): Promise<unknown> {
  const contentType = request.headers.get('content-type');
  if (contentType === null || !isJsonContentType(contentType)) {
    throw new UnsupportedMediaTypeError('the body must be JSON (Content-Type: application/json)');
  }
  const charset = charsetsOf(contentType).find((c) => !UTF8_LABELS.has(c));
  if (charset !== undefined) {
    throw new UnsupportedMediaTypeError(
      `charset ${JSON.stringify(charset)} is not supported; JSON must be UTF-8 (RFC 8259 §8.1): send charset=utf-8 or none`,
    );
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
  const text = decodeUtf8(bytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ValidationError(`the body is not valid JSON: ${(error as Error).message}`);
  }
  const deep = findTooDeep(value, MAX_JSON_DEPTH, options.itemsCheckedByHandler ? isItem : undefined);
  if (deep) throw new ValidationError('the body is nested too deeply', [tooDeepError(deep)]);
  return value;
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
