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

/** `output x <type> = ...`: the output names of a file. */
function outputs(root: SyntaxNode): Set<string> {
  return new Set(
    root.namedChildren
      .filter((node) => node.type === 'output_declaration')
      .map((node) => node.namedChildren.find((c) => c.type === 'identifier')?.text ?? ''),
  );
}

/**
 * `module <symbol> '<path>' = { params: { k: v, … } }` (or `= [for …: { params: … }]`, a module loop): each
 * local module with the keys it passes.
 */
function moduleUses(root: SyntaxNode): { symbol: string; path: string; passed: string[] }[] {
  return root.namedChildren
    .filter((node) => node.type === 'module_declaration')
    .flatMap((node) => {
      const symbol = node.namedChildren.find((c) => c.type === 'identifier')?.text ?? '';
      const path = stringLiteral(node.namedChildren.find((c) => c.type === 'string')) ?? '';
      if (/^(br|ts)[:/]/.test(path)) return [];
      // A loop's body is the first object inside it (range() has none).
      const body = node.namedChildren.find((c) => c.type === 'object') ?? node.descendantsOfType('object')[0];
      const paramsProperty = body?.namedChildren.find(
        (c) => c.type === 'object_property' && c.namedChildren[0]?.text === 'params',
      );
      const paramsObject = paramsProperty?.namedChildren.find((c) => c.type === 'object');
      const passed = (paramsObject?.namedChildren ?? [])
        .filter((c) => c.type === 'object_property')
        .map((c) => c.namedChildren[0]?.text ?? '');
      return [{ symbol, path, passed }];
    });
}

/**
 * Azure built-in role definition ids by role name (learn.microsoft.com/azure/role-based-access-control/
 * built-in-roles), keyed the way roles.bicep names them (camelCase of the role name).
 */
const BUILT_IN_ROLES: Record<string, { name: string; id: string }> = {
  storageBlobDataOwner: { name: 'Storage Blob Data Owner', id: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' },
  storageBlobDataContributor: {
    name: 'Storage Blob Data Contributor',
    id: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  },
  storageBlobDelegator: { name: 'Storage Blob Delegator', id: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a' },
  storageQueueDataContributor: {
    name: 'Storage Queue Data Contributor',
    id: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  },
  serviceBusDataOwner: { name: 'Azure Service Bus Data Owner', id: '090c5cfd-751d-490a-894a-3ce6f1109419' },
  serviceBusDataSender: { name: 'Azure Service Bus Data Sender', id: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' },
  serviceBusDataReceiver: {
    name: 'Azure Service Bus Data Receiver',
    id: '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  },
  keyVaultSecretsUser: { name: 'Key Vault Secrets User', id: '4633458b-17de-408a-b874-0445c86b69e6' },
  monitoringMetricsPublisher: {
    name: 'Monitoring Metrics Publisher',
    id: '3913510d-42f4-4e42-8a64-420c390055eb',
  },
};
/** Cosmos DB's data-plane built-in role (sqlRoleDefinitions, not Azure RBAC). */
const COSMOS_DATA_CONTRIBUTOR = '00000000-0000-0000-0000-000000000002';

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

  it('every module param passed is declared in the module, and every param without a default is passed', () => {
    const problems: string[] = [];
    for (const path of files) {
      for (const use of moduleUses(parse(path))) {
        const declared = params(parse(resolve(dirname(path), use.path)));
        for (const key of use.passed)
          if (!declared.has(key)) problems.push(`${use.symbol}: ${use.path} declares no param ${key}`);
        for (const [name, p] of declared)
          if (!p.hasDefault && !use.passed.includes(name))
            problems.push(`${use.symbol}: required param ${name} of ${use.path} not passed`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('every <module>.outputs.<name> referenced is an output of that module', () => {
    const problems: string[] = [];
    let seen = 0;
    for (const path of files) {
      const root = parse(path);
      const bySymbol = new Map(moduleUses(root).map((u) => [u.symbol, resolve(dirname(path), u.path)]));
      for (const node of root.descendantsOfType('member_expression')) {
        // `postgres.outputs.x`, or `postgresExtra[i].outputs.x` of a module loop.
        const match = /^(\w+)(?:\[\w+\])?\.outputs\.(\w+)$/.exec(node.text);
        if (!match?.[1] || !match[2]) continue;
        const target = bySymbol.get(match[1]);
        if (!target) continue; // a resource's outputs, not a module's
        seen += 1;
        if (!outputs(parse(target)).has(match[2]))
          problems.push(`${relative(repoRoot, path)}: ${match[1]}.outputs.${match[2]} is not an output`);
      }
    }
    expect(seen).toBeGreaterThan(20);
    expect(problems).toEqual([]);
  });

  it('role definition ids are the built-in roles their names say', () => {
    const roles = readFileSync(join(infraDir, 'modules', 'roles.bicep'), 'utf8');
    const block = /var roleIds = \{([^}]*)\}/.exec(roles)?.[1] ?? '';
    const entries = [...block.matchAll(/^\s*(\w+): '([0-9a-f-]{36})'$/gm)].map((m) => [m[1], m[2]]);
    expect(entries.length).toBeGreaterThan(5);
    for (const [key, id] of entries) {
      expect(BUILT_IN_ROLES[key ?? ''], `unknown role ${key}`).toBeDefined();
      expect(id, `${key} (${BUILT_IN_ROLES[key ?? '']?.name})`).toBe(BUILT_IN_ROLES[key ?? '']?.id);
    }
    // No role id written anywhere else (every assignment goes through roleIds), except Cosmos DB's data role.
    const known = new Set([...Object.values(BUILT_IN_ROLES).map((r) => r.id), COSMOS_DATA_CONTRIBUTOR]);
    for (const path of files) {
      for (const [guid] of readFileSync(path, 'utf8').matchAll(
        /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g,
      ))
        expect(known.has(guid), `${relative(repoRoot, path)}: ${guid}`).toBe(true);
    }
    expect(readFileSync(join(infraDir, 'modules', 'cosmos.bicep'), 'utf8')).toMatch(
      new RegExp(`dataContributorRoleDefinitionId = '${COSMOS_DATA_CONTRIBUTOR}'`),
    );
  });

  it('the app can set blob index tags on photos (Storage Blob Data Contributor cannot: no tags/write)', () => {
    const roles = readFileSync(join(infraDir, 'modules', 'roles.bicep'), 'utf8');
    const photoAssignments = [...roles.matchAll(/resource \w+ '[^']+' = \{[\s\S]*?\n\}/g)]
      .map((m) => m[0])
      .filter((r) => /scope: storage::blobService::photos\b/.test(r) && /appPrincipalId/.test(r));
    expect(photoAssignments.length).toBe(1);
    const granted =
      /roleDefinitionId: subscriptionResourceId\(\s*'Microsoft\.Authorization\/roleDefinitions',\s*roleIds\.(\w+)\s*\)/.exec(
        photoAssignments[0] ?? '',
      )?.[1];
    expect(granted).toBe('storageBlobDataOwner');
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
