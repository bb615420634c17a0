/**
 * Stands in for `@azure/functions-core`, the module the Azure Functions Node worker provides at run time.
 * `@azure/functions` requires it lazily at the first `app.*` / `app.hook.*` call; outside Azure that require
 * fails and the package silently switches to "test mode" (nothing registers). A `Module._load` hook answers
 * that one request with the object below, which records registrations in a process-wide registry.
 *
 * The registry lives on globalThis so that several copies of this file (vitest re-evaluates TS modules per
 * test file, while the natively loaded `@azure/functions` caches the core API once) share one state.
 */
import nodeModule from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

export const CORE_MODULE_NAME = '@azure/functions-core';

export interface CoreBinding {
  type?: string;
  direction?: string;
  name?: string;
  [key: string]: unknown;
}

export interface CoreFunctionMetadata {
  name: string;
  bindings: Record<string, CoreBinding>;
  [key: string]: unknown;
}

export type CoreFunctionCallback = (...args: unknown[]) => unknown;
export type CoreHookCallback = (context: Record<string, unknown>) => unknown;

export interface FunctionRegistration {
  metadata: CoreFunctionMetadata;
  callback: CoreFunctionCallback;
  /** Entry module (file URL) being loaded when it registered; undefined when registered outside a load. */
  entry: string | undefined;
}

export interface HookRegistration {
  hookName: string;
  callback: CoreHookCallback;
  entry: string | undefined;
}

export type CoreLogSink = (level: string, category: string, message: string) => void;

interface Disposable {
  dispose(): void;
}

interface CoreApi {
  version: string;
  hostVersion: string;
  setProgrammingModel(model: unknown): void;
  getProgrammingModel(): unknown;
  registerFunction(metadata: CoreFunctionMetadata, callback: CoreFunctionCallback): Disposable;
  registerHook(hookName: string, callback: CoreHookCallback): Disposable;
  log(level: string, category: string, message: string): void;
}

interface ShimState {
  installed: boolean;
  /** Set once any copy of @azure/functions has required the core module through the hook. */
  coreApiRequested: boolean;
  programmingModel: unknown;
  functions: FunctionRegistration[];
  hooks: HookRegistration[];
  loadingEntry: string | undefined;
  logSinks: Set<CoreLogSink>;
  loadQueue: Promise<unknown>;
  coreApi: CoreApi;
}

const STATE_KEY = Symbol.for('fieldsync.local.functions-host.core-shim');
const HOOK_NAMES = new Set(['appStart', 'appTerminate', 'preInvocation', 'postInvocation', 'log']);

function state(): ShimState {
  const holder = globalThis as unknown as Record<symbol, ShimState | undefined>;
  let current = holder[STATE_KEY];
  if (!current) {
    current = {
      installed: false,
      coreApiRequested: false,
      programmingModel: undefined,
      functions: [],
      hooks: [],
      loadingEntry: undefined,
      logSinks: new Set(),
      loadQueue: Promise.resolve(),
      coreApi: createCoreApi(),
    };
    holder[STATE_KEY] = current;
  }
  return current;
}

function createCoreApi(): CoreApi {
  return {
    version: '4.0.0-fieldsync-local',
    hostVersion: '4.1000.0',
    setProgrammingModel(model) {
      state().programmingModel = model;
    },
    getProgrammingModel() {
      return state().programmingModel;
    },
    registerFunction(metadata, callback) {
      if (!metadata || typeof metadata.name !== 'string' || !metadata.bindings) {
        throw new Error('registerFunction: metadata needs a name and bindings');
      }
      if (typeof callback !== 'function')
        throw new Error(`registerFunction: "${metadata.name}" has no handler`);
      const s = state();
      const entry = s.loadingEntry;
      const sameName = (r: FunctionRegistration) =>
        r.entry === entry && r.metadata.name.toLowerCase() === metadata.name.toLowerCase();
      if (s.functions.some(sameName)) {
        // Inside one load this is the worker's error; outside a load it is a re-evaluated module.
        if (entry !== undefined)
          throw new Error(`A function with name "${metadata.name}" has already been registered.`);
        s.functions = s.functions.filter((r) => !sameName(r));
      }
      const registration: FunctionRegistration = { metadata, callback, entry };
      s.functions.push(registration);
      return {
        dispose() {
          const now = state();
          now.functions = now.functions.filter((r) => r !== registration);
        },
      };
    },
    registerHook(hookName, callback) {
      if (!HOOK_NAMES.has(hookName)) throw new RangeError(`Unknown hook "${hookName}"`);
      if (typeof callback !== 'function') throw new Error(`registerHook: "${hookName}" needs a callback`);
      const s = state();
      const registration: HookRegistration = { hookName, callback, entry: s.loadingEntry };
      s.hooks.push(registration);
      return {
        dispose() {
          const now = state();
          now.hooks = now.hooks.filter((r) => r !== registration);
        },
      };
    },
    log(level, category, message) {
      const sinks = state().logSinks;
      if (sinks.size === 0) {
        process.stdout.write(`${JSON.stringify({ level, category, msg: message })}\n`);
        return;
      }
      for (const sink of sinks) sink(level, category, message);
    },
  };
}

type LoadFunction = (request: unknown, ...rest: unknown[]) => unknown;

/** Idempotent; must run before anything calls app.http(...) (or any app.* / app.hook.*). */
export function installFunctionsCoreShim(): void {
  const s = state();
  if (s.installed) return;
  const moduleClass = nodeModule as unknown as { _load: LoadFunction };
  const originalLoad = moduleClass._load;
  moduleClass._load = function loadWithFunctionsCore(this: unknown, request: unknown, ...rest: unknown[]) {
    if (request === CORE_MODULE_NAME) {
      const current = state();
      current.coreApiRequested = true;
      return current.coreApi;
    }
    return originalLoad.call(this, request, ...rest);
  };
  s.installed = true;
}

export function toEntryUrl(functionsEntry: string): string {
  if (functionsEntry.startsWith('file:')) return new URL(functionsEntry).href;
  const path = isAbsolute(functionsEntry) ? functionsEntry : resolve(functionsEntry);
  return pathToFileURL(path).href;
}

export interface LoadedApp {
  functions: FunctionRegistration[];
}

/**
 * Imports the entry module and returns what it registered. Registrations made while the entry loads are
 * tagged with it; when the import is a no-op (module already evaluated in this process) the earlier
 * registrations for that entry are reused. Registrations made outside any load (the entry was imported
 * directly before a host started) are shared by every host.
 */
export function loadFunctionsEntry(entryUrl: string): Promise<LoadedApp> {
  const s = state();
  const run = async (): Promise<LoadedApp> => {
    const previousFunctions = s.functions.filter((r) => r.entry === entryUrl);
    const previousHooks = s.hooks.filter((r) => r.entry === entryUrl);
    s.functions = s.functions.filter((r) => r.entry !== entryUrl);
    s.hooks = s.hooks.filter((r) => r.entry !== entryUrl);
    s.loadingEntry = entryUrl;
    try {
      await import(entryUrl);
    } catch (error) {
      // Keep the registry as it was before a failed load.
      s.functions = [...s.functions.filter((r) => r.entry !== entryUrl), ...previousFunctions];
      s.hooks = [...s.hooks.filter((r) => r.entry !== entryUrl), ...previousHooks];
      throw error;
    } finally {
      s.loadingEntry = undefined;
    }
    const evaluated =
      s.functions.some((r) => r.entry === entryUrl) || s.hooks.some((r) => r.entry === entryUrl);
    if (!evaluated) {
      s.functions.push(...previousFunctions);
      s.hooks.push(...previousHooks);
    }
    const tagged = s.functions.filter((r) => r.entry === entryUrl);
    const taggedNames = new Set(tagged.map((r) => r.metadata.name.toLowerCase()));
    const untagged = s.functions.filter(
      (r) => r.entry === undefined && !taggedNames.has(r.metadata.name.toLowerCase()),
    );
    return { functions: [...untagged, ...tagged] };
  };
  const result = s.loadQueue.then(run, run);
  s.loadQueue = result.catch(() => undefined);
  return result;
}

/** Hooks registered for the entry now (hooks may be added or disposed after loading). */
export function currentHooks(entryUrl: string, hookName: string): CoreHookCallback[] {
  return state()
    .hooks.filter((r) => r.hookName === hookName && (r.entry === entryUrl || r.entry === undefined))
    .map((r) => r.callback);
}

export function coreApiWasRequested(): boolean {
  return state().coreApiRequested;
}

export function addCoreLogSink(sink: CoreLogSink): () => void {
  const sinks = state().logSinks;
  sinks.add(sink);
  return () => {
    sinks.delete(sink);
  };
}
