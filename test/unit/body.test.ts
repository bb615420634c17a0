import { gzipSync } from 'node:zlib';
import azureFunctions from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../../shared/errors.js';
import { readJsonBody, validate } from '../../shared/http/body.js';

const { HttpRequest } = azureFunctions;

const request = (
  body: Buffer | string,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) =>
  new HttpRequest({
    method: 'POST',
    url: 'http://localhost/api/x',
    headers,
    body: { bytes: Buffer.from(body) },
  });

describe('readJsonBody', () => {
  it('parses JSON, with or without a charset or +json subtype', async () => {
    expect(await readJsonBody(request('{"a":1}'))).toEqual({ a: 1 });
    expect(await readJsonBody(request('[1]', { 'content-type': 'application/json; charset=utf-8' }))).toEqual(
      [1],
    );
    expect(await readJsonBody(request('{}', { 'content-type': 'application/merge-patch+json' }))).toEqual({});
  });

  it('refuses other media types and encodings with 415', async () => {
    await expect(
      readJsonBody(request('a=1', { 'content-type': 'application/x-www-form-urlencoded' })),
    ).rejects.toBeInstanceOf(UnsupportedMediaTypeError);
    await expect(readJsonBody(request('{}', {}))).rejects.toBeInstanceOf(UnsupportedMediaTypeError);
    await expect(
      readJsonBody(request('{}', { 'content-type': 'application/json', 'content-encoding': 'br' })),
    ).rejects.toBeInstanceOf(UnsupportedMediaTypeError);
  });

  it('accepts gzip bodies', async () => {
    const gz = gzipSync(Buffer.from(JSON.stringify({ events: [1, 2, 3] })));
    expect(
      await readJsonBody(request(gz, { 'content-type': 'application/json', 'content-encoding': 'gzip' })),
    ).toEqual({
      events: [1, 2, 3],
    });
  });

  it('refuses bodies over the limit, declared, sent, or after decompression', async () => {
    await expect(
      readJsonBody(
        request('{}', { 'content-type': 'application/json', 'content-length': String(5 * 1024 * 1024) }),
      ),
    ).rejects.toBeInstanceOf(PayloadTooLargeError);
    await expect(readJsonBody(request(`"${'x'.repeat(2000)}"`), 1000)).rejects.toBeInstanceOf(
      PayloadTooLargeError,
    );
    // A small gzip that inflates past the limit (a "zip bomb") is refused without inflating it all.
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expect(
      readJsonBody(request(bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' })),
    ).rejects.toBeInstanceOf(PayloadTooLargeError);
  });

  it('answers 400 for an empty body, broken JSON or broken gzip', async () => {
    await expect(readJsonBody(request(''))).rejects.toBeInstanceOf(ValidationError);
    await expect(readJsonBody(request('{"a":'))).rejects.toThrow(/not valid JSON/);
    await expect(
      readJsonBody(request('not gzip', { 'content-type': 'application/json', 'content-encoding': 'gzip' })),
    ).rejects.toThrow(/gzip/);
  });
});

describe('validate', () => {
  it('lists every failing value by JSON path', () => {
    const schema = z.object({
      events: z.array(z.object({ payload: z.object({ oilVolume: z.number().min(0) }) })),
    });
    try {
      validate(schema, { events: [{ payload: { oilVolume: 1 } }, { payload: { oilVolume: -1 } }] }, 'body');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).errors.map((e) => e.path)).toEqual(['events[1].payload.oilVolume']);
    }
  });
});
