// `npm start`: the whole backend on this machine, with no cloud account. Starts the embedded services the
// environment does not point elsewhere, provisions the demo tenants, then serves every function.
import { join } from 'node:path';
import { closeApp, getApp } from '../shared/app.js';
import { signDevToken } from '../shared/auth/dev-token.js';
import { loadConfig } from '../shared/config.js';
import { projectRoot } from '../shared/project-root.js';
import { sweepOutboxes } from '../shared/usecases/outbox.js';
import { pruneChangeLogs } from '../shared/usecases/prune.js';
import { migrateAllTenants, provisionTenant } from '../shared/usecases/tenants.js';
import { migrateControlDatabase } from './bootstrap.js';
import { DEMO_TENANTS, demoHelp, grantDemoScopes, pushDemoRecords, seedDemoTenant } from './demo-data.js';
import { startFunctionsHost } from './host.js';
import { loadLocalSettings, localAppSettings } from './settings.js';
import { startLocalStack } from './stack.js';

const say = (message: string) => process.stdout.write(`[fieldsync] ${message}\n`);

async function main(): Promise<void> {
  const startedAt = Date.now();
  const local = loadLocalSettings();
  say(`local data in ${local.dataDir} (delete it to start afresh)`);
  const stack = await startLocalStack({
    dataDir: local.dataDir,
    ports: local.ports,
    extraServers: local.extraServers,
    given: process.env,
    log: say,
  });
  let stopping = false;
  const stopAll = async (host?: { stop(): Promise<void> }) => {
    if (stopping) return;
    stopping = true;
    say('stopping…');
    await host?.stop().catch(() => {});
    await closeApp().catch(() => {});
    await stack.stop();
    say('stopped');
  };

  try {
    Object.assign(process.env, localAppSettings(local.dataDir, process.env), stack.settings);
    const config = loadConfig(process.env);
    if (stack.started.length) say(`embedded services: ${stack.started.join(', ')}`);
    await migrateControlDatabase(config);
    const app = getApp();
    for (const demo of DEMO_TENANTS) {
      const result = await provisionTenant(app, demo.id, demo.name, demo.packs);
      if (result.databaseCreated) {
        await seedDemoTenant(app.referenceData, result.tenant, demo);
        await grantDemoScopes(app, result.tenant, demo);
        // Pack records as a manager's device pushes them: accepted now, applied once the host serves.
        await pushDemoRecords(app, result.tenant, demo);
      }
    }
    // Locally every tenant follows the code's schema; in Azure ops run `npm run tenant -- migrate --all`.
    await migrateAllTenants(app, (p) => {
      if (p.error) say(`tenant ${p.tenantId}: migration failed: ${p.error}`);
      else if (p.applied.length) say(`tenant ${p.tenantId}: applied ${p.applied.join(', ')}`);
    });
    // The local host runs no timers: prune the change logs once at start instead of daily, and sweep the
    // outbox (what a crash of the last run left) now and then every minute, as the sweepOutbox timer does.
    await pruneChangeLogs(app);
    await sweepOutboxes(app);
    setInterval(() => void sweepOutboxes(app).catch(() => {}), 60_000).unref();
    const host = await startFunctionsHost({
      port: local.port,
      functionsEntry: join(projectRoot(), 'dist', 'functions', 'index.js'),
      settings: process.env,
      corsAllowedOrigins: config.cors.allowedOrigins,
      ...(app.localQueue ? { queue: app.localQueue } : {}),
      timersRunByCaller: { sweepOutbox: 'every minute', pruneChangeLog: 'once at start' },
    });
    const onSignal = () => void stopAll(host).then(() => process.exit(0));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);

    const sample =
      config.auth.mode === 'dev'
        ? await signDevToken({
            secret: config.auth.secret,
            issuer: config.auth.issuer,
            audience: config.auth.audience,
            tenantId: 'acme',
            userId: 'u-operator-1',
            roles: ['OPERATOR'],
          })
        : undefined;
    // The managers' console, signed in as acme's demo manager: the token rides in the URL fragment, which the
    // browser never sends to a server (docs/console.md). Only with the development issuer configured.
    const consoleToken =
      config.auth.mode === 'dev'
        ? await signDevToken({
            secret: config.auth.secret,
            issuer: config.auth.issuer,
            audience: config.auth.audience,
            tenantId: 'acme',
            userId: 'u-manager-1',
            roles: ['MANAGER'],
          })
        : undefined;
    say(
      `serving ${host.functions.length} functions at ${host.url} (ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s)`,
    );
    if (consoleToken) {
      say(
        `managers' console (tenant acme, Maria Manager; docs/console.md): ${host.url}/console/#token=${consoleToken}`,
      );
    } else {
      say(`managers' console (sign in with Microsoft Entra ID): ${host.url}/console/`);
    }
    say(`try: curl ${host.url}/health`);
    say(`demo tenants: ${DEMO_TENANTS.map((d) => `${d.id} (${d.packs.join(', ')})`).join(', ')}`);
    for (const line of demoHelp()) say(`  ${line}`);
    say(`browser origins allowed (CORS_ALLOWED_ORIGINS): ${config.cors.allowedOrigins.join(', ') || 'none'}`);
    if (sample) {
      say(
        'sample token (tenant acme, user u-operator-1, role OPERATOR; `npm run -s token -- --help` for others):',
      );
      process.stdout.write(`${sample}\n`);
    }
    say('Ctrl-C stops everything');
  } catch (error) {
    await stopAll();
    throw error;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `[fieldsync] could not start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
