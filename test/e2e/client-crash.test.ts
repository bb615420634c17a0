import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import { runFieldSim, type SimRun, serverRecordOf } from '../support/field-sim.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// Issue 15, proof 1: the client process (field-sim: the real client on a SQLite file) is SIGKILLed at random
// moments — biased into the push and the photo upload by watching its progress lines — then started again on
// the same store until a run completes. Across RUNS runs every recorded event is applied exactly once and
// every photo attached once, judged from the tenant database (the event log, effect rows, photos).
const RUNS = Number(process.env.CRASH_RUNS ?? 50);
const PARALLEL = Number(process.env.CRASH_PARALLEL ?? 5);
/** Where a run's first kill is aimed: after the first push starts, after a later batch, in the upload, or anywhere. */
const MOMENTS = ['push', 'upload', 'later-push', 'anytime'] as const;
type Moment = (typeof MOMENTS)[number];

let t: SeededTenant;
const folder = mkdtempSync(join(tmpdir(), 'client-crash-'));

beforeAll(async () => {
  t = await seededTenant('crash');
});
afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  await closeApp();
});

interface Attempt {
  killedIn: string | undefined;
  run: SimRun;
}

/** Starts the client on run `i`'s store; kills it at `moment` (random delay after the trigger) unless undefined. */
async function attempt(i: number, moment: Moment | undefined): Promise<Attempt> {
  const args = [
    ...['--tenant', t.tenant.id, '--device', `crash-${i}`, '--seed', `crash-${i}`],
    ...['--events', '5', '--photos', '1', '--batch-size', '3', '--timeout', '90', '--json'],
    ...['--store', join(folder, String(i))],
  ];
  let phase = 'start';
  let armed = moment !== undefined;
  let killedIn: string | undefined;
  const arm = (kill: () => void, delayMs: number) => {
    armed = false;
    setTimeout(() => {
      killedIn = phase;
      kill();
    }, delayMs);
  };
  const run = await runFieldSim(args, {
    viaLauncher: false, // dist/ is built by the global setup; skip the launcher's staleness walk
    onLine: (line, kill) => {
      if (line.type === 'progress') phase = String(line.phase);
      else if (line.type === 'recorded' || line.type === 'photo') phase = 'record';
      if (!armed) return;
      // Anywhere from the first pull on: recording, the upload, the push, waiting for outcomes, the last pull.
      if (moment === 'anytime' && line.type === 'progress') arm(kill, Math.random() * 1_500);
      if (moment === 'push' && line.type === 'progress' && line.phase === 'push')
        arm(kill, Math.random() * 250);
      if (moment === 'upload' && line.type === 'progress' && line.phase === 'outbox')
        arm(kill, Math.random() * 40);
      if (moment === 'later-push' && line.phase === 'push' && Number(line.done) > 0)
        arm(kill, Math.random() * 80);
    },
  });
  return { killedIn: run.signal === 'SIGKILL' ? (killedIn ?? phase) : undefined, run };
}

/** One crash run: a first start killed at a moment, a second one killed too for every fifth run, then to the end. */
async function crashRun(i: number) {
  const moment = MOMENTS[i % MOMENTS.length] as Moment;
  const attempts: Attempt[] = [await attempt(i, moment)];
  if (i % 5 === 0) attempts.push(await attempt(i, 'push'));
  let last = await attempt(i, undefined);
  attempts.push(last);
  // A completed run exits 0 with nothing lost; a run still finishing a batch the server processes slowly
  // may need one more start (it would in the field too).
  if (last.run.code !== 0) attempts.push((last = await attempt(i, undefined)));
  return { i, moment, attempts, last };
}

describe(`client killed at random points (${RUNS} runs)`, { timeout: 900_000 }, () => {
  it('after restarts, every recorded event is applied exactly once and every photo attached once', async () => {
    const started = Date.now();
    const results: Awaited<ReturnType<typeof crashRun>>[] = [];
    let next = 0;
    // A few runs at a time: each is a couple of Node processes on a small shared machine.
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < RUNS) results.push(await crashRun(next++));
      }),
    );
    const kills = results.flatMap((r) => r.attempts.flatMap((a) => (a.killedIn ? [a.killedIn] : [])));
    const byPhase: Record<string, number> = {};
    for (const phase of kills) byPhase[phase] = (byPhase[phase] ?? 0) + 1;
    const completed = results.flatMap((r) => r.attempts.filter((a) => a.run.code === 0).map((a) => a.run.ms));
    completed.sort((a, b) => a - b);
    console.log(
      `completed processes: p50 ${completed[Math.floor(completed.length / 2)]} ms, max ${completed.at(-1)} ms; ` +
        `crash runs: ${results.length}, processes ${results.reduce((n, r) => n + r.attempts.length, 0)}, ` +
        `kills ${kills.length} ${JSON.stringify(byPhase)}, wall ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    if (process.env.CRASH_DEBUG) console.log(JSON.stringify(results[0]?.last.run.lines, null, 0));
    for (const { i, attempts, last } of results) {
      const context = `run ${i}: ${last.run.stdout.slice(-600)}\n${last.run.stderr.slice(-600)}`;
      expect(last.run.code, context).toBe(0);
      const summary = last.run.lines.find((l) => l.type === 'summary');
      expect(summary, context).toMatchObject({ lost: 0, leftInOutbox: 0, leftInPhotoQueue: 0 });
      // What the runs reported as recorded (durable in the outbox before it was printed).
      const lines = attempts.flatMap((a) => a.run.lines);
      const recorded = new Set(lines.filter((l) => l.type === 'recorded').map((l) => String(l.eventId)));
      const photos = new Set(lines.filter((l) => l.type === 'photo').map((l) => String(l.photoId)));
      expect(recorded.size, context).toBe(5);
      expect(photos.size, context).toBe(1);
      // The server: each recorded event once in the log, settled as one application settles it.
      const server = await serverRecordOf(t.tenant, `crash-${i}`);
      const events = server.events.filter((e) => e.type !== 'PHOTO_ATTACHED');
      expect(new Set(events.map((e) => e.id)), context).toEqual(recorded);
      expect(events.length, context).toBe(recorded.size);
      for (const e of events) expect(['APPLIED', 'CONFLICT'], `${context} ${e.type}`).toContain(e.status);
      const appended = events.filter((e) => e.type !== 'PRODUCTION_LOGGED').map((e) => e.id);
      expect(server.effects.sort(), context).toEqual(appended.sort());
      // The photo: one attach event, applied, and the photo ATTACHED by it.
      const attaches = server.events.filter((e) => e.type === 'PHOTO_ATTACHED');
      expect(attaches, context).toHaveLength(1);
      expect(attaches[0], context).toMatchObject({ status: 'APPLIED', photoId: [...photos][0] });
      expect(server.photos, context).toEqual([
        { id: [...photos][0], status: 'ATTACHED', event_id: attaches[0]?.id },
      ]);
    }
    // The kills landed where they were aimed, not only before or after the sync.
    expect(kills.length).toBeGreaterThanOrEqual(RUNS);
    expect(byPhase.push ?? 0).toBeGreaterThanOrEqual(Math.floor(RUNS / 5));
    expect(byPhase.outbox ?? 0).toBeGreaterThanOrEqual(Math.floor(RUNS / 8));
  });
});
