import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import type { Conflict } from '../../shared/contracts/conflicts.js';
import { api, pushSettled } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { launchChromium, type TestBrowser } from '../support/chromium.js';
import { daysAgo, production } from '../support/events.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';
import { waitFor } from '../support/wait.js';

/**
 * The managers' console in real Chromium (Debian's /usr/bin/chromium driven by playwright-core, headless,
 * a fresh profile) against the local Functions host the test run started: sign in through the URL fragment
 * as `npm start` prints it, see a device's push appear in Fleet, open its device page (batches, photo
 * thumbnail loaded from Azurite), Sync health, the conflict inbox, and resolve a held conflict CLIENT_WINS —
 * then the API is asked whether the record changed — and acknowledge an automatic (LWW) result. A screenshot of each main view is saved under
 * test-results/console/ (gitignored). Any Content-Security-Policy violation or page error fails the test.
 */

const base = inject('hostUrl');
const shots = join(import.meta.dirname, '..', '..', 'test-results', 'console');
let t: SeededTenant;
let manager: string;
let laptop: string;
let phone: string;
let browser: TestBrowser | undefined;
let page: Page;
const problems: string[] = [];
/** Every API or console answer the page got that was not 2xx/3xx: "<status> <method> <url>". */
const failedResponses: string[] = [];

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();

/** A small valid PNG (solid colour), so the thumbnail really decodes in the browser. */
function png(size = 24): Buffer {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (bytes: Buffer) => {
    let c = 0xffffffff;
    for (const byte of bytes) c = (crcTable[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([length, body, sum]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(size * 3, 0x3c)]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(Array.from({ length: size }, () => row)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Uploads a PNG through the photo flow and returns the PHOTO_ATTACHED event for `target`. */
async function photoEvent(token: string, deviceId: string, target: { type: string; id: string }) {
  const bytes = png();
  const photoId = randomUUID();
  const urls = await api(token, 'POST', 'v1/photos/upload-urls', {
    deviceId,
    photos: [{ photoId, contentType: 'image/png', sizeBytes: bytes.length }],
  });
  expect(urls.status, urls.text).toBe(200);
  const upload = (urls.body as { uploads: { uploadUrl: string; blobName: string }[] }).uploads[0];
  if (!upload) throw new Error('no upload URL');
  const put = await fetch(upload.uploadUrl, {
    method: 'PUT',
    headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'image/png' },
    body: bytes,
  });
  expect(put.status).toBe(201);
  return {
    photoId,
    event: {
      id: randomUUID(),
      type: 'PHOTO_ATTACHED',
      occurredAt: minutesAgo(1),
      payload: {
        photoId,
        blobName: upload.blobName,
        contentType: 'image/png',
        sizeBytes: bytes.length,
        target,
        takenAt: minutesAgo(2),
      },
    },
  };
}

/**
 * Uploads `count` PNGs with one upload-URL request (the test's own calls must not spend the rate budget
 * either) and returns their PHOTO_ATTACHED events, all on `target`.
 */
async function photoEvents(
  token: string,
  deviceId: string,
  target: { type: string; id: string },
  count: number,
) {
  const bytes = png();
  const photoIds = Array.from({ length: count }, () => randomUUID());
  const urls = await api(token, 'POST', 'v1/photos/upload-urls', {
    deviceId,
    photos: photoIds.map((photoId) => ({ photoId, contentType: 'image/png', sizeBytes: bytes.length })),
  });
  expect(urls.status, urls.text).toBe(200);
  const uploads = (urls.body as { uploads: { photoId: string; uploadUrl: string; blobName: string }[] })
    .uploads;
  expect(uploads).toHaveLength(count);
  await Promise.all(
    uploads.map(async (upload) => {
      const put = await fetch(upload.uploadUrl, {
        method: 'PUT',
        headers: { 'x-ms-blob-type': 'BlockBlob', 'content-type': 'image/png' },
        body: bytes,
      });
      expect(put.status).toBe(201);
    }),
  );
  return uploads.map((upload) => ({
    id: randomUUID(),
    type: 'PHOTO_ATTACHED',
    occurredAt: minutesAgo(1),
    payload: {
      photoId: upload.photoId,
      blobName: upload.blobName,
      contentType: 'image/png',
      sizeBytes: bytes.length,
      target,
      takenAt: minutesAgo(2),
    },
  }));
}

const shot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

/** Waits until every <img> inside `selector` has decoded (naturalWidth > 0). */
/**
 * The page's globals, typed for the browser-side callbacks below (this file is compiled without the DOM
 * library). Callbacks, not strings: the console's CSP forbids eval, which a string predicate would need.
 */
interface BrowserGlobals {
  document: {
    querySelectorAll(selector: string): ArrayLike<{ complete: boolean; naturalWidth: number }>;
    querySelector(selector: string): { textContent: string | null } | null;
  };
  location: { hash: string };
  sessionStorage: { getItem(key: string): string | null };
  /** Resource Timing: each request's start on the page's clock (ms). */
  performance: {
    clearResourceTimings(): void;
    setResourceTimingBufferSize(size: number): void;
    getEntriesByType(type: 'resource'): { name: string; startTime: number }[];
  };
}

/** Waits until every <img> inside `selector` has decoded (naturalWidth > 0). */
const imagesLoaded = (selector: string) =>
  page.waitForFunction(
    (sel) => {
      const images = Array.from(
        (globalThis as unknown as BrowserGlobals).document.querySelectorAll(`${sel} img`),
      );
      return images.length > 0 && images.every((img) => img.complete && img.naturalWidth > 0);
    },
    selector,
    { timeout: 20_000 },
  );

beforeAll(async () => {
  t = await seededTenant('console');
  manager = await tokenFor(t.tenant.id, ['MANAGER'], 'u-console-boss');
  laptop = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-laptop');
  phone = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-phone');
  mkdirSync(shots, { recursive: true });
  browser = await launchChromium({ viewport: { width: 1180, height: 820 } }); // a landscape tablet
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('response', (response) => {
    if (response.status() >= 400)
      failedResponses.push(`${response.status()} ${response.request().method()} ${response.url()}`);
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await closeApp();
});

describe('the managers’ console in Chromium', () => {
  it('signs in from the URL fragment, which leaves the address bar and stays in the tab only', async () => {
    await page.goto(`${base}/console/#token=${manager}`);
    await page.waitForFunction(() => (globalThis as unknown as BrowserGlobals).location.hash === '#/fleet');
    expect(page.url()).not.toContain(manager);
    expect(
      await page.evaluate(() =>
        (globalThis as unknown as BrowserGlobals).sessionStorage.getItem('fieldsync.console.token'),
      ),
    ).toBe(manager);
    await expect.poll(() => page.textContent('#who')).toContain('u-console-boss');
    expect(await page.getAttribute('a[data-nav="fleet"]', 'aria-current')).toBe('page');
  });

  it('Fleet: a device’s push appears; its device page shows the batch and the photo it attached', async () => {
    // Prepare: the device is unknown to the page.
    await page.click('#fleet-refresh');
    await page.waitForSelector('#fleet-table');
    expect(await page.$('tr[data-device="tablet-7"]')).toBeNull();
    // Act: the field tablet pushes (a production log and a photo of the pump).
    const photo = await photoEvent(laptop, 'tablet-7', { type: 'EQUIPMENT', id: t.equipmentId });
    const outcome = await pushSettled(laptop, 'tablet-7', [
      production(t.wellId, { oilVolume: 42 }, { productionDate: daysAgo(1) }),
      photo.event,
    ]);
    expect(outcome.events.map((e) => e.status)).toEqual(['APPLIED', 'APPLIED']);
    // Assess: it shows up (the refresh button; the page also refreshes by itself every 15 s).
    await waitFor(
      async () => {
        await page.click('#fleet-refresh');
        return page.$('tr[data-device="tablet-7"]');
      },
      { what: 'tablet-7 in the fleet table', timeoutMs: 30_000, intervalMs: 500 },
    );
    const row = await page.textContent('tr[data-device="tablet-7"]');
    expect(row).toContain('u-laptop');
    // Filtering keeps it, and a search for something else hides it.
    await page.fill('#fleet-search', 'tablet-7');
    expect(await page.$$('#fleet-table tbody tr')).toHaveLength(1);
    await shot('fleet');
    await page.fill('#fleet-search', 'no-such-device');
    expect(await page.$$('#fleet-table tbody tr')).toHaveLength(0);
    await page.fill('#fleet-search', '');

    await page.click('tr[data-device="tablet-7"] a');
    await page.waitForSelector('#device-batches tbody tr');
    expect(await page.textContent('#device-batches')).toContain(outcome.batchId);
    await imagesLoaded('.thumbs');
    expect(await page.getAttribute('.thumbs img', 'alt')).toContain(photo.photoId);
    await shot('device');
  });

  it('a device page with 20 photos loads every thumbnail: paced reads, a 429 waited out and retried once', async () => {
    // The test host's rate limit is set far above any test's traffic (test/setup/global.ts), so a burst
    // would not be refused here: the pacing is asserted directly (in flight, starts per second), and one
    // 429 with Retry-After is injected to show the console waits it out and retries.
    // Prepare: one device attaches 20 photos to the pump.
    const events = await photoEvents(phone, 'tablet-photos', { type: 'EQUIPMENT', id: t.equipmentId }, 20);
    const outcome = await pushSettled(phone, 'tablet-photos', events);
    expect(outcome.events.filter((e) => e.status === 'APPLIED')).toHaveLength(20);
    const before = failedResponses.length;
    const photoRead = /\/v1\/photos\/[0-9a-f-]{36}$/;
    // In flight is counted from the order of the request events (CDP keeps their order); the start times
    // come from the page's own clock (Resource Timing), since the test process may receive the events late
    // and bunched when the machine is busy, which would show a burst the page never made.
    const reads: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const onRequest = (request: { url(): string }) => {
      if (!photoRead.test(request.url())) return;
      reads.push(request.url());
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
    };
    const onDone = (request: { url(): string }) => {
      if (photoRead.test(request.url())) inFlight -= 1;
    };
    let refused = '';
    await page.route(photoRead, async (route) => {
      if (refused) return route.continue();
      refused = route.request().url();
      return route.fulfill({
        status: 429,
        headers: { 'retry-after': '1', 'content-type': 'application/problem+json' },
        body: JSON.stringify({ type: 'about:blank', title: 'Too Many Requests', status: 429 }),
      });
    });
    page.on('request', onRequest);
    page.on('requestfinished', onDone);
    page.on('requestfailed', onDone);
    await page.evaluate(() => {
      const perf = (globalThis as unknown as BrowserGlobals).performance;
      perf.clearResourceTimings();
      perf.setResourceTimingBufferSize(1000);
    });
    try {
      // Act: open its device page and scroll to the photos.
      await page.goto(`${base}/console/#/devices/tablet-photos`);
      // (The status line, not the table: the previous device page's table is there until this one mounts.)
      await expect
        .poll(() => page.textContent('#status'), { timeout: 15_000 })
        .toBe('Device tablet-photos: 1 recent batch, 0 failed events, 20 photos');
      expect(await page.$$('.thumbs [data-photo-item]')).toHaveLength(20);
      await page.locator('.thumbs [data-photo-item]').last().scrollIntoViewIfNeeded();
      // Assess: all 20 decode; each read URL asked for once, plus the one retry of the refused read.
      await page.waitForFunction(
        () =>
          Array.from(
            (globalThis as unknown as BrowserGlobals).document.querySelectorAll('.thumbs img'),
          ).filter((img) => img.complete && img.naturalWidth > 0).length === 20,
        undefined,
        { timeout: 30_000 },
      );
      expect(new Set(reads).size).toBe(20);
      expect(reads).toHaveLength(21);
      expect(reads.filter((url) => url === refused)).toHaveLength(2);
      // The same 21 reads as the page timed them (ms on the page's clock, in start order).
      const starts = (
        await page.evaluate(() =>
          (globalThis as unknown as BrowserGlobals).performance
            .getEntriesByType('resource')
            .map((e) => ({ url: e.name, at: e.startTime })),
        )
      )
        .filter((r) => photoRead.test(r.url))
        .sort((a, b) => a.at - b.at);
      expect(starts.map((r) => r.url).sort()).toEqual([...reads].sort());
      const [first, second] = starts.filter((r) => r.url === refused);
      expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(900); // Retry-After: 1
      // Paced: never more than 4 in flight, never more than 5 first reads started within any 900 ms (the
      // pacer's window is 1000 ms on its own clock, and a fetch starts a few microtasks after the pacer lets
      // it go); the retry of the refused read comes on top, inside its task (docs/console.md).
      expect(maxInFlight).toBeLessThanOrEqual(4);
      const firsts = starts.filter((r) => r !== second);
      const burst = Math.max(
        ...firsts.map((r) => firsts.filter((o) => o.at >= r.at && o.at < r.at + 900).length),
      );
      expect(burst).toBeLessThanOrEqual(5);
      // The only failed answer the page saw is the injected 429.
      expect(failedResponses.slice(before)).toEqual([`429 GET ${refused}`]);
      await shot('device-many-photos');
    } finally {
      page.off('request', onRequest);
      page.off('requestfinished', onDone);
      page.off('requestfailed', onDone);
      await page.unroute(photoRead);
      // The injected 429 is this test's own; anything else stays for the last test to report.
      const injected = failedResponses.indexOf(`429 GET ${refused}`, before);
      if (injected >= 0) failedResponses.splice(injected, 1);
    }
  });

  it('Sync health: statistics of the range, charted when the API answers buckets', async () => {
    await page.click('a[data-nav="health"]');
    await page.waitForSelector('#health-summary');
    expect(await page.textContent('#health-summary')).toMatch(/\d+ events? from/);
    const series = await page.$$('#health-results canvas');
    const bucketed = (await api(manager, 'GET', 'v1/sync/stats?bucket=hour')).body as { series?: unknown[] };
    // Three charts (outcomes, sync rate, latency) once the API has the bucketed form (SPEC).
    expect(series.length).toBe(bucketed.series ? 3 : 0);
    await shot('health');
  });

  it('Conflict inbox: a held conflict is opened, resolved CLIENT_WINS, and the API shows the record changed', async () => {
    // Prepare: MANUAL for production logs, then two devices disagree on one day's oil volume.
    const set = await api(manager, 'PUT', 'v1/settings/conflict-strategies', {
      strategies: { PRODUCTION_LOGGED: 'MANUAL' },
    });
    expect(set.status).toBe(200);
    const date = daysAgo(6);
    const server = production(
      t.wellId,
      { oilVolume: 50 },
      { productionDate: date, occurredAt: minutesAgo(90) },
    );
    const client = production(
      t.wellId,
      { oilVolume: 55 },
      { productionDate: date, occurredAt: minutesAgo(30) },
    );
    await pushSettled(laptop, 'laptop-9', [server]);
    const held = await pushSettled(phone, 'phone-9', [client]);
    expect(held.events[0]).toMatchObject({ status: 'CONFLICT', conflict: { resolution: 'PENDING_REVIEW' } });
    const conflictId = held.events[0]?.conflict?.conflictId ?? '';
    // A photo of that production record (its id as the pull names it).
    const pulled = await api(laptop, 'GET', 'v1/sync/pull?deviceId=laptop-9');
    const record = (pulled.body.production as { id: string; wellId: string; productionDate: string }[]).find(
      (p) => p.wellId === t.wellId && p.productionDate === date,
    );
    if (!record) throw new Error('the production record is not in the pull');
    const photo = await photoEvent(laptop, 'laptop-9', { type: 'PRODUCTION', id: record.id });
    expect((await pushSettled(laptop, 'laptop-9', [photo.event])).events[0]?.status).toBe('APPLIED');

    await page.click('a[data-nav="conflicts"]');
    await page.waitForSelector(`tr[data-conflict="${conflictId}"]`);
    await shot('conflicts');
    await page.click(`tr[data-conflict="${conflictId}"] a`);
    await page.waitForSelector('#conflict-fields');
    expect(await page.textContent('tr[data-field="oilVolume"] [data-side="server"]')).toBe('50');
    expect(await page.textContent('#conflict-fields thead')).toContain('Server value (before this event)');
    expect(await page.textContent('tr[data-field="oilVolume"] [data-side="client"]')).toBe('55');
    const sides = await page.textContent('.sides');
    for (const text of ['laptop-9', 'phone-9', 'u-laptop', 'u-phone', server.id, client.id])
      expect(sides).toContain(text);
    await imagesLoaded('.thumbs');
    await shot('conflict');

    // A decision asks first: cancelling the dialog changes nothing.
    await page.getByRole('button', { name: 'Client wins (CLIENT_WINS)' }).click();
    const dialog = page.getByRole('dialog', { name: /CLIENT_WINS on PRODUCTION/ });
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('oilVolume: 50 → 55');
    await shot('conflict-confirm');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.textContent('#status')).toBe('Nothing changed: the decision was cancelled');
    expect(await page.getByRole('dialog').count()).toBe(0);
    expect(((await api(manager, 'GET', `v1/conflicts/${conflictId}`)).body.conflict as Conflict).status).toBe(
      'OPEN',
    );

    // Act: the manager picks the client's value, and confirms.
    await page.getByRole('button', { name: 'Client wins (CLIENT_WINS)' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Confirm CLIENT_WINS' }).click();
    await page.waitForFunction(() =>
      (globalThis as unknown as BrowserGlobals).document
        .querySelector('#conflict-state')
        ?.textContent?.startsWith('RESOLVED'),
    );
    expect(await page.textContent('#status')).toBe('Resolved: CLIENT_WINS');
    expect(await page.textContent('tr[data-field="oilVolume"] [data-side="resolved"]')).toBe('55');
    expect(await page.textContent('#conflict-fields thead')).toContain(
      'Decided value: CLIENT_WINS by u-console-boss at',
    );
    await shot('conflict-after-client-wins');

    // Assess, through the API: the conflict is settled by this manager and the record holds 55.
    const detail = await api(manager, 'GET', `v1/conflicts/${conflictId}`);
    expect(detail.body.conflict as Conflict).toMatchObject({
      status: 'RESOLVED',
      resolution: 'CLIENT_WINS',
      resolvedBy: 'u-console-boss',
    });
    const after = await api(laptop, 'GET', 'v1/sync/pull?deviceId=laptop-9');
    expect(
      (after.body.production as { id: string; oilVolume: number }[]).find((p) => p.id === record.id),
    ).toMatchObject({ oilVolume: 55 });
  });

  it('Conflict inbox: an automatic (LWW) result, not reviewed yet, is acknowledged and leaves the inbox', async () => {
    // Prepare: last-writer-wins again; two devices disagree; the newer value stands on its own.
    const set = await api(manager, 'PUT', 'v1/settings/conflict-strategies', {
      strategies: { PRODUCTION_LOGGED: 'LWW' },
    });
    expect(set.status).toBe(200);
    const date = daysAgo(7);
    const older = production(
      t.wellId,
      { gasVolume: 300 },
      { productionDate: date, occurredAt: minutesAgo(120) },
    );
    const newer = production(
      t.wellId,
      { gasVolume: 320 },
      { productionDate: date, occurredAt: minutesAgo(20) },
    );
    await pushSettled(laptop, 'laptop-10', [older]);
    await pushSettled(phone, 'phone-10', [newer]);
    const open = await api(manager, 'GET', 'v1/conflicts?status=OPEN&limit=200');
    const conflict = (open.body.conflicts as Conflict[]).find((c) =>
      [c.eventId, c.otherEventId].includes(older.id),
    );
    expect(conflict).toMatchObject({ status: 'OPEN', fields: ['gasVolume'] });
    const id = conflict?.id ?? '';
    const automatic = conflict?.automaticResolution ?? 'none';
    expect(['SERVER_WINS', 'CLIENT_WINS']).toContain(automatic);

    // Act: the manager opens it from the inbox and keeps the automatic result.
    await page.click('a[data-nav="fleet"]');
    await page.click('a[data-nav="conflicts"]');
    await page.waitForSelector(`tr[data-conflict="${id}"]`);
    expect(await page.textContent(`tr[data-conflict="${id}"]`)).toContain(
      'Settled automatically: SERVER_WINS',
    );
    await page.click(`tr[data-conflict="${id}"] a`);
    await page.waitForSelector('#conflict-fields');
    await shot('conflict-automatic');
    await page.getByRole('button', { name: `Acknowledge (keep ${automatic})` }).click();
    await page.waitForFunction(() =>
      (globalThis as unknown as BrowserGlobals).document
        .querySelector('#conflict-state')
        ?.textContent?.startsWith('ACKNOWLEDGED'),
    );
    expect(await page.textContent('#status')).toBe('Resolved: ACKNOWLEDGED');

    // Assess, through the API: acknowledged by this manager, out of the inbox, the record as LWW left it.
    const detail = await api(manager, 'GET', `v1/conflicts/${id}`);
    expect(detail.body.conflict as Conflict).toMatchObject({
      status: 'ACKNOWLEDGED',
      reviewedBy: 'u-console-boss',
      automaticResolution: automatic,
    });
    const still = await api(manager, 'GET', 'v1/conflicts?status=OPEN&limit=200');
    expect((still.body.conflicts as Conflict[]).map((c) => c.id)).not.toContain(id);
    const pulled = await api(laptop, 'GET', 'v1/sync/pull?deviceId=laptop-10');
    expect(
      (pulled.body.production as { wellId: string; productionDate: string; gasVolume: number }[]).find(
        (p) => p.wellId === t.wellId && p.productionDate === date,
      ),
    ).toMatchObject({ gasVolume: 320 });
    // The inbox no longer lists it.
    await page.click('a[data-nav="conflicts"]');
    await page.waitForSelector('#conflict-table, #conflicts-empty');
    expect(await page.$(`tr[data-conflict="${id}"]`)).toBeNull();
  });

  it('fits a portrait tablet and works by keyboard: skip link, focus on the new page, labelled controls', async () => {
    await page.setViewportSize({ width: 768, height: 1024 });
    try {
      await page.click('a[data-nav="fleet"]');
      await page.waitForSelector('#fleet-table');
      // Nothing wider than the screen but the tables' own scrolling boxes.
      const overflow = await page.evaluate(() => {
        const root = (
          globalThis as unknown as {
            document: { documentElement: { scrollWidth: number; clientWidth: number } };
          }
        ).document.documentElement;
        return root.scrollWidth - root.clientWidth;
      });
      expect(overflow).toBeLessThanOrEqual(0);
      // The fleet table fits its box at 768 px (minor columns give way): the Failed column is on screen.
      const fit = await page.evaluate(() => {
        type Box = { getBoundingClientRect(): { left: number; right: number } };
        const g = globalThis as unknown as { getComputedStyle(e: Box): { paddingLeft: string } };
        // Where an element's text starts: its box plus its left padding.
        const textLeft = (e: Box | null) =>
          e ? e.getBoundingClientRect().left + parseFloat(g.getComputedStyle(e).paddingLeft) : NaN;
        const doc = (
          globalThis as unknown as {
            document: {
              querySelector(s: string): {
                scrollWidth: number;
                clientWidth: number;
                getBoundingClientRect(): { left: number; right: number };
              } | null;
            };
          }
        ).document;
        const wrap = doc.querySelector('.table-wrap');
        const failed = doc.querySelector('#fleet-table th[aria-sort] button[aria-label="Sort by Failed"]');
        const status = doc.querySelector('#status');
        const heading = doc.querySelector('#view h1');
        return {
          table: wrap?.scrollWidth ?? -1,
          box: wrap?.clientWidth ?? -1,
          failedRight: failed?.getBoundingClientRect().right ?? -1,
          statusLeft: textLeft(status),
          headingLeft: textLeft(heading),
        };
      });
      expect(fit.table).toBeGreaterThan(0);
      expect(fit.table).toBeLessThanOrEqual(fit.box);
      expect(fit.failedRight).toBeGreaterThan(0);
      expect(fit.failedRight).toBeLessThanOrEqual(768);
      // The status line starts where the page's content does.
      expect(Math.abs(fit.statusLeft - fit.headingLeft)).toBeLessThanOrEqual(1);
      await shot('fleet-tablet-portrait');
      // Keyboard: on a fresh load the first Tab reaches the skip link; after a navigation focus is on the page.
      await page.reload();
      await page.waitForSelector('#fleet-table');
      await page.keyboard.press('Tab');
      expect(
        await page.evaluate(
          () => (globalThis as unknown as BrowserGlobals).document.querySelector(':focus')?.textContent,
        ),
      ).toBe('Skip to content');
      await page.focus('a[data-nav="health"]');
      await page.keyboard.press('Enter');
      await page.waitForSelector('#health-summary');
      expect(
        await page.evaluate(
          () =>
            (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document
              .activeElement?.id,
        ),
      ).toBe('view');
      // Every form control has an accessible name (a label around it, or aria-label).
      expect(await page.getByRole('combobox', { name: 'Event type' }).count()).toBe(1);
      expect(await page.getByRole('textbox', { name: 'Device' }).count()).toBe(1);
      expect(await page.getByRole('status').count()).toBe(1);
    } finally {
      await page.setViewportSize({ width: 1180, height: 820 });
    }
  });

  it('raised no Content-Security-Policy violation, no page error and no failed request (favicon included)', () => {
    expect(problems).toEqual([]);
    expect(failedResponses).toEqual([]);
  });
});
