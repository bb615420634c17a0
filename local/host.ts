/**
 * A small local Azure Functions host (Core Tools cannot be installed here). It answers
 * `require('@azure/functions-core')` so the real `app.http(...)` / `app.serviceBusQueue(...)` registrations
 * land here, serves HTTP triggers with Functions route templates, and feeds Service Bus triggers from a
 * QueueSubscriber. Registrations stay the same for Azure and for the laptop.
 */
import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  addCoreLogSink,
  type CoreHookCallback,
  coreApiWasRequested,
  currentHooks,
  type FunctionRegistration,
  installFunctionsCoreShim,
  loadFunctionsEntry,
  toEntryUrl,
} from './host/core-shim.js';
import { createHttpDispatcher, type HttpFunction } from './host/http.js';
import { emitFunctionLog, errorMessage, type InvocationScope } from './host/invoke.js';
import { parseRouteTemplate } from './host/routes.js';
import { createServiceBusInvoker, type ServiceBusFunction } from './host/service-bus.js';
import type { FunctionsHost, HostLog, HostOptions, RegisteredFunction } from './host/types.js';

export { installFunctionsCoreShim } from './host/core-shim.js';
export type {
  FunctionsHost,
  HostOptions,
  QueueDelivery,
  QueueSubscriber,
  RegisteredFunction,
} from './host/types.js';

/** How long stop() waits for running invocations before it cuts the remaining connections. */
const DRAIN_TIMEOUT_MS = 10_000;

const defaultLog: HostLog = (entry) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
};

/** Replaces every `%NAME%` with the app setting NAME, as the Functions host does in binding properties. */
export function resolveSettingExpressions(
  value: string,
  settings: Record<string, string | undefined>,
  where: string,
): string {
  return value.replace(/%([^%]+)%/g, (_match, name: string) => {
    const resolved = settings[name];
    if (resolved === undefined || resolved === '') {
      throw new Error(`${where} refers to app setting "${name}" ('%${name}%'), which is not set`);
    }
    return resolved;
  });
}

function functionAppDirectory(entryUrl: string): string {
  let dir = dirname(fileURLToPath(entryUrl));
  for (;;) {
    if (existsSync(join(dir, 'host.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

interface FunctionTable {
  listed: RegisteredFunction[];
  http: HttpFunction[];
  serviceBus: ServiceBusFunction[];
}

function buildFunctionTable(
  registrations: FunctionRegistration[],
  settings: Record<string, string | undefined>,
  log: HostLog,
  timersRunByCaller: Readonly<Record<string, string>> = {},
): FunctionTable {
  const table: FunctionTable = { listed: [], http: [], serviceBus: [] };
  for (const { metadata, callback } of registrations) {
    const { name } = metadata;
    const trigger = Object.values(metadata.bindings).find(
      (b) => typeof b.type === 'string' && /trigger$/i.test(b.type),
    );
    if (!trigger?.type) throw new Error(`function "${name}" has no trigger binding`);
    const extra = Object.entries(metadata.bindings).filter(
      ([key, b]) => b !== trigger && !(key === '$return' && b.type?.toLowerCase() === 'http'),
    );
    const unsupported = extra.filter(([, b]) => b.type?.toLowerCase() !== 'http');
    if (unsupported.length > 0) {
      log({
        level: 'warn',
        msg: 'bindings not supported by the local host are ignored',
        function: name,
        bindings: unsupported.map(([key, b]) => `${key}:${b.type}`),
      });
    }
    const type = trigger.type.toLowerCase();
    if (type === 'httptrigger') {
      const rawRoute = typeof trigger.route === 'string' ? trigger.route : name;
      const route = resolveSettingExpressions(rawRoute, settings, `function "${name}" route`);
      let template: HttpFunction['template'];
      try {
        template = parseRouteTemplate(route);
      } catch (error) {
        throw new Error(`function "${name}": ${errorMessage(error)}`);
      }
      const rawMethods = Array.isArray(trigger.methods) ? (trigger.methods as unknown[]) : ['GET', 'POST'];
      const methods = rawMethods.map((m) => String(m).toUpperCase());
      table.http.push({ name, template, methods: new Set(methods), metadata, callback });
      table.listed.push({ name, trigger: 'http', route: route.replace(/^\/+/, ''), methods });
    } else if (type === 'servicebustrigger') {
      if (typeof trigger.queueName !== 'string') {
        log({
          level: 'warn',
          msg: 'Service Bus topic triggers are not run by the local host',
          function: name,
        });
        table.listed.push({ name, trigger: 'serviceBus' });
        continue;
      }
      const queueName = resolveSettingExpressions(
        trigger.queueName,
        settings,
        `function "${name}" queueName`,
      );
      const many = String(trigger.cardinality ?? 'one').toLowerCase() === 'many';
      table.serviceBus.push({ name, queueName, many, metadata, callback });
      table.listed.push({ name, trigger: 'serviceBus', queueName });
    } else if (type === 'timertrigger' && Object.hasOwn(timersRunByCaller, name)) {
      // The runner that started this host runs the same work itself (local/start.ts): not a gap to warn of.
      log({
        level: 'info',
        msg: 'timer run by the local runner',
        function: name,
        runs: timersRunByCaller[name],
      });
      table.listed.push({ name, trigger: 'timer' });
    } else {
      log({
        level: 'warn',
        msg: 'trigger not supported by the local host',
        function: name,
        trigger: trigger.type,
      });
      table.listed.push({ name, trigger: trigger.type.replace(/Trigger$/i, '') });
    }
  }
  return table;
}

function formatUrl(hostname: string, port: number, routePrefix: string): string {
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return `http://${host}:${port}${routePrefix ? `/${routePrefix}` : ''}`;
}

async function runAppHooks(hooks: CoreHookCallback[], context: Record<string, unknown>): Promise<void> {
  for (const hook of hooks) await hook(context);
}

export async function startFunctionsHost(options: HostOptions): Promise<FunctionsHost> {
  const log = options.log ?? defaultLog;
  const hostname = options.hostname ?? '127.0.0.1';
  const routePrefix = (options.routePrefix ?? 'api').replace(/^\/+|\/+$/g, '');
  installFunctionsCoreShim();
  const entryUrl = toEntryUrl(options.functionsEntry);
  const scope: InvocationScope = {
    hooks: (hookName) => currentHooks(entryUrl, hookName),
    appHookData: {},
    log,
  };
  const removeLogSink = addCoreLogSink((level, category, message) =>
    emitFunctionLog(scope, level, category, message),
  );
  const appLevelHookData: Record<string, unknown> = {};
  const appHookContext = () => ({ hookData: appLevelHookData, appHookData: scope.appHookData });
  let appStarted = false;
  const subscriptions: { stop(): Promise<void> }[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => undefined);
    return work;
  };
  let closing = false;
  const server = createServer();
  // Idle keep-alive sockets outlive the clients' own idle timers (undici closes at the server's hint minus a
  // margin), so a client never writes a request into a socket the server is closing at that moment (EPIPE /
  // "other side closed" under load). Azure's front end keeps idle connections for minutes too.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  let port = 0;

  const closeServer = async (): Promise<void> => {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
      timer.unref();
    });
    await Promise.race([Promise.allSettled([...inFlight]), timeout]);
    clearTimeout(timer);
    server.closeAllConnections();
    await closed;
  };

  const shutdown = async (): Promise<void> => {
    closing = true;
    const errors: unknown[] = [];
    const stops = await Promise.allSettled(subscriptions.splice(0).map((s) => s.stop()));
    for (const outcome of stops) if (outcome.status === 'rejected') errors.push(outcome.reason);
    await closeServer();
    if (appStarted) {
      appStarted = false;
      try {
        await runAppHooks(currentHooks(entryUrl, 'appTerminate'), appHookContext());
      } catch (error) {
        errors.push(error);
      }
    }
    removeLogSink();
    if (errors.length > 0) {
      throw new AggregateError(
        errors,
        `stopping the functions host failed: ${errors.map(errorMessage).join('; ')}`,
      );
    }
  };

  try {
    const loaded = await loadFunctionsEntry(entryUrl);
    if (loaded.functions.length === 0) {
      throw new Error(
        coreApiWasRequested()
          ? `${options.functionsEntry} registered no functions`
          : `no functions registered by ${options.functionsEntry}: either it registers none, or @azure/functions was ` +
              'used before installFunctionsCoreShim() ran and went into "test mode"',
      );
    }
    const table = buildFunctionTable(loaded.functions, options.settings, log, options.timersRunByCaller);

    await runAppHooks(currentHooks(entryUrl, 'appStart'), {
      ...appHookContext(),
      functionAppDirectory: functionAppDirectory(entryUrl),
    });
    appStarted = true;

    const dispatch = createHttpDispatcher({
      routePrefix,
      functions: table.http,
      scope,
      fallbackOrigin: () => formatUrl(hostname, port, ''),
      ...(options.corsAllowedOrigins ? { corsAllowedOrigins: options.corsAllowedOrigins } : {}),
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (closing) res.setHeader('connection', 'close');
      void track(dispatch(req, res)).catch((error: unknown) => {
        log({ level: 'error', msg: 'request handling failed', error: errorMessage(error) });
        res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, hostname, () => {
        server.off('error', reject);
        resolve();
      });
    });
    port = (server.address() as AddressInfo).port;

    for (const fn of table.serviceBus) {
      if (!options.queue) {
        log({
          level: 'warn',
          msg: 'no queue subscriber: Service Bus trigger not run',
          function: fn.name,
          queueName: fn.queueName,
        });
        continue;
      }
      const invoke = createServiceBusInvoker(fn, scope);
      subscriptions.push(await options.queue.subscribe(fn.queueName, (message) => track(invoke(message))));
    }

    const url = formatUrl(hostname, port, routePrefix);
    log({ level: 'info', msg: 'host started', url, functions: table.listed.map((f) => f.name) });
    let stopping: Promise<void> | undefined;
    return {
      url,
      port,
      functions: table.listed,
      stop() {
        stopping ??= shutdown().then(() => log({ level: 'info', msg: 'host stopped', url }));
        return stopping;
      },
    };
  } catch (error) {
    await shutdown().catch(() => undefined);
    throw error;
  }
}
