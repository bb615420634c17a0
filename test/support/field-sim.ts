import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { inject } from 'vitest';
import { getApp } from '../../shared/app.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';

const root = join(import.meta.dirname, '..', '..');

/** How a `field-sim` child ended. */
export interface SimRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Parsed JSON lines of `--json` (the others are skipped), each with `atMs`: ms after the start. */
  lines: Record<string, unknown>[];
  ms: number;
}

/** Options of {@link runFieldSim}. */
export interface SimOptions {
  /** Through `node scripts/run.mjs local/field-sim.js` as `npm run field-sim` does (default), or dist directly. */
  viaLauncher?: boolean;
  /** Called with each JSON line as it arrives; may call `kill()` to SIGKILL the child there and then. */
  onLine?: (line: Record<string, unknown>, kill: () => void) => void;
  /** SIGKILL the child this many ms after it started, if still running. */
  killAfterMs?: number;
  timeoutMs?: number;
  env?: Record<string, string>;
}

/**
 * Runs `field-sim` in a child process against the test stack's host, with only the run's settings in its
 * environment (its dev secret signs the tokens). Resolves when the child exits, however it exits.
 */
export function runFieldSim(args: string[], options: SimOptions = {}): Promise<SimRun> {
  const settings = inject('settings');
  const entry =
    options.viaLauncher === false
      ? [join(root, 'dist', 'local', 'field-sim.js')]
      : [join(root, 'scripts', 'run.mjs'), 'local/field-sim.js'];
  const started = Date.now();
  const child = spawn(process.execPath, [...entry, '--base-url', inject('hostUrl'), ...args], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...settings,
      FIELDSYNC_DATA_DIR: inject('dataDir'),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: SimRun = { code: null, signal: null, stdout: '', stderr: '', lines: [], ms: 0 };
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const text = chunk.toString();
    run.stdout += text;
    pending += text;
    let newline = pending.indexOf('\n');
    while (newline >= 0) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      newline = pending.indexOf('\n');
      if (!line.startsWith('{')) continue;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        parsed.atMs = Date.now() - started; // when it arrived, for timing figures
        run.lines.push(parsed);
        options.onLine?.(parsed, kill);
      } catch {
        // not a JSON line
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (run.stderr += chunk.toString()));
  const killTimer = options.killAfterMs === undefined ? undefined : setTimeout(kill, options.killAfterMs);
  const timeout = setTimeout(kill, options.timeoutMs ?? 120_000);
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      clearTimeout(killTimer);
      clearTimeout(timeout);
      run.code = code;
      run.signal = signal;
      run.ms = Date.now() - started;
      resolve(run);
    });
  });
}

/** One row of the tenant's event log (sync_events) for a device. */
export interface LoggedEvent {
  id: string;
  type: string;
  status: string;
  photoId: string | null;
}

/**
 * What the server holds for a device, straight from the tenant database: every event it applied (the event
 * log, whose primary key is the event id), the effect rows of appended types by event id, and its photos.
 */
export async function serverRecordOf(tenant: Tenant, deviceId: string) {
  const pool = getApp().tenantPool(tenant);
  const events = (
    await pool.query<LoggedEvent>(
      `select id::text, type, status, payload->>'photoId' as "photoId" from sync_events where device_id = $1`,
      [deviceId],
    )
  ).rows;
  const ids = events.map((e) => e.id);
  const effects = (
    await pool.query<{ event_id: string }>(
      `select event_id::text from well_readings where event_id = any($1::uuid[])
       union all select event_id::text from inspections where event_id = any($1::uuid[])
       union all select event_id::text from maintenance_logs where event_id = any($1::uuid[])
       union all select event_id::text from notes where event_id = any($1::uuid[])`,
      [ids],
    )
  ).rows.map((r) => r.event_id);
  const photos = (
    await pool.query<{ id: string; status: string; event_id: string | null }>(
      'select id::text, status, event_id::text from photos where device_id = $1',
      [deviceId],
    )
  ).rows;
  return { events, effects, photos };
}
