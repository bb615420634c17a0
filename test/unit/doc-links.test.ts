import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../shared/project-root.js';

/**
 * Every relative link in README.md and docs/*.md resolves: the file exists and, when the link names an
 * anchor, the target file has a heading with that anchor (GitHub's rule). Every repository path a doc
 * quotes in backticks (`shared/http/endpoint.ts`, `modules/alerts.bicep`) exists too, so a renamed or
 * deleted file cannot leave the docs pointing at nothing.
 */

const root = projectRoot();
const docs = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];

/** The text outside fenced code blocks (links and paths inside examples are not references). */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, '');

/**
 * GitHub's heading anchor: lower case, markup and punctuation dropped (letters, digits, spaces, `-`
 * and `_` kept), spaces to hyphens; a repeated heading gets `-1`, `-2`…
 */
function anchorsOf(text: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = (heading ?? '')
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
    seen.set(slug, n + 1);
  }
  return anchors;
}

interface Link {
  doc: string;
  target: string;
}

const links: Link[] = docs.flatMap((doc) =>
  [...prose(readFileSync(join(root, doc), 'utf8')).matchAll(/\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((m) => ({ doc, target: m[1] ?? '' }))
    .filter((l) => !/^[a-z][a-z0-9+.-]*:/i.test(l.target)),
);

/** Where a link leads: the file (relative to the doc) and the anchor, if any. */
function resolveLink({ doc, target }: Link): { file: string; anchor: string | undefined } {
  const [path = '', anchor] = target.split('#');
  return { file: path === '' ? join(root, doc) : resolve(root, dirname(doc), decodeURI(path)), anchor };
}

/** Backticked tokens that look like repository files (a folder and a known extension). */
const quotedPaths = (doc: string): string[] =>
  [
    ...prose(readFileSync(join(root, doc), 'utf8')).matchAll(
      /`([\w.-]+(?:\/[\w.-]+)+\.(?:ts|mjs|cjs|js|json|md|bicep|sql))`/g,
    ),
  ]
    .map((m) => m[1] ?? '')
    // ../shared/SPEC.md is the contract beside the repository, not in it.
    .filter((p) => !p.startsWith('../'));

/** A quoted path names a file of the repository, of the doc's folder, or of infra/ (Bicep modules). */
const pathExists = (doc: string, path: string) =>
  [root, join(root, dirname(doc)), join(root, 'infra')].some((base) => existsSync(join(base, path)));

describe('links between the docs', () => {
  it('finds the links (the checks below have something to check)', () => {
    expect(docs).toContain(join('docs', 'architecture.md'));
    expect(links.length).toBeGreaterThan(10);
    expect(links.some((l) => l.target.includes('#'))).toBe(true);
  });

  it('every relative link names a file that exists', () => {
    const broken = links.filter((l) => !existsSync(resolveLink(l).file)).map((l) => `${l.doc}: ${l.target}`);
    expect(broken).toEqual([]);
  });

  it('every anchor names a heading of its target', () => {
    const broken = links
      .filter((l) => {
        const { file, anchor } = resolveLink(l);
        return anchor !== undefined && file.endsWith('.md') && existsSync(file)
          ? !anchorsOf(readFileSync(file, 'utf8')).has(anchor)
          : false;
      })
      .map((l) => `${l.doc}: ${l.target}`);
    expect(broken).toEqual([]);
  });

  it('computes anchors as GitHub does (so the check above can fail)', () => {
    const anchors = anchorsOf(
      "## Alerts: what they mean and what to do\n## One-time: the app identity's role\n## `npm start`\n## Tests\n## Tests\n",
    );
    expect([...anchors]).toEqual([
      'alerts-what-they-mean-and-what-to-do',
      'one-time-the-app-identitys-role',
      'npm-start',
      'tests',
      'tests-1',
    ]);
  });
});

describe('repository paths quoted in the docs', () => {
  it('exist', () => {
    const quoted = docs.flatMap((doc) => quotedPaths(doc).map((path) => ({ doc, path })));
    expect(quoted.length).toBeGreaterThan(20);
    const missing = quoted
      .filter(({ doc, path }) => !pathExists(doc, path))
      .map(({ doc, path }) => `${relative(root, join(root, doc))}: ${path}`);
    expect(missing).toEqual([]);
  });
});
