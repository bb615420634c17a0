#!/usr/bin/env node
// The npm scripts' launcher: builds dist/ only when the TypeScript sources changed since the last build,
// then runs a built entry point in this same process (no second Node start-up).
//
//   node scripts/run.mjs local/token-cli.js --tenant acme …   build if stale, then run dist/local/token-cli.js
//   node scripts/run.mjs --build-if-stale                      build if stale (npm's `prepare`, the tests)
//   node scripts/run.mjs --build                               always build (`npm run build`)
//
// Plain JavaScript on purpose: it must run before anything is compiled. "Stale" means: no build stamp
// (dist/.build-stamp.json), or a file or folder under functions/, shared/, local/, bench/, client/src/, or
// tsconfig.json, tsconfig.console.json, package.json, package-lock.json or the client workspace's own two,
// modified after the last successful build STARTED (a file saved during a build is rebuilt next time; a
// folder's mtime changes when a file is added, removed or renamed).
// Concurrent launchers build once: the others wait on a lock folder (dist/.build-lock) holding the
// builder's pid, and take it over if that process is gone.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stampFile = join(dist, '.build-stamp.json');
const lockDir = join(dist, '.build-lock');
const SOURCE_DIRS = ['functions', 'shared', 'local', 'bench', 'client/src'];
const SOURCE_FILES = [
  'tsconfig.json',
  'tsconfig.console.json',
  'package.json',
  'package-lock.json',
  'client/tsconfig.json',
  'client/package.json',
];
// The managers' console (docs/console.md): browser TypeScript compiled by tsconfig.console.json, and the
// static files beside it (HTML, CSS) copied as they are.
const CONSOLE_WEB = join('shared', 'console', 'web');
const CONSOLE_STATIC = /\.(html|css|svg)$/;
const say = (line) => process.stderr.write(`[fieldsync] ${line}\n`);

/** The newest mtime (ms) of the sources, and the path that has it. */
function newestSource() {
  let newest = { ms: 0, path: '' };
  const see = (path, ms) => {
    if (ms > newest.ms) newest = { ms, path };
  };
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // a source folder that does not exist (yet)
    }
    see(dir, statSync(dir).mtimeMs);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else see(path, statSync(path).mtimeMs);
    }
  };
  for (const name of SOURCE_DIRS) walk(join(root, name));
  for (const name of SOURCE_FILES) {
    const path = join(root, name);
    if (existsSync(path)) see(path, statSync(path).mtimeMs);
  }
  return newest;
}

/** Why dist/ must be built again, or undefined when it is up to date. */
function staleness(entry) {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
  } catch {
    return 'no build yet';
  }
  if (entry && !existsSync(join(dist, entry))) return `dist/${entry} is missing`;
  const newest = newestSource();
  if (typeof stamp.startedMs !== 'number' || newest.ms >= stamp.startedMs) {
    return `${newest.path.slice(root.length + 1) || 'sources'} changed`;
  }
  return undefined;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
};

/** Takes the build lock, waiting while another live launcher holds it. */
async function lock() {
  mkdirSync(dist, { recursive: true });
  for (let waited = 0; ; waited += 1) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    let holder = Number.NaN;
    try {
      holder = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    } catch {
      // Just made by its holder, pid not written yet: wait a little.
    }
    if (Number.isInteger(holder) && holder > 0 && !alive(holder)) {
      rmSync(lockDir, { recursive: true, force: true });
      continue;
    }
    if (waited === 0) say('another build is running; waiting for it');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const unlock = () => rmSync(lockDir, { recursive: true, force: true });

/** Copies the console's HTML and CSS beside its compiled scripts (tsc copies only what it compiles). */
function copyConsoleStatic() {
  const from = join(root, CONSOLE_WEB);
  if (!existsSync(from)) return;
  rmSync(join(dist, CONSOLE_WEB, 'index.html'), { force: true });
  for (const name of readdirSync(from, { recursive: true, encoding: 'utf8' })) {
    if (!CONSOLE_STATIC.test(name)) continue;
    const target = join(dist, CONSOLE_WEB, name);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(from, name), target);
  }
}

/** Runs tsc (its output on stderr, so a CLI's stdout stays clean) and writes the stamp. Exits on failure. */
function build(reason) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    say('typescript is not installed (npm ci installs it); cannot build');
    return false;
  }
  say(`building (${reason}) …`);
  const startedMs = Date.now();
  // The client workspace first (client/dist): local tools such as field-sim import @fieldsync/client. The
  // client and the console are built when the tree has them (a tree without them still builds).
  const projects = ['client/tsconfig.json', 'tsconfig.json', 'tsconfig.console.json'].filter(
    (project) => project === 'tsconfig.json' || existsSync(join(root, project)),
  );
  for (const project of projects) {
    const result = spawnSync(process.execPath, [tsc, '-p', join(root, project)], {
      cwd: root,
      stdio: ['ignore', 2, 2],
    });
    if (result.status !== 0) {
      rmSync(stampFile, { force: true });
      say(`build failed (tsc -p ${project} exit ${result.status ?? result.signal})`);
      return false;
    }
  }
  copyConsoleStatic();
  writeFileSync(stampFile, `${JSON.stringify({ startedMs, builtAt: new Date().toISOString() })}\n`);
  say(`built in ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
  return true;
}

/** Builds when stale (or always with `force`); false when a needed build failed. */
async function ensureBuilt({ entry, force = false, prepare = false } = {}) {
  if (!force && !staleness(entry)) return true;
  await lock();
  try {
    // Another launcher may have built while this one waited.
    const reason = force ? 'asked to' : staleness(entry);
    if (!reason) return true;
    if (prepare && !existsSync(join(root, 'node_modules', 'typescript'))) {
      // An install without devDependencies (--omit=dev) cannot build; it is not an install failure.
      say('typescript is not installed (production install): skipping the build');
      return true;
    }
    return build(reason);
  } finally {
    unlock();
  }
}

const [first, ...rest] = process.argv.slice(2);
if (!first || first === '--help') {
  process.stderr.write('usage: node scripts/run.mjs <entry under dist/, e.g. local/start.js> [args…]\n');
  process.stderr.write('       node scripts/run.mjs --build | --build-if-stale\n');
  process.exit(first ? 0 : 2);
}
// A deployment package (.funcignore) ships dist/ prebuilt and no TypeScript sources; the Flex Consumption
// remote build still runs `npm install` (so `prepare`) and `npm run build`: nothing to build there.
const isDeploymentPackage =
  SOURCE_DIRS.every((name) => !existsSync(join(root, name))) && existsSync(join(dist, 'functions'));
if ((first === '--build' || first === '--build-if-stale') && isDeploymentPackage) {
  say('deployment package: dist/ is prebuilt and no sources are shipped; nothing to build');
  process.exit(0);
}
if (first === '--build' || first === '--build-if-stale') {
  const ok = await ensureBuilt({ force: first === '--build', prepare: first === '--build-if-stale' });
  process.exit(ok ? 0 : 1);
}
if (!(await ensureBuilt({ entry: first }))) process.exit(1);
const target = join(dist, first);
if (!existsSync(target)) {
  say(`no entry dist/${first} (is there a ${first.replace(/\.js$/, '.ts')}?)`);
  process.exit(2);
}
// The entry reads its arguments with parseArgs(), i.e. from process.argv after the script path.
process.argv = [process.argv[0] ?? process.execPath, target, ...rest];
await import(pathToFileURL(target).href);
