import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateControlDatabase } from '../../local/bootstrap.js';
import { startLocalStack } from '../../local/stack.js';
import { loadConfig } from '../../shared/config.js';
import { freePort } from '../support/ports.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** App settings of the test stack: every process of the run points at these and nothing else. */
    settings: Record<string, string>;
    /** Base URL of the local Functions host (`node dist/local/start.js`), e.g. http://127.0.0.1:5xxxx/api */
    hostUrl: string;
    dataDir: string;
  }
}

const root = join(import.meta.dirname, '..', '..');

function startHost(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(root, 'dist', 'local', 'start.js')], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`host did not start in 60 s:\n${output.slice(-2000)}`)),
      60_000,
    );
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /serving \d+ functions at (\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`host exited (${code}) during start:\n${output.slice(-2000)}`));
    });
  });
}

/**
 * Starts the embedded stack once per test run, in a fresh temporary folder on free loopback ports, and the
 * local Functions host against it. Settings from the outer environment are never used, so a test can
 * only ever reach this run's own databases.
 */
export default async function setup(project: TestProject) {
  // The same build as the npm scripts (scripts/run.mjs): tsc only when the sources changed since dist/ was built.
  execFileSync(process.execPath, [join(root, 'scripts', 'run.mjs'), '--build-if-stale'], {
    stdio: 'inherit',
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'fieldsync-test-'));
  const ports = { postgres: await freePort(), blob: await freePort(), cosmos: await freePort() };
  const stack = await startLocalStack({ dataDir, ports, given: {} });
  const settings: Record<string, string> = {
    ...stack.settings,
    AUTH_DEV_SECRET: randomBytes(32).toString('base64url'),
    AUTH_ISSUER: 'fieldsync-test',
    AUTH_AUDIENCE: 'fieldsync-api',
    QUEUE_DRIVER: 'local',
    // Tests push and pull far faster than any device; rate-limit tests set their own low limits.
    RATE_LIMIT_PUSH_PER_MINUTE: '1000000',
    RATE_LIMIT_PULL_PER_MINUTE: '1000000',
    RATE_LIMIT_OTHER_PER_SECOND: '1000000',
    RATE_LIMIT_SEQUENTIAL_PER_MINUTE: '1000000',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    FIELDSYNC_TEST_DATA_DIR: dataDir,
  };
  await migrateControlDatabase(loadConfig(settings));
  await assertIsTestServer(settings.POSTGRES_URL ?? '', dataDir);

  const host = await startHost({ ...settings, PORT: String(await freePort()), FIELDSYNC_DATA_DIR: dataDir });
  project.provide('settings', settings);
  project.provide('hostUrl', host.url);
  project.provide('dataDir', dataDir);

  return async () => {
    await new Promise<void>((resolve) => {
      if (host.child.exitCode !== null) return resolve();
      host.child.once('exit', () => resolve());
      host.child.kill('SIGINT');
    });
    await stack.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

/** Refuses to go on unless the Postgres server keeps its files in this run's temporary folder. */
export async function assertIsTestServer(url: string, dataDir: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ dir: string }>("select current_setting('data_directory') as dir");
    if (!rows[0]?.dir.startsWith(dataDir)) {
      throw new Error(`refusing to test against ${rows[0]?.dir}: not this run's test database`);
    }
  } finally {
    await client.end();
  }
}
