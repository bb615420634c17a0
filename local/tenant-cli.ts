// `npm run tenant -- create <id> [--name "Acme Energy"] [--pack clinic]… [--server NAME]` · `npm run tenant -- schema <id> <file>`
// · `npm run tenant -- migrate --all` · `npm run tenant -- list`
// · `npm run tenant -- grant|revoke <id> <scope> <user>` · `npm run tenant -- grants <id> [user]`
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { closeApp, getApp } from '../shared/app.js';
import { loadConfig } from '../shared/config.js';
import { strategiesSchema } from '../shared/contracts/conflicts.js';
import { scopeMemberParamsSchema } from '../shared/contracts/scopes.js';
import { grantScope, listGrants, revokeScope } from '../shared/usecases/scopes.js';
import { collectionDefinitionSchema } from '../shared/contracts/schema.js';
import { AppError, ConflictError, type FieldError, ValidationError } from '../shared/errors.js';
import { PACK_NAMES } from '../shared/packs/packs.js';
import type { Tenant } from '../shared/usecases/ports/tenancy.js';
import { putCollection } from '../shared/usecases/schema.js';
import { migrateAllTenants, provisionTenant } from '../shared/usecases/tenants.js';
import { migrateControlDatabase } from './bootstrap.js';
import { loadLocalSettings, localAppSettings } from './settings.js';
import { isListening, type RunningStack, runningLocalPostgresUrl, startLocalStack } from './stack.js';

const usage = `usage:
  npm run tenant -- create <tenant-id> [--name "Display name"] [--pack <pack>]… [--server <name>]
                                     create its database, migrate it, install its packs (${PACK_NAMES.join(', ')};
                                     default oil-gas), register it; a new tenant goes to --server, else to
                                     the server holding fewest tenants (POSTGRES_SERVERS), and stays there
  npm run tenant -- schema <tenant-id> <file.json>   put every collection of the file ({"collections": {name:
                                     {schema, scope?, conflict?}}}); prints refusals, exit 1 if any
  npm run tenant -- migrate --all                                migrate every registered tenant
  npm run tenant -- list                                         list registered tenants
  npm run tenant -- strategy <tenant-id> <EVENT_TYPE> <LWW|SERVER_WINS|CLIENT_WINS|MANUAL>   set a conflict strategy
  npm run tenant -- grant <tenant-id> <scope> <user-id>          let an OPERATOR read and write a scope's records
  npm run tenant -- revoke <tenant-id> <scope> <user-id>         take it back (their devices get deletions)
  npm run tenant -- grants <tenant-id> [user-id]                 list scope grants
Uses POSTGRES_URL (or POSTGRES_HOST/POSTGRES_USER with Entra ID) when set; otherwise the local stack's
Postgres, started for the command if \`npm start\` is not running.`;

/** Points the app at Postgres: the given server, the running local stack, or a local one started now. */
async function connectPostgres(): Promise<RunningStack | undefined> {
  if (process.env.POSTGRES_URL || process.env.POSTGRES_HOST) return undefined;
  const local = loadLocalSettings();
  const running = (await isListening(local.ports.postgres))
    ? runningLocalPostgresUrl(local.dataDir, local.ports.postgres)
    : undefined;
  if (running) {
    process.env.POSTGRES_URL = running;
    // The servers LOCAL_EXTRA_SERVERS gave the running `npm start` (same password, `postgres` database).
    if (local.extraServers.length && !process.env.POSTGRES_SERVERS) {
      const servers = local.extraServers.map(({ name, port }) => {
        const url = new URL(running);
        url.port = String(port);
        url.pathname = '/postgres';
        return { name, url: url.toString() };
      });
      process.env.POSTGRES_SERVERS = JSON.stringify(servers);
    }
    return undefined;
  }
  const stack = await startLocalStack({
    dataDir: local.dataDir,
    ports: local.ports,
    extraServers: local.extraServers,
    given: process.env,
    services: ['postgres'],
  });
  Object.assign(process.env, stack.settings);
  return stack;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      all: { type: 'boolean' },
      name: { type: 'string' },
      pack: { type: 'string', multiple: true },
      server: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, tenantId] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const stack = await connectPostgres();
  // Only Postgres is used here; the other settings get placeholders so the shared config schema parses.
  const local = loadLocalSettings();
  Object.assign(process.env, {
    CosmosConnection:
      process.env.CosmosConnection ?? 'AccountEndpoint=https://unused.invalid/;AccountKey=unused;',
    StorageConnection: process.env.StorageConnection ?? 'UseDevelopmentStorage=true',
    ...localAppSettings(local.dataDir, process.env),
  });
  try {
    const config = loadConfig(process.env);
    await migrateControlDatabase(config);
    const app = getApp();
    if (command === 'create') {
      if (!tenantId) throw new Error(`create needs a tenant id\n${usage}`);
      // Without --pack a tenant is an oil-gas one, as every tenant was before packs (v1).
      const packs = values.pack ?? ['oil-gas'];
      const result = await provisionTenant(app, tenantId, values.name, packs, {
        ...(values.server !== undefined ? { server: values.server } : {}),
      });
      process.stdout.write(
        `tenant ${result.tenant.id}: database ${result.tenant.databaseName} ${result.databaseCreated ? 'created' : 'already existed'} on server ${result.tenant.server}, ` +
          `${result.migrationsApplied.length} migration(s) applied, registered\n`,
      );
      for (const p of result.packs) process.stdout.write(`  pack ${p.pack}: ${p.collection} ${p.outcome}\n`);
    } else if (command === 'schema') {
      const [, id, file] = positionals;
      const tenant = id ? await app.tenants.find(id) : undefined;
      if (!tenant || !file) throw new Error(`schema needs a registered tenant and a file\n${usage}`);
      const refused = await putSchemaFile(app, tenant, file);
      if (refused > 0) process.exitCode = 1;
    } else if (command === 'migrate') {
      if (!values.all) throw new Error(`migrate needs --all\n${usage}`);
      const summary = await migrateAllTenants(app, (p) => {
        const what = p.error
          ? `FAILED: ${p.error}`
          : p.applied.length
            ? `applied ${p.applied.join(', ')}`
            : 'up to date';
        process.stdout.write(`[${p.index}/${p.total}] ${p.tenantId}: ${what}\n`);
      });
      process.stdout.write(`${summary.migrated} migrated, ${summary.failed} failed\n`);
      if (summary.failed) process.exitCode = 1;
    } else if (command === 'strategy') {
      const [, id, eventType, strategy] = positionals;
      const parsed = strategiesSchema.safeParse({ strategies: { [eventType ?? '']: strategy } });
      const tenant = id ? await app.tenants.find(id) : undefined;
      if (!tenant || !parsed.success)
        throw new Error(`strategy needs a registered tenant, an event type and a strategy\n${usage}`);
      await app.conflicts.setStrategies(tenant, parsed.data.strategies, 'cli');
      process.stdout.write(`${tenant.id}: ${JSON.stringify(await app.conflicts.strategies(tenant))}\n`);
    } else if (command === 'grant' || command === 'revoke') {
      const [, id, scope, userId] = positionals;
      const parsed = scopeMemberParamsSchema.safeParse({ scope, userId });
      const tenant = id ? await app.tenants.find(id) : undefined;
      if (!id || scope === undefined || userId === undefined)
        throw new Error(`${command} needs a tenant, a scope and a user id\n${usage}`);
      if (!tenant) throw new Error(`no registered tenant ${id} (npm run tenant -- list)`);
      if (!parsed.success)
        throw new Error(
          parsed.error.issues.map((i) => `${String(i.path[0] ?? command)}: ${i.message}`).join('\n'),
        );
      if (command === 'grant') {
        const { created } = await grantScope(app, tenant, parsed.data.scope, parsed.data.userId, 'cli');
        process.stdout.write(
          `${tenant.id}: ${parsed.data.userId} ${created ? 'granted' : 'already had'} scope ${parsed.data.scope}\n`,
        );
      } else {
        await revokeScope(app, tenant, parsed.data.scope, parsed.data.userId);
        process.stdout.write(
          `${tenant.id}: ${parsed.data.userId} no longer has scope ${parsed.data.scope}\n`,
        );
      }
    } else if (command === 'grants') {
      const [, id, userId] = positionals;
      const tenant = id ? await app.tenants.find(id) : undefined;
      if (!tenant) throw new Error(`grants needs a registered tenant\n${usage}`);
      const { grants } = await listGrants(app, tenant, userId);
      // Say so when there are none: an empty output reads like a failure.
      if (grants.length === 0)
        process.stdout.write(`${tenant.id}: no scope grants${userId ? ` for ${userId}` : ''}\n`);
      for (const g of grants) {
        process.stdout.write(`${g.scope}\t${g.userId}\t${g.grantedBy ?? ''}\t${g.grantedAt}\n`);
      }
    } else if (command === 'list') {
      for (const t of await app.tenants.list()) {
        process.stdout.write(
          `${t.id}\t${t.status}\t${t.server}\t${t.databaseName}\t${t.displayName ?? ''}\n`,
        );
      }
    } else {
      throw new Error(`unknown command ${command}\n${usage}`);
    }
  } finally {
    await closeApp();
    await stack?.stop();
  }
}

/** The collections of a schema file: `{"collections": {name: definition}}` (a pack's shape) or `{name: definition}`. */
function collectionsOf(file: string): [string, unknown][] {
  const json = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new Error(`${file}: must be a JSON object of collections`);
  const inner = (json as { collections?: unknown }).collections;
  const map = typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? inner : json;
  return Object.entries(map as Record<string, unknown>);
}

const describe = (errors: readonly FieldError[]) =>
  errors.map((e) => `    ${e.path}: ${e.message}`).join('\n');

/**
 * Puts every collection of the file as `PUT /v1/schema/collections/{name}` would (same use case, same
 * compatibility rules), one by one; prints each outcome and each refusal with its reasons. Returns how many
 * were refused.
 */
async function putSchemaFile(app: ReturnType<typeof getApp>, tenant: Tenant, file: string): Promise<number> {
  let refused = 0;
  for (const [name, raw] of collectionsOf(file)) {
    const parsed = collectionDefinitionSchema.safeParse(raw);
    try {
      if (!parsed.success) {
        throw new ValidationError(
          'the collection definition is invalid',
          parsed.error.issues.map((i) => ({ path: i.path.join('.') || '$', message: i.message })),
        );
      }
      const outcome = await putCollection(app, tenant, name, parsed.data, 'cli');
      const what = outcome.created ? 'created' : outcome.changed ? 'updated' : 'unchanged';
      process.stdout.write(
        `${name}: ${what}, version ${outcome.collection.version} (schema version ${outcome.schemaVersion})\n`,
      );
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      refused += 1;
      const errors = error instanceof ValidationError || error instanceof ConflictError ? error.errors : [];
      process.stdout.write(
        `${name}: REFUSED (${error.code ?? error.kind}) ${error.message}\n${describe(errors)}\n`,
      );
    }
  }
  return refused;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  // A refused pack install or bad pack name: say every reason.
  if (error instanceof ValidationError || error instanceof ConflictError)
    if (error.errors.length > 0) process.stderr.write(`${describe(error.errors)}\n`);
  process.exit(1);
});
