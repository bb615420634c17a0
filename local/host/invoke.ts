/** Runs one invocation the way the Node worker does: preInvocation hooks, the handler, postInvocation hooks. */
import { format } from 'node:util';
import type { CoreFunctionCallback, CoreFunctionMetadata, CoreHookCallback } from './core-shim.js';
import type { HostLog } from './types.js';

export type HookSource = (hookName: 'preInvocation' | 'postInvocation' | 'log') => CoreHookCallback[];

export interface InvocationScope {
  hooks: HookSource;
  /** Shared by every hook of this host (the worker's appHookData). */
  appHookData: Record<string, unknown>;
  log: HostLog;
}

/** Azure log levels → the level names the rest of the project logs with. */
const LEVELS: Record<string, string> = {
  trace: 'trace',
  debug: 'debug',
  information: 'info',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
};

/** Emits one log line through the host log after running 'log' hooks (which may change level or message). */
export function emitFunctionLog(
  scope: InvocationScope,
  level: string,
  category: string,
  message: string,
  invocationContext?: { functionName: string; invocationId: string },
): void {
  const hookContext: Record<string, unknown> = {
    hookData: {},
    appHookData: scope.appHookData,
    level,
    category,
    message,
    invocationContext,
  };
  for (const hook of scope.hooks('log')) {
    try {
      hook(hookContext);
    } catch {
      // A failing log hook must not break logging.
    }
  }
  const finalLevel = String(hookContext.level);
  if (finalLevel === 'none') return;
  scope.log({
    level: LEVELS[finalLevel] ?? finalLevel,
    msg: String(hookContext.message),
    category,
    ...(invocationContext
      ? { function: invocationContext.functionName, invocationId: invocationContext.invocationId }
      : {}),
  });
}

/** The handler's log calls (context.log/info/warn/...) become host log entries. */
export function userLogHandler(
  scope: InvocationScope,
  functionName: string,
  invocationId: string,
): (level: string, ...args: unknown[]) => void {
  return (level, ...args) =>
    emitFunctionLog(scope, level, 'user', format(...args), { functionName, invocationId });
}

/** The worker's view of a function's bindings, as InvocationContext.options. */
export function effectiveOptions(metadata: CoreFunctionMetadata): Record<string, unknown> {
  let trigger: Record<string, unknown> | undefined;
  let returnBinding: Record<string, unknown> | undefined;
  const extraInputs: Record<string, unknown>[] = [];
  const extraOutputs: Record<string, unknown>[] = [];
  for (const [name, binding] of Object.entries(metadata.bindings)) {
    const option = { ...binding, name };
    if (typeof binding.type === 'string' && /trigger$/i.test(binding.type)) trigger = option;
    else if (name === '$return') returnBinding = option;
    else if (binding.direction === 'in') extraInputs.push(option);
    else if (binding.direction === 'out') extraOutputs.push(option);
  }
  return { trigger, return: returnBinding, extraInputs, extraOutputs };
}

/**
 * preInvocation hooks may replace inputs and the handler; postInvocation hooks may replace result and
 * error. Throws the (final) error.
 */
export async function invokeWithHooks(
  scope: InvocationScope,
  invocationContext: unknown,
  inputs: unknown[],
  callback: CoreFunctionCallback,
): Promise<unknown> {
  const hookData: Record<string, unknown> = {};
  const pre: Record<string, unknown> = {
    hookData,
    appHookData: scope.appHookData,
    invocationContext,
    inputs,
    functionCallback: callback,
  };
  for (const hook of scope.hooks('preInvocation')) await hook(pre);
  const finalInputs = Array.isArray(pre.inputs) ? (pre.inputs as unknown[]) : inputs;
  const finalCallback =
    typeof pre.functionCallback === 'function' ? (pre.functionCallback as CoreFunctionCallback) : callback;
  let result: unknown;
  let error: unknown;
  try {
    result = await finalCallback(...finalInputs, invocationContext);
  } catch (thrown) {
    error = thrown ?? new Error('the function threw a nullish value');
  }
  const post: Record<string, unknown> = {
    hookData,
    appHookData: scope.appHookData,
    invocationContext,
    inputs: finalInputs,
    result,
    error,
  };
  for (const hook of scope.hooks('postInvocation')) await hook(post);
  if (post.error !== undefined && post.error !== null) throw post.error;
  return post.result;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function elapsedMs(startedAt: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - startedAt) / 1e4) / 100;
}
