import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Parser from 'tree-sitter';
import Bicep from 'tree-sitter-bicep';
import { describe, expect, it } from 'vitest';

/**
 * infra/ is Bicep, and no Bicep compiler can be installed here: tree-sitter-bicep checks the syntax of every
 * file (not types), and plain checks keep module references and azd parameters consistent.
 */

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const infraDir = join(repoRoot, 'infra');

const parser = new Parser();
parser.setLanguage(Bicep as unknown as Parser.Language);

type SyntaxNode = Parser.SyntaxNode;

function bicepFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return bicepFiles(path);
    return entry.name.endsWith('.bicep') ? [path] : [];
  });
}

/** Where the syntax errors are, for the failure message. */
function syntaxErrors(root: SyntaxNode): string[] {
  const out: string[] = [];
  const walk = (node: SyntaxNode) => {
    if (node.type === 'ERROR' || node.isMissing) {
      const { row, column } = node.startPosition;
      out.push(`${node.isMissing ? `missing ${node.type}` : 'unexpected'} at ${row + 1}:${column + 1}`);
    }
    for (const child of node.children) walk(child);
  };
  walk(root);
  return out;
}

const parse = (path: string): SyntaxNode => parser.parse(readFileSync(path, 'utf8')).rootNode;

function stringLiteral(node: SyntaxNode | undefined): string | undefined {
  if (node?.type !== 'string') return undefined;
  const parts = node.namedChildren;
  return parts.every((p) => p.type === 'string_content') ? parts.map((p) => p.text).join('') : undefined;
}

/** `module x '<path>' = ...`: the paths of the local (not registry) modules a file uses. */
function modulePaths(root: SyntaxNode): string[] {
  return root.namedChildren
    .filter((node) => node.type === 'module_declaration')
    .map((node) => stringLiteral(node.namedChildren.find((c) => c.type === 'string')) ?? '')
    .filter((path) => !/^(br|ts)[:/]/.test(path));
}

/** `param x <type> [= default]`: each param of a file, and whether it has a default. */
function params(root: SyntaxNode): Map<string, { hasDefault: boolean }> {
  const out = new Map<string, { hasDefault: boolean }>();
  for (const node of root.namedChildren) {
    if (node.type !== 'parameter_declaration') continue;
    const name = node.namedChildren.find((c) => c.type === 'identifier');
    if (name) out.set(name.text, { hasDefault: node.children.some((c) => c.type === '=') });
  }
  return out;
}

const files = bicepFiles(infraDir);
const mainPath = join(infraDir, 'main.bicep');

describe('infra: Bicep syntax (tree-sitter-bicep)', () => {
  it('finds main.bicep and its modules', () => {
    expect(files).toContain(mainPath);
    expect(files.length).toBeGreaterThan(5);
  });

  for (const path of files) {
    const name = relative(repoRoot, path);
    it(`${name} parses without syntax errors`, () => {
      const root = parse(path);
      expect(root.hasError, `${name}: ${syntaxErrors(root).slice(0, 5).join('; ')}`).toBe(false);
    });
  }

  it('reports errors for a truncated main.bicep (the check above can fail)', () => {
    const source = readFileSync(mainPath, 'utf8');
    const firstModule = source.indexOf('module ');
    const truncated = source.slice(0, source.indexOf('{', firstModule) + 1);
    expect(truncated.endsWith('= {')).toBe(true);
    expect(parser.parse(truncated).rootNode.hasError).toBe(true);
    expect(syntaxErrors(parser.parse(truncated).rootNode)).not.toEqual([]);
  });
});

describe('infra: references between files', () => {
  it('every local module path points at an existing file', () => {
    for (const path of files) {
      for (const modulePath of modulePaths(parse(path))) {
        const target = resolve(dirname(path), modulePath);
        expect(existsSync(target), `${relative(repoRoot, path)} uses missing module ${modulePath}`).toBe(
          true,
        );
      }
    }
  });

  it('main.bicep uses every file in infra/modules', () => {
    const used = new Set(modulePaths(parse(mainPath)).map((p) => resolve(infraDir, p)));
    const unused = files.filter((f) => dirname(f) === join(infraDir, 'modules') && !used.has(f));
    expect(unused.map((f) => relative(repoRoot, f))).toEqual([]);
  });

  it('main.parameters.json sets only params of main.bicep, and every param without a default', () => {
    const file = JSON.parse(readFileSync(join(infraDir, 'main.parameters.json'), 'utf8')) as {
      parameters: Record<string, { value: unknown }>;
    };
    const declared = params(parse(mainPath));
    const given = Object.keys(file.parameters);
    expect(given.filter((name) => !declared.has(name))).toEqual([]);
    const required = [...declared].filter(([, p]) => !p.hasDefault).map(([name]) => name);
    expect(required.filter((name) => !given.includes(name))).toEqual([]);
    expect(file.parameters.environmentName?.value).toMatch(/^\$\{AZURE_ENV_NAME\}$/);
    expect(file.parameters.location?.value).toMatch(/^\$\{AZURE_LOCATION\}$/);
  });

  it('no Bicep file reads keys or connection strings', () => {
    for (const path of files) {
      const source = readFileSync(path, 'utf8');
      expect(source, relative(repoRoot, path)).not.toMatch(/\blist(Keys|ConnectionStrings|AccountSas)\(/);
      expect(source, relative(repoRoot, path)).not.toMatch(/AccountKey=|SharedAccessKey=/);
    }
  });

  it('azure.yaml deploys the Function App tagged azd-service-name api from infra/', () => {
    const yaml = readFileSync(join(repoRoot, 'azure.yaml'), 'utf8');
    expect(yaml).toMatch(/^name: fieldsync$/m);
    expect(yaml).toMatch(/^ {2}provider: bicep$/m);
    expect(yaml).toMatch(/^ {2}path: infra$/m);
    expect(yaml).toMatch(/^ {2}api:\n {4}project: \.\n {4}language: ts\n {4}host: function$/m);
    expect(readFileSync(join(infraDir, 'modules', 'functionapp.bicep'), 'utf8')).toMatch(
      /'azd-service-name': 'api'/,
    );
  });
});
