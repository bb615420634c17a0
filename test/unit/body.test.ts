import { gzipSync } from 'node:zlib';
import azureFunctions from '@azure/functions';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../../shared/errors.js';
import { MAX_JSON_DEPTH } from '../../shared/contracts/common.js';
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

describe('readJsonBody: text must be UTF-8 (RFC 8259 §8.1)', () => {
  const latin1 = Buffer.from('{"notes":"Café Señor"}', 'latin1');
  const utf8 = Buffer.from('{"notes":"Café Señor"}', 'utf8');
  const json = (contentType: string) => ({ 'content-type': contentType });

  it('accepts UTF-8 with no charset, or charset UTF-8 in any case, quoted or not', async () => {
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'application/json;charset=UTF-8',
      'application/json; charset="utf-8"',
      'application/json; charset=utf8',
      'application/problem+json; foo="a;charset=latin1"; charset=Utf-8',
    ]) {
      expect(await readJsonBody(request(utf8, json(type))), type).toEqual({ notes: 'Café Señor' });
    }
  });

  it('refuses any other charset with 415, whatever the bytes', async () => {
    for (const type of [
      'application/json; charset=iso-8859-1',
      'application/json; charset="ISO-8859-1"',
      'application/json; charset=windows-1252',
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json; charset=UTF-16LE',
      'application/json; charset=us-ascii',
      'application/json; charset=',
      'application/json; charset=utf-8; charset=utf-16',
    ]) {
      for (const bytes of [latin1, utf8]) {
        const error = await readJsonBody(request(bytes, json(type))).catch((e: unknown) => e);
        expect(error, type).toBeInstanceOf(UnsupportedMediaTypeError);
        expect((error as Error).message).toMatch(/UTF-8/);
      }
    }
  });

  it('refuses bytes that are not UTF-8 with 400 instead of replacing them with U+FFFD', async () => {
    for (const bytes of [
      latin1,
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d]), // a truncated sequence
      Buffer.from([0x22, 0xed, 0xa0, 0x80, 0x22]), // an encoded surrogate (CESU-8)
      Buffer.from([0x22, 0xc0, 0xaf, 0x22]), // an overlong "/"
      Buffer.from([0x22, 0xf4, 0x90, 0x80, 0x80, 0x22]), // past U+10FFFF
    ]) {
      const error = await readJsonBody(request(bytes)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as Error).message).toMatch(/not valid UTF-8/);
    }
    // The same through gzip: the check is on the decompressed bytes.
    const gz = gzipSync(latin1);
    await expect(
      readJsonBody(request(gz, { 'content-type': 'application/json', 'content-encoding': 'gzip' })),
    ).rejects.toThrow(/not valid UTF-8/);
    // UTF-16 with its byte order mark is named as such.
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"a":1}', 'utf16le')]);
    await expect(readJsonBody(request(utf16))).rejects.toThrow(/UTF-16/);
  });

  it('ignores a leading UTF-8 byte order mark, and only a leading one', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(await readJsonBody(request(Buffer.concat([bom, utf8])))).toEqual({ notes: 'Café Señor' });
    await expect(readJsonBody(request(Buffer.concat([bom, bom, utf8])))).rejects.toThrow(/not valid JSON/);
    // Inside a string it is text like any other.
    expect(await readJsonBody(request('"\ufeffx"'))).toBe('\ufeffx');
  });
});

describe('readJsonBody: nesting depth', () => {
  const nested = (depth: number, leaf: unknown = 1): unknown => {
    let value = leaf;
    for (let i = 0; i < depth; i += 1) value = i % 2 ? [value] : { a: value };
    return value;
  };

  it(`accepts ${MAX_JSON_DEPTH} levels and refuses ${MAX_JSON_DEPTH + 1} with the path of the field`, async () => {
    expect(await readJsonBody(request(JSON.stringify(nested(MAX_JSON_DEPTH))))).toEqual(
      nested(MAX_JSON_DEPTH),
    );
    const error = await readJsonBody(request(JSON.stringify({ ok: 1, deep: nested(MAX_JSON_DEPTH) }))).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors).toEqual([
      { path: 'deep[0]', message: expect.stringContaining(String(MAX_JSON_DEPTH)) },
    ]);
  });

  it('refuses a body nested a million levels deep with 400, not a stack overflow', async () => {
    const deep = `${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}`;
    const error = await readJsonBody(request(deep)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).errors[0]?.path).toBe('[0][0]');
  });

  it("leaves a push's items to the handler, but not the rest of the body", async () => {
    const body = { deviceId: 'd', events: [{ ok: true }, { payload: nested(3000) }] };
    const options = { itemsCheckedByHandler: true };
    // (Compared as text: a recursive deep-equal would itself overflow on the deep event.)
    const read = await readJsonBody(request(JSON.stringify(body)), undefined, options);
    expect(JSON.stringify(read)).toBe(JSON.stringify(body));
    await expect(readJsonBody(request(JSON.stringify(body)))).rejects.toBeInstanceOf(ValidationError);
    const deepInfo = { ...body, deviceInfo: { platform: nested(MAX_JSON_DEPTH) } };
    const error = await readJsonBody(request(JSON.stringify(deepInfo)), undefined, options).catch(
      (e: unknown) => e,
    );
    expect((error as ValidationError).errors[0]?.path).toBe('deviceInfo.platform');
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
