import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait.js';

// `npm run bench` starts a private stack (Postgres, Azurite, the Cosmos emulator) in a temporary folder of
// its own. However it ends — its reader gone (`npm run bench | head`), or a signal while the stack is still
// starting — it stops what it started and removes the folder. Each run gets a TMPDIR of this file's own, so
// "nothing left" is checked on that folder and on the processes naming it.
const root = join(import.meta.dirname, '..', '..');
const scratch: string[] = [];
afterAll(() => {
  // Only a failed run leaves anything: stop it too, so this file never outlives its own processes.
  for (const dir of scratch) {
    for (const pid of processesIn(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

const SMALL = ['--devices', '1', '--events', '10', '--unloaded', '1'];

/** A TMPDIR for one bench run. */
function freshTmp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bench-cleanup-'));
  scratch.push(dir);
  return dir;
}

/** Pids of processes whose command line names `place` (a Postgres or Azurite started in it). */
function processesIn(place: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(place)) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

function startBench(tmp: string) {
  return spawn(process.execPath, [join(root, 'scripts', 'run.mjs'), 'bench/run.js', ...SMALL], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const exitOf = (child: ReturnType<typeof startBench>) =>
  new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('npm run bench stops what it started', () => {
  it('its reader gone after the first line: it finishes quietly, exit 0, no folder or process left', async () => {
    // Prepare
    const tmp = freshTmp();
    const child = startBench(tmp);
    const exited = exitOf(child);
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Act: close the reading end after the first output, as `| head -1` does.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await exited;
    // Assess
    expect({ code, stderr: stderr.split('\n').filter((l) => /failed|Error/.test(l)) }).toEqual({
      code: 0,
      stderr: [],
    });
    expect(readdirSync(tmp)).toEqual([]);
    expect(processesIn(tmp)).toEqual([]);
  }, 120_000);

  it('SIGTERM while its stack starts: exit 143 once the stack is stopped, no folder or process left', async () => {
    // Prepare: wait until Postgres of the bench's stack runs.
    const tmp = freshTmp();
    const child = startBench(tmp);
    const exited = exitOf(child);
    await waitFor(() => processesIn(tmp).length > 0, { what: 'the bench stack started', timeoutMs: 60_000 });
    // Act
    child.kill('SIGTERM');
    const code = await exited;
    // Assess
    expect(code).toBe(143);
    expect(readdirSync(tmp)).toEqual([]);
    expect(processesIn(tmp)).toEqual([]);
  }, 120_000);
});
