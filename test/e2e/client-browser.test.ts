import { readFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join, normalize } from 'node:path';
import { BlobServiceClient } from '@azure/storage-blob';
import type * as Fieldsync from '@fieldsync/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jpegImage, pngImage, seeded } from '../../local/field-sim-shift.js';
import { closeApp } from '../../shared/app.js';
import { tokenFor } from '../support/auth.js';
import { launchChromium, type TestBrowser } from '../support/chromium.js';
import { serverRecordOf } from '../support/field-sim.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// Issue 15, proof 4: the client in real Chromium (Debian's, headless, through playwright-core) records into
// its IndexedDB store, the page is reloaded, and a new client on the same IndexedDB syncs: the server applies
// each event exactly once and the outbox ends empty. The page loads the built package (client/dist, plain ES
// modules: no bundler needed, the node-only imports are dynamic and never run in a browser) from a loopback
// server that also forwards /api to the local host, so the page and the API share an origin (no CORS).
const root = join(import.meta.dirname, '..', '..');
const dist = join(root, 'client', 'dist');
const host = new URL(inject('hostUrl'));
let t: SeededTenant;
let server: Server;
let origin = '';
let browser: TestBrowser | undefined;
const opened = () => {
  if (!browser) throw new Error('the browser did not start');
  return browser.context;
};

const PAGE = `<!doctype html><meta charset="utf-8"><title>fieldsync client test</title>
<script type="module">
  import * as fieldsync from '/client/index.js';
  window.fieldsync = fieldsync;
  document.title = 'ready';
</script>`;

beforeAll(async () => {
  t = await seededTenant('browser');
  server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path.startsWith(`${host.pathname}/`)) {
      // Same-origin API: forwarded as it is to the local Functions host.
      const upstream = request(
        { host: host.hostname, port: host.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
      return;
    }
    const file = normalize(path.slice('/client/'.length));
    if (path.startsWith('/client/') && file.endsWith('.js') && !file.startsWith('..')) {
      try {
        const body = readFileSync(join(dist, file));
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(body);
        return;
      } catch {
        // fall through to 404
      }
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  origin = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  // The page PUTs photos straight to Blob Storage (Azurite), another origin: allow this page's origin there,
  // as the deployment sets the photo container's CORS for the app's origins (docs/deploy.md).
  const blob = BlobServiceClient.fromConnectionString(process.env.StorageConnection ?? '');
  const { cors = [] } = await blob.getProperties();
  await blob.setProperties({
    cors: [
      ...cors,
      {
        allowedOrigins: origin,
        allowedMethods: 'PUT,OPTIONS',
        allowedHeaders: '*',
        exposedHeaders: '*',
        maxAgeInSeconds: 60,
      },
    ],
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await closeApp();
});

/**
 * What the page's scripts see (window): typed here because the tests' TypeScript has no DOM library; the
 * callbacks given to page.evaluate run in Chromium and reach these through globalThis.
 */
interface PageGlobals {
  fieldsync: typeof Fieldsync;
  location: { origin: string };
  document: { title: string };
  createImageBitmap(blob: Blob): Promise<{ width: number; height: number }>;
}

describe('@fieldsync/client in Chromium', { timeout: 120_000 }, () => {
  it('records events and a photo into IndexedDB, survives a reload, then syncs: applied once, outbox empty', async () => {
    // Prepare
    const token = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-browser');
    const page = await opened().newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.title === 'ready');
    const photo = [...pngImage(seeded('browser-photo'))];
    const options = {
      token,
      wellId: t.wellId,
      deviceId: 'browser-1',
      db: `fieldsync-${t.tenant.id}-browser-1`,
      photo,
    };

    // Act 1: offline work — record 8 notes and take a photo (the page never syncs before the reload).
    const { ids: recorded, photoId } = await page.evaluate(async (o) => {
      const win = globalThis as unknown as PageGlobals;
      const { FieldsyncClient, openIndexedDbStore } = win.fieldsync;
      const client = new FieldsyncClient({
        baseUrl: `${win.location.origin}/api`,
        deviceId: o.deviceId,
        store: await openIndexedDbStore(o.db),
        getToken: () => o.token,
        deviceInfo: { platform: 'web', appVersion: 'browser-test' },
      });
      const ids: string[] = [];
      for (let i = 0; i < 8; i += 1) {
        const event = await client.record('NOTES_ADDED', {
          target: { type: 'WELL', id: o.wellId },
          text: `browser note ${i}`,
        });
        ids.push(event.eventId);
      }
      const queued = await client.attachPhoto(new Uint8Array(o.photo), { type: 'WELL', id: o.wellId });
      await client.close();
      return { ids, photoId: queued.photoId };
    }, options);
    await page.reload();
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).document.title === 'ready');

    // Act 2: a new page life, a new client on the same IndexedDB database: sync.
    const after = await page.evaluate(async (o) => {
      const win = globalThis as unknown as PageGlobals;
      const { FieldsyncClient, openIndexedDbStore } = win.fieldsync;
      const client = new FieldsyncClient({
        baseUrl: `${win.location.origin}/api`,
        deviceId: o.deviceId,
        store: await openIndexedDbStore(o.db),
        getToken: () => o.token,
        deviceInfo: { platform: 'web', appVersion: 'browser-test' },
      });
      const before = await client.status();
      const pendingIds = (await client.outbox()).map((e) => e.event.id);
      const report = await client.syncNow();
      const status = await client.status();
      const outbox = await client.outbox();
      const wells = await client.entities('well');
      await client.close();
      return { before, pendingIds, report, status, outbox, wells: wells.length };
    }, options);

    // Assess: the reload kept the outbox; the sync emptied it; the server applied each event once.
    expect(errors).toEqual([]);
    expect(after.before).toMatchObject({
      pending: 8,
      photos: { queued: 1, bytes: photo.length },
      inFlightBatches: 0,
      lastSyncAt: null,
    });
    expect(after.pendingIds).toEqual(recorded);
    expect(after.report).toMatchObject({
      applied: 9, // 8 notes and the photo's PHOTO_ATTACHED
      photosUploaded: 1,
      photoErrors: 0,
      duplicates: 0,
      rejected: 0,
      stillProcessing: 0,
    });
    expect(after.outbox).toEqual([]);
    expect(after.status).toMatchObject({ pending: 0, failed: 0, conflicts: 0, lastError: null });
    expect(after.wells).toBeGreaterThan(0); // the pull landed in IndexedDB too
    const held = await serverRecordOf(t.tenant, 'browser-1');
    const notes = held.events.filter((e) => e.type === 'NOTES_ADDED');
    expect(notes.map((e) => e.id).sort()).toEqual([...recorded].sort());
    expect(held.events.every((e) => e.status === 'APPLIED')).toBe(true);
    expect(held.effects.sort()).toEqual([...recorded].sort());
    const attach = held.events.filter((e) => e.type === 'PHOTO_ATTACHED');
    expect(attach).toMatchObject([{ photoId }]);
    expect(held.photos).toEqual([{ id: photoId, status: 'ATTACHED', event_id: attach[0]?.id }]);
    await page.close();
  });

  it("decodes field-sim's generated JPEG and PNG photos (real images, not just magic bytes)", async () => {
    const page = await opened().newPage();
    await page.goto(`${origin}/`);
    const random = seeded('browser');
    const images = [
      { type: 'image/jpeg', bytes: [...jpegImage(random)] },
      { type: 'image/png', bytes: [...pngImage(random)] },
    ];
    const sizes = await page.evaluate(async (list) => {
      const out: [number, number][] = [];
      for (const { type, bytes } of list) {
        const win = globalThis as unknown as PageGlobals;
        const bitmap = await win.createImageBitmap(new Blob([new Uint8Array(bytes)], { type }));
        out.push([bitmap.width, bitmap.height]);
      }
      return out;
    }, images);
    expect(sizes).toEqual([
      [64, 48],
      [96, 64],
    ]);
    await page.close();
  });
});
