// `npm run tenant -- create <id> [--name "Acme Energy"]` · `npm run tenant -- migrate --all` · `npm run tenant -- list`
// · `npm run tenant -- grant|revoke <id> <scope> <user>` · `npm run tenant -- grants <id> [user]`
import { parseArgs } from 'node:util';
import { closeApp, getApp } from '../shared/app.js';
import { loadConfig } from '../shared/config.js';
import { strategiesSchema } from '../shared/contracts/conflicts.js';
import { scopeMemberParamsSchema } from '../shared/contracts/scopes.js';
import { grantScope, listGrants, revokeScope } from '../shared/usecases/scopes.js';
import { migrateAllTenants, provisionTenant } from '../shared/usecases/tenants.js';
import { migrateControlDatabase } from './bootstrap.js';
import { loadLocalSettings, localAppSettings } from './settings.js';
import { isListening, type RunningStack, runningLocalPostgresUrl, startLocalStack } from './stack.js';

const usage = `usage:
  npm run tenant -- create <tenant-id> [--name "Display name"]   create its database, migrate it, register it
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
    return undefined;
  }
  const stack = await startLocalStack({
    dataDir: local.dataDir,
    ports: local.ports,
    given: process.env,
    services: ['postgres'],
  });
  Object.assign(process.env, stack.settings);
  return stack;
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { all: { type: 'boolean' }, name: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
      const result = await provisionTenant(app, tenantId, values.name);
      process.stdout.write(
        `tenant ${result.tenant.id}: database ${result.tenant.databaseName} ${result.databaseCreated ? 'created' : 'already existed'}, ` +
          `${result.migrationsApplied.length} migration(s) applied, registered\n`,
      );
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
      if (!tenant || !parsed.success)
        throw new Error(`${command} needs a registered tenant, a scope and a user id\n${usage}`);
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
      for (const g of (await listGrants(app, tenant, userId)).grants) {
        process.stdout.write(`${g.scope}\t${g.userId}\t${g.grantedBy ?? ''}\t${g.grantedAt}\n`);
      }
    } else if (command === 'list') {
      for (const t of await app.tenants.list()) {
        process.stdout.write(`${t.id}\t${t.status}\t${t.databaseName}\t${t.displayName ?? ''}\n`);
      }
    } else {
      throw new Error(`unknown command ${command}\n${usage}`);
    }
  } finally {
    await closeApp();
    await stack?.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
