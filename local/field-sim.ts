// `npm run field-sim -- --tenant acme --device tablet-7 --events 500 --photos 20 [--base-url URL]`: plays one
// operator's shift through the real @fieldsync/client (SQLite store) against a running backend, shows a
// progress bar, prints the outcome counts and exits 1 if anything was lost (issue 15, item 7; SPEC "Client").
// docs/field-sim.md describes the shift, the store folder and resuming after a crash.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { AuthError, FieldsyncClient, type SyncProgress, type SyncReport } from '@fieldsync/client';
import { openSqliteStore } from '@fieldsync/client/sqlite';
import { signDevToken } from '../shared/auth/dev-token.js';
import { newShiftPlan, type ShiftPlan, type ShiftTargets, shiftStep, stepCount } from './field-sim-shift.js';
import { devSecret, LOCAL_AUDIENCE, LOCAL_ISSUER, loadLocalSettings } from './settings.js';

const usage = `usage: npm run field-sim -- --tenant <id> --device <id> [--events 50] [--photos 5]
       [--base-url http://localhost:7071/api] [--user field-sim] [--store <folder>] [--seed <text>]
       [--batch-size 1000] [--timeout 300] [--json]
Plays one operator's shift through @fieldsync/client against a running backend (\`npm start\`): pulls the
tenant's wells and equipment (or records), records --events events and attaches --photos generated photos
offline, then syncs with a progress bar on stderr and prints the outcome counts. The client's SQLite store
lives in --store (default: a new temporary folder); run again with the same --store to resume a shift that
was interrupted. Exit 0 when every recorded event has a server outcome and every photo is attached, 1 when
anything is left over (lost), 2 on bad arguments.
--json prints one JSON object per line on stdout (recorded steps, progress, the summary) for scripts.`;

const META_PLAN = 'app.field-sim.plan';
const META_NEXT = 'app.field-sim.next';

interface Options {
  tenant: string;
  device: string;
  user: string;
  events: number;
  photos: number;
  baseUrl: string;
  store: string | undefined;
  seed: string;
  batchSize: number;
  timeoutMs: number;
  json: boolean;
}

function parseOptions(): Options | undefined {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      device: { type: 'string' },
      user: { type: 'string', default: 'field-sim' },
      events: { type: 'string', default: '50' },
      photos: { type: 'string', default: '5' },
      'base-url': { type: 'string', default: 'http://localhost:7071/api' },
      store: { type: 'string' },
      seed: { type: 'string' },
      'batch-size': { type: 'string', default: '1000' },
      timeout: { type: 'string', default: '300' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const int = (text: string, min: number, max: number) => {
    const n = Number(text);
    return Number.isInteger(n) && n >= min && n <= max ? n : undefined;
  };
  const events = int(values.events, 0, 100_000);
  const photos = int(values.photos, 0, 1_000);
  const batchSize = int(values['batch-size'], 1, 1000);
  const timeout = int(values.timeout, 1, 86_400);
  if (
    !values.tenant ||
    !values.device ||
    events === undefined ||
    photos === undefined ||
    batchSize === undefined ||
    timeout === undefined ||
    events + photos === 0
  ) {
    return undefined;
  }
  return {
    tenant: values.tenant,
    device: values.device,
    user: values.user,
    events,
    photos,
    baseUrl: values['base-url'].replace(/\/+$/, ''),
    store: values.store,
    seed: values.seed ?? crypto.randomUUID(),
    batchSize,
    timeoutMs: timeout * 1000,
    json: values.json,
  };
}

/** One JSON line on stdout (--json). */
const jsonLine = (value: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(value)}\n`);

/**
 * A progress bar on stderr: redrawn in place on a terminal; on a pipe or file, one line per phase and per
 * quarter of it, so logs stay short.
 */
class ProgressBar {
  private lastLine = '';
  private lastQuarter = new Map<string, number>();
  constructor(private readonly stream: NodeJS.WriteStream) {}

  update(p: SyncProgress): void {
    const label = { outbox: 'photos', push: 'push', processing: 'processing', pull: 'pull' }[p.phase];
    const total = p.total ?? 0;
    const bytes = p.bytes ? ` ${kib(p.bytes.done)}/${kib(p.bytes.total)}` : '';
    const count = p.phase === 'pull' ? `${p.done} items, ${p.pages ?? 0} pages` : `${p.done}/${total}`;
    const ratio = total > 0 ? Math.min(1, p.done / total) : p.phase === 'pull' ? 0 : 1;
    if (this.stream.isTTY) {
      const width = 30;
      const filled = Math.round(ratio * width);
      const line = `${label.padEnd(10)} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${count}${bytes}`;
      this.stream.write(`\r${line.padEnd(this.lastLine.length)}`);
      this.lastLine = line;
      return;
    }
    const quarter = Math.floor(ratio * 4);
    if (this.lastQuarter.get(p.phase) === quarter && p.phase !== 'pull') return;
    this.lastQuarter.set(p.phase, quarter);
    this.stream.write(`${label}: ${count}${bytes}\n`);
  }

  /** Ends the line being redrawn (before other output). */
  break(): void {
    if (this.stream.isTTY && this.lastLine) this.stream.write('\n');
    this.lastLine = '';
    this.lastQuarter.clear();
  }
}

/**
 * What to tell the operator when the host refuses field-sim's token (401 after one refresh): the usual cause
 * is a host started with another data folder (another dev secret signs its tokens).
 */
function authHint(error: AuthError): string {
  const detail = error.problem?.detail ?? error.problem?.title ?? 'the token was refused';
  return (
    `the host refused the token (401: ${detail}); the token signature is invalid when field-sim signs with ` +
    'another dev secret than the host: is FIELDSYNC_DATA_DIR (or AUTH_DEV_SECRET) the same as for npm start?'
  );
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** Outcomes summed over the syncs of this run. */
function addReport(total: Partial<SyncReport>, report: SyncReport): void {
  for (const key of [
    'pushed',
    'applied',
    'duplicates',
    'conflicts',
    'rejected',
    'failed',
    'photosUploaded',
    'photoBytes',
    'pulledItems',
  ] as const) {
    total[key] = (total[key] ?? 0) + report[key];
  }
}

async function main(): Promise<number> {
  const options = parseOptions();
  if (!options) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  const say = (line: string) => {
    if (!options.json) process.stdout.write(`${line}\n`);
  };
  const { dataDir } = loadLocalSettings();
  const secret = devSecret(dataDir);
  let token: string | undefined;
  const getToken = async ({ forceRefresh }: { forceRefresh: boolean }) => {
    if (!token || forceRefresh) {
      token = await signDevToken({
        secret,
        issuer: process.env.AUTH_ISSUER ?? LOCAL_ISSUER,
        audience: process.env.AUTH_AUDIENCE ?? LOCAL_AUDIENCE,
        tenantId: options.tenant,
        userId: options.user,
        roles: ['OPERATOR'],
        expiresIn: '12h',
      });
    }
    return token;
  };

  const folder = options.store ? resolve(options.store) : mkdtempSync(join(tmpdir(), 'field-sim-'));
  mkdirSync(folder, { recursive: true });
  const store = openSqliteStore(join(folder, 'client.sqlite'));
  const client = new FieldsyncClient({
    baseUrl: options.baseUrl,
    deviceId: options.device,
    store,
    getToken,
    deviceInfo: { platform: 'electron', appVersion: 'field-sim/0.1.0' },
    batching: { maxEvents: options.batchSize },
    // A few tries per request; the sync loop below keeps trying whole syncs until --timeout.
    retry: { maxAttempts: 4 },
  });
  const bar = new ProgressBar(process.stderr);
  client.on('progress', (p) => {
    bar.update(p);
    if (options.json) jsonLine({ type: 'progress', ...p });
  });
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  const totals: Partial<SyncReport> = {};

  /** Syncs until a sync completes (network errors and 503s are retried until the deadline). */
  const syncOnce = async (): Promise<void> => {
    for (;;) {
      try {
        addReport(totals, await client.syncNow());
        bar.break();
        return;
      } catch (error) {
        bar.break();
        // A token refused even after a fresh one was signed is final: retrying cannot help.
        if (error instanceof AuthError) throw new Error(authHint(error));
        const message = error instanceof Error ? error.message : String(error);
        if (Date.now() > deadline) throw error;
        process.stderr.write(`sync failed (${message}); trying again\n`);
        await new Promise((r) => setTimeout(r, 1_000));
      }
    }
  };

  try {
    // The shift's plan: a new one after the first pull, or the one an interrupted run left in the store.
    let plan: ShiftPlan;
    const storedPlan = await store.getMeta(META_PLAN);
    if (storedPlan) {
      plan = JSON.parse(storedPlan) as ShiftPlan;
      say(`resuming the shift in ${folder} (seed ${plan.seed})`);
    } else {
      say(`${options.device}: pulling ${options.tenant}'s reference data from ${options.baseUrl}`);
      await syncOnce();
      const targets = await shiftTargets(client, options, getToken);
      plan = newShiftPlan(options.seed, options.events, options.photos, targets, new Date());
      await store.setMeta(META_PLAN, JSON.stringify(plan));
      await store.setMeta(META_NEXT, '0');
    }
    // Record the shift offline. Each step is durable when recorded; `next` is written after it, so a step
    // interrupted in between is recorded again with the same id (the outbox keeps the first).
    const steps = stepCount(plan);
    let next = Number((await store.getMeta(META_NEXT)) ?? '0');
    const recordStarted = Date.now();
    for (; next < steps; next += 1) {
      const step = shiftStep(plan, next);
      if (step.kind === 'event') {
        await client.record(step.type, step.payload, { id: step.id, occurredAt: step.occurredAt });
        if (options.json) jsonLine({ type: 'recorded', step: next, eventId: step.id, eventType: step.type });
      } else {
        const queued = await client.attachPhoto(step.bytes, step.target, {
          photoId: step.photoId,
          takenAt: step.takenAt,
        });
        if (options.json) {
          jsonLine({
            type: 'photo',
            step: next,
            photoId: queued.photoId,
            attachEventId: queued.attachEventId,
          });
        }
      }
      await store.setMeta(META_NEXT, String(next + 1));
      if (process.stderr.isTTY && (next + 1) % 50 === 0)
        process.stderr.write(`recorded ${next + 1}/${steps}\r`);
    }
    say(
      `recorded ${plan.events} events and ${plan.photos} photos in ${ms(Date.now() - recordStarted)}; syncing`,
    );

    // Sync until nothing is left to send, wait for or upload, or the deadline passes.
    for (;;) {
      await syncOnce();
      const status = await client.status();
      const open = status.pending + status.retrying + status.photos.queued + status.inFlightBatches;
      if (open === 0 || Date.now() > deadline) break;
    }

    const status = await client.status();
    const outbox = await client.outbox();
    const server = await deviceStatus(options, getToken);
    const lost =
      status.pending + status.retrying + status.photos.queued + status.inFlightBatches + server.pendingEvents;
    const rejected = outbox.filter((e) => e.state === 'REJECTED' || e.state === 'FAILED');
    const summary = {
      tenant: options.tenant,
      device: options.device,
      store: folder,
      events: plan.events,
      photos: plan.photos,
      pushed: totals.pushed ?? 0,
      applied: totals.applied ?? 0,
      duplicates: totals.duplicates ?? 0,
      conflicts: totals.conflicts ?? 0,
      rejected: totals.rejected ?? 0,
      failed: totals.failed ?? 0,
      photosUploaded: totals.photosUploaded ?? 0,
      photoBytes: totals.photoBytes ?? 0,
      photosAttachedOnServer: server.photos.attached,
      photosAwaitingUpload: server.photos.awaitingUpload,
      serverPendingEvents: server.pendingEvents,
      leftInOutbox: status.pending + status.retrying,
      leftInPhotoQueue: status.photos.queued,
      lost,
      seconds: Number(((Date.now() - started) / 1000).toFixed(1)),
    };
    if (options.json) {
      jsonLine({ type: 'summary', ...summary });
    } else {
      say(`outcomes for ${plan.events + plan.photos} steps (${summary.pushed} events pushed this run):`);
      say(
        `  applied ${summary.applied} · duplicate ${summary.duplicates} · conflict ${summary.conflicts} · ` +
          `rejected ${summary.rejected} · failed ${summary.failed}`,
      );
      say(
        `  photos uploaded ${summary.photosUploaded} (${kib(summary.photoBytes)}) · attached on the server ` +
          `${summary.photosAttachedOnServer} · awaiting upload ${summary.photosAwaitingUpload}`,
      );
      for (const entry of rejected.slice(0, 10)) {
        say(
          `  ${entry.state} ${entry.event.type} ${entry.event.id}: ${entry.error?.code} ${entry.error?.message}`,
        );
      }
      say(
        lost === 0
          ? `nothing lost: every recorded event has a server outcome (${ms(Date.now() - started)}); store ${folder}`
          : `LOST: ${summary.leftInOutbox} event(s) without an outcome, ${summary.leftInPhotoQueue} photo(s) not ` +
              `attached, ${summary.serverPendingEvents} still pending on the server; store ${folder}`,
      );
    }
    return lost === 0 ? 0 : 1;
  } finally {
    await client.close();
  }
}

/** What the shift works on: the pulled ACTIVE wells and equipment, else the records of the tenant's collections. */
async function shiftTargets(
  client: FieldsyncClient,
  options: Options,
  getToken: (o: { forceRefresh: boolean }) => Promise<string>,
): Promise<ShiftTargets> {
  const wells = (await client.entities('well'))
    .filter((w) => w.status === undefined || w.status === 'ACTIVE')
    .map((w) => String(w.id));
  const active = new Set(wells);
  const equipment = (await client.entities('equipment'))
    .filter((e) => typeof e.wellId !== 'string' || active.has(e.wellId))
    .map((e) => ({ id: String(e.id), wellId: typeof e.wellId === 'string' ? e.wellId : null }));
  const records: ShiftTargets['records'] = [];
  if (wells.length === 0) {
    // v1.1 tenants: the collections this tenant syncs (GET /v1/schema), then the records pulled of each.
    const answer = await fetch(`${options.baseUrl}/v1/schema`, {
      headers: { authorization: `Bearer ${await getToken({ forceRefresh: false })}` },
    });
    if (!answer.ok) throw new Error(`GET /v1/schema answered ${answer.status}`);
    const schema = (await answer.json()) as { collections: { name: string }[] };
    for (const { name } of schema.collections) {
      for (const record of await client.collection(name).list())
        records.push({ collection: name, id: record.id });
    }
  }
  return { wells, equipment, records };
}

/** The server's view of this device (GET /v1/sync/status): what it still has pending, and photos. */
async function deviceStatus(
  options: Options,
  getToken: (o: { forceRefresh: boolean }) => Promise<string>,
): Promise<{ pendingEvents: number; photos: { awaitingUpload: number; attached: number } }> {
  const answer = await fetch(
    `${options.baseUrl}/v1/sync/status?deviceId=${encodeURIComponent(options.device)}`,
    {
      headers: { authorization: `Bearer ${await getToken({ forceRefresh: false })}` },
    },
  );
  if (!answer.ok) throw new Error(`GET /v1/sync/status answered ${answer.status}`);
  return (await answer.json()) as {
    pendingEvents: number;
    photos: { awaitingUpload: number; attached: number };
  };
}

const ms = (n: number) => (n < 1000 ? `${n} ms` : `${(n / 1000).toFixed(1)} s`);

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`field-sim: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
