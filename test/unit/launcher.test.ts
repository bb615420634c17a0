import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../shared/project-root.js';

// scripts/run.mjs (issue 10, item 7) in a project of its own: a copy of the launcher, a two-file
// TypeScript program and this repository's node_modules, so the real dist/ is never touched. Every
// assertion is on what was built (the stamp, the output files, the launcher's messages), never on timing.
let dir: string;
const stamp = () => readFileSync(join(dir, 'dist', '.build-stamp.json'), 'utf8');
const built = () => statSync(join(dir, 'dist', 'local', 'hello.js')).mtimeMs;
/** Saves a source file (after the last build began, as an edit would be). */
const source = (path: string, text: string) => writeFileSync(join(dir, path), text);
const launch = (...args: string[]) => {
  const result = spawnSync(process.execPath, [join(dir, 'scripts', 'run.mjs'), ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
};
const launchAsync = (...args: string[]) =>
  new Promise<{ status: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [join(dir, 'scripts', 'run.mjs'), ...args], { cwd: dir });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (status) => resolve({ status, stderr }));
  });

beforeAll(() => {
  const root = projectRoot();
  dir = mkdtempSync(join(tmpdir(), 'fieldsync-launcher-'));
  for (const folder of ['scripts', 'local', 'shared']) mkdirSync(join(dir, folder));
  copyFileSync(join(root, 'scripts', 'run.mjs'), join(dir, 'scripts', 'run.mjs'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  writeFileSync(
    join(dir, 'package.json'),
    '{ "name": "launcher-test", "private": true, "type": "module" }\n',
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        // No @types/node (hello.ts declares what it uses): each tsc run stays short.
        types: [],
        lib: ['ES2022'],
        strict: true,
        skipLibCheck: true,
        outDir: 'dist',
        rootDir: '.',
      },
      include: ['local', 'shared'],
    }),
  );
  writeFileSync(join(dir, 'shared', 'greeting.ts'), "export const greeting: string = 'hello';\n");
  writeFileSync(
    join(dir, 'local', 'hello.ts'),
    "import { greeting } from '../shared/greeting.js';\n" +
      'declare const process: { argv: string[]; stdout: { write(text: string): void } };\n' +
      "process.stdout.write(`${greeting} ${process.argv.slice(2).join(' ')}\\n`);\n",
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Each build is a real tsc run: seconds on a loaded machine.
describe('scripts/run.mjs', { timeout: 120_000 }, () => {
  it('builds a tree never built, then runs the entry with its arguments; stdout is only the entry’s', () => {
    const first = launch('local/hello.js', '--tenant', 'acme');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toBe('hello --tenant acme\n');
    expect(first.stderr).toMatch(/building \(no build yet\)/);
    expect(existsSync(join(dir, 'dist', '.build-lock'))).toBe(false);
  });

  it('does not rebuild a built tree', () => {
    const [before, output] = [stamp(), built()];
    const again = launch('local/hello.js', 'x');
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toBe('hello x\n');
    expect(again.stderr).not.toMatch(/building/);
    expect(stamp()).toBe(before);
    expect(built()).toBe(output);
    expect(launch('--build-if-stale').stderr).not.toMatch(/building/);
    expect(stamp()).toBe(before);
  });

  it('rebuilds when a source file changes, and runs the new code', () => {
    const before = stamp();
    source('shared/greeting.ts', "export const greeting: string = 'hi';\n");
    const changed = launch('local/hello.js', 'y');
    expect(changed.stderr).toMatch(/building \(shared\/greeting\.ts changed\)/);
    expect(changed.stdout).toBe('hi y\n');
    expect(stamp()).not.toBe(before);
    expect(launch('local/hello.js').stderr).not.toMatch(/building/);
  });

  it('rebuilds when a source file is removed (its folder changed)', () => {
    source('shared/extra.ts', 'export const extra = 1;\n');
    expect(launch('--build-if-stale').stderr).toMatch(/building/);
    expect(existsSync(join(dir, 'dist', 'shared', 'extra.js'))).toBe(true);
    unlinkSync(join(dir, 'shared', 'extra.ts'));
    expect(launch('--build-if-stale').stderr).toMatch(/building \(shared changed\)/);
  });

  it('does not run the entry when the build fails, and builds again once fixed', () => {
    source('shared/greeting.ts', 'export const greeting: string = 42;\n');
    const failed = launch('local/hello.js');
    expect(failed.status).toBe(1);
    expect(failed.stdout).toBe('');
    expect(failed.stderr).toMatch(/TS2322/);
    expect(failed.stderr).toMatch(/build failed/);
    expect(launch('local/hello.js').stderr).toMatch(/building \(no build yet\)/);
    source('shared/greeting.ts', "export const greeting: string = 'fixed';\n");
    expect(launch('local/hello.js').stdout).toBe('fixed \n');
  });

  it('builds once when two launchers start on a stale tree together', async () => {
    source('shared/greeting.ts', "export const greeting: string = 'both';\n");
    const runs = await Promise.all([launchAsync('--build-if-stale'), launchAsync('--build-if-stale')]);
    expect(runs.map((r) => r.status)).toEqual([0, 0]);
    expect(runs.filter((r) => /building/.test(r.stderr))).toHaveLength(1);
    expect(launch('local/hello.js').stdout).toBe('both \n');
  });

  it('says so when the entry does not exist', () => {
    const missing = launch('local/nope.js');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no entry dist\/local\/nope\.js/);
  });

  it('takes over a lock left by a launcher that died', () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    mkdirSync(join(dir, 'dist', '.build-lock'));
    writeFileSync(join(dir, 'dist', '.build-lock', 'pid'), String(dead));
    source('shared/greeting.ts', "export const greeting: string = 'after';\n");
    const run = launch('local/hello.js');
    expect(run.stderr).toMatch(/building/);
    expect(run.stdout).toBe('after \n');
    expect(existsSync(join(dir, 'dist', '.build-lock'))).toBe(false);
  });
});
