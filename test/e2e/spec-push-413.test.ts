import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { MAX_BODY_BYTES } from '../../shared/http/body.js';
import { api } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { note } from '../support/events.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// SPEC "Push": the envelope is checked first — a body over 4 MiB or more than 1000 events is 413 and
// nothing is kept. At the push route, over HTTP against the local Functions host.
let t: SeededTenant;
let token: string;

beforeAll(async () => {
  t = await seededTenant('big');
  token = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-big');
});
afterAll(() => closeApp());

/** A valid push body of exactly `bytes` bytes (an unknown top-level field pads it; the envelope drops it). */
const bodyOf = (deviceId: string, bytes: number) => {
  const base = { deviceId, events: [note(t.wellId, `sized ${deviceId}`)], padding: '' };
  const text = JSON.stringify({
    ...base,
    padding: 'x'.repeat(bytes - Buffer.byteLength(JSON.stringify(base))),
  });
  expect(Buffer.byteLength(text)).toBe(bytes);
  return text;
};
const batchesOf = async (deviceId: string) =>
  Number(
    (
      await getApp()
        .tenantPool(t.tenant)
        .query<{ n: string }>('select count(*) as n from sync_batches where device_id = $1', [deviceId])
    ).rows[0]?.n,
  );
const expectTooLarge = (response: Awaited<ReturnType<typeof api>>) => {
  expect(response.status, response.text.slice(0, 300)).toBe(413);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status: 413, title: expect.any(String), detail: expect.any(String) });
};

describe('POST /v1/sync/batches body size', () => {
  it('accepts a body of exactly 4 MiB', async () => {
    const response = await api(token, 'POST', 'v1/sync/batches', bodyOf('tab-4mib', MAX_BODY_BYTES));
    expect(response.status, response.text.slice(0, 300)).toBe(202);
    expect(response.body).toMatchObject({ accepted: 1 });
    expect(MAX_BODY_BYTES).toBe(4 * 1024 * 1024);
  });

  it('answers 413 problem+json for one byte more, and keeps nothing', async () => {
    expectTooLarge(await api(token, 'POST', 'v1/sync/batches', bodyOf('tab-over', MAX_BODY_BYTES + 1)));
    expect(await batchesOf('tab-over')).toBe(0);
  });

  it('answers 413 for a small gzip body that decompresses to more than 4 MiB', async () => {
    const zipped = gzipSync(Buffer.from(bodyOf('tab-zip', MAX_BODY_BYTES + 1)));
    expect(zipped.length).toBeLessThan(100_000);
    expectTooLarge(
      await api(token, 'POST', 'v1/sync/batches', zipped, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      }),
    );
    expect(await batchesOf('tab-zip')).toBe(0);
  });

  it('answers 413 for 1001 events, and accepts 1000', async () => {
    const events = (n: number) => Array.from({ length: n }, (_, i) => note(t.wellId, `event ${i}`));
    expectTooLarge(
      await api(token, 'POST', 'v1/sync/batches', { deviceId: 'tab-1001', events: events(1001) }),
    );
    expect(await batchesOf('tab-1001')).toBe(0);
    const thousand = await api(token, 'POST', 'v1/sync/batches', {
      deviceId: 'tab-1000',
      events: events(1000),
    });
    expect(thousand.status, thousand.text.slice(0, 300)).toBe(202);
    expect(thousand.body).toMatchObject({ accepted: 1000 });
  });
});
