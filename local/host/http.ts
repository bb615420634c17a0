/** HTTP triggers: route matching, HttpRequest/InvocationContext construction, response conversion. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Cookie, HttpResponseInit } from '@azure/functions';
import azureFunctions from '@azure/functions';
import {
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  CORS_MAX_AGE_SECONDS,
  corsOriginMatcher,
} from '../../shared/http/cors.js';
import type { CoreFunctionCallback, CoreFunctionMetadata } from './core-shim.js';
import {
  effectiveOptions,
  elapsedMs,
  errorMessage,
  type InvocationScope,
  invokeWithHooks,
  userLogHandler,
} from './invoke.js';
import { comparePrecedence, matchRoute, type RouteTemplate, splitPath } from './routes.js';

// A CommonJS package: Node's ESM loader cannot see its class exports as named imports.
const { HttpRequest, HttpResponse, InvocationContext } = azureFunctions;
type HttpResponseInstance = InstanceType<typeof HttpResponse>;

/** Azure's request size limit (host.json cannot raise it on Consumption plans). */
export const MAX_REQUEST_BODY_BYTES = 100 * 1024 * 1024;

export interface HttpFunction {
  name: string;
  template: RouteTemplate;
  methods: Set<string>;
  metadata: CoreFunctionMetadata;
  callback: CoreFunctionCallback;
}

export interface HttpDispatcherOptions {
  routePrefix: string;
  functions: HttpFunction[];
  scope: InvocationScope;
  /** Used for the request URL when the request carries no usable Host header. */
  fallbackOrigin: () => string;
  /**
   * Browser origins answered with CORS headers (entries as in shared/http/cors.ts: `*`, an origin, or
   * `http://host:*`); none when absent — as the platform CORS of a Function App.
   */
  corsAllowedOrigins?: readonly string[];
}

interface Problem {
  status: number;
  type: string;
  title: string;
  detail?: string;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade']);

class PayloadTooLargeError extends Error {}

function sendProblem(res: ServerResponse, problem: Problem, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify(problem));
  res.statusCode = problem.status;
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
  res.setHeader('content-type', 'application/problem+json');
  res.setHeader('content-length', body.length);
  res.end(body);
}

const INTERNAL_ERROR: Problem = {
  type: 'urn:fieldsync:problem:internal',
  title: 'Internal Server Error',
  status: 500,
};

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new PayloadTooLargeError();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new PayloadTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Headers as HttpRequestInit wants them: lower-case names, repeated headers joined. */
function requestHeaders(req: IncomingMessage): Record<string, string> {
  const headers = new Map<string, string>();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    const value = raw[i + 1] ?? '';
    const previous = headers.get(name);
    headers.set(
      name,
      previous === undefined ? value : `${previous}${name === 'cookie' ? '; ' : ', '}${value}`,
    );
  }
  return Object.fromEntries(headers);
}

function requestUrl(req: IncomingMessage, fallbackOrigin: string): string {
  const target = req.url ?? '/';
  const candidates = /^https?:\/\//i.test(target)
    ? [target]
    : [`http://${req.headers.host ?? ''}${target}`, `${fallbackOrigin}${target}`];
  for (const candidate of candidates) {
    try {
      return new URL(candidate).href;
    } catch {
      // try the next one
    }
  }
  return `${fallbackOrigin}/`;
}

function serializeCookie(cookie: Cookie): string {
  let text = `${cookie.name}=${cookie.value}`;
  if (cookie.domain) text += `; Domain=${cookie.domain}`;
  if (cookie.path) text += `; Path=${cookie.path}`;
  if (cookie.expires !== undefined) {
    const expires = cookie.expires instanceof Date ? cookie.expires : new Date(cookie.expires);
    text += `; Expires=${expires.toUTCString()}`;
  }
  if (cookie.maxAge !== undefined) text += `; Max-Age=${cookie.maxAge}`;
  if (cookie.secure) text += '; Secure';
  if (cookie.httpOnly) text += '; HttpOnly';
  if (cookie.sameSite) text += `; SameSite=${cookie.sameSite}`;
  return text;
}

function isHttpResponseLike(value: object): value is HttpResponseInstance {
  if (value instanceof HttpResponse) return true;
  // Another copy of @azure/functions (e.g. a second install) gives another class: accept its instances.
  const candidate = value as Partial<HttpResponseInstance>;
  return (
    typeof candidate.arrayBuffer === 'function' &&
    typeof candidate.status === 'number' &&
    candidate.headers instanceof Headers
  );
}

/** What the http output binding received: the return value, or an extra http output. */
function httpOutput(
  metadata: CoreFunctionMetadata,
  result: unknown,
  context: { extraOutputs: { get(name: string): unknown } },
): unknown {
  const outputs = Object.entries(metadata.bindings).filter(
    ([, binding]) => binding.direction === 'out' && binding.type?.toLowerCase() === 'http',
  );
  const named = outputs.find(([name]) => name !== '$return');
  if (named && !outputs.some(([name]) => name === '$return')) return context.extraOutputs.get(named[0]);
  return result;
}

async function writeResponse(
  res: ServerResponse,
  output: unknown,
): Promise<{ status: number; requestId?: string }> {
  if (output === undefined || output === null) {
    res.statusCode = 204;
    res.end();
    return { status: 204 };
  }
  if (typeof output !== 'object') {
    throw new Error(
      'The HTTP response must be an object with optional properties "body", "status", "headers", and "cookies".',
    );
  }
  const response = isHttpResponseLike(output) ? output : new HttpResponse(output as HttpResponseInit);
  const body = Buffer.from(await response.arrayBuffer());
  res.statusCode = response.status;
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie' || HOP_BY_HOP.has(name)) continue;
    const before = name === 'vary' ? res.getHeader('vary') : undefined;
    // Keep the host's `Vary: Origin` (CORS) beside what the function varies on.
    res.setHeader(name, typeof before === 'string' && before !== '' ? `${before}, ${value}` : value);
  }
  const setCookies = [
    ...(typeof response.headers.getSetCookie === 'function' ? response.headers.getSetCookie() : []),
    ...(response.cookies ?? []).map(serializeCookie),
  ];
  if (setCookies.length > 0) res.setHeader('set-cookie', setCookies);
  // The length of the body a GET would get; for HEAD, Node's response sends the headers and drops the body.
  if (!res.hasHeader('content-length') && res.statusCode !== 204 && res.statusCode !== 304) {
    res.setHeader('content-length', body.length);
  }
  res.end(res.req.method === 'HEAD' ? undefined : body);
  return { status: response.status, requestId: response.headers.get('x-request-id') ?? undefined };
}

export function createHttpDispatcher(
  options: HttpDispatcherOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const prefix = splitPath(`/${options.routePrefix}`).map((s) => s.toLowerCase());
  const functions = [...options.functions].sort((a, b) => comparePrecedence(a.template, b.template));
  const { scope } = options;
  const corsEnabled = (options.corsAllowedOrigins ?? []).length > 0;
  const originAllowed = corsOriginMatcher(options.corsAllowedOrigins ?? []);

  /**
   * CORS as the Function App platform does it: an allowed Origin is echoed (with `Vary: Origin`, since the
   * answer depends on it) and the API's response headers are exposed; any other origin gets no CORS header,
   * so the browser keeps the answer from the page.
   */
  const applyCors = (req: IncomingMessage, res: ServerResponse): string | undefined => {
    if (!corsEnabled) return undefined;
    res.setHeader('vary', 'Origin');
    const origin = req.headers.origin;
    if (!originAllowed(origin)) return undefined;
    res.setHeader('access-control-allow-origin', origin ?? '');
    res.setHeader('access-control-expose-headers', CORS_EXPOSED_HEADERS.join(', '));
    return origin;
  };

  return async (req, res) => {
    const startedAt = process.hrtime.bigint();
    const method = (req.method ?? 'GET').toUpperCase();
    const target = req.url ?? '/';
    let pathname: string;
    try {
      pathname = new URL(target, 'http://localhost').pathname;
    } catch {
      pathname = target.split('?')[0] ?? '/';
    }
    const logRequest = (entry: Record<string, unknown>) =>
      scope.log({ ...entry, method, path: pathname, durationMs: elapsedMs(startedAt) });

    const segments = splitPath(pathname);
    const underPrefix =
      segments.length >= prefix.length &&
      prefix.every((p, i) => {
        try {
          return decodeURIComponent(segments[i] ?? '').toLowerCase() === p;
        } catch {
          return false;
        }
      });
    let chosen: { fn: HttpFunction; params: Record<string, string> } | undefined;
    const allowed = new Set<string>();
    if (underPrefix) {
      const below = segments.slice(prefix.length);
      for (const fn of functions) {
        const params = matchRoute(fn.template, below);
        if (!params) continue;
        for (const m of fn.methods) allowed.add(m);
        if (fn.methods.has(method)) {
          chosen = { fn, params };
          break;
        }
      }
    }
    const corsOrigin = applyCors(req, res);
    if (!chosen && method === 'OPTIONS' && allowed.size > 0) {
      // No function takes OPTIONS here: answer it for the path (RFC 9110 §9.3.7), and a CORS preflight
      // (an Origin and Access-Control-Request-Method) with what a browser may send.
      req.resume();
      const allow = [...allowed, 'OPTIONS'].sort().join(', ');
      res.statusCode = 204;
      res.setHeader('allow', allow);
      if (corsOrigin !== undefined && req.headers['access-control-request-method'] !== undefined) {
        res.setHeader('access-control-allow-methods', allow);
        res.setHeader('access-control-allow-headers', CORS_ALLOWED_HEADERS.join(', '));
        res.setHeader('access-control-max-age', String(CORS_MAX_AGE_SECONDS));
      }
      res.end();
      logRequest({
        level: 'info',
        msg: 'options',
        status: 204,
        ...(corsOrigin ? { origin: corsOrigin } : {}),
      });
      return;
    }
    if (!chosen) {
      req.resume();
      if (allowed.size === 0) {
        sendProblem(res, {
          type: 'urn:fieldsync:problem:not-found',
          title: 'Not Found',
          status: 404,
          detail: 'No function serves this path.',
        });
        logRequest({ level: 'info', msg: 'unmatched', status: 404 });
      } else {
        const allow = [...allowed, 'OPTIONS'].sort().join(', ');
        sendProblem(
          res,
          {
            type: 'urn:fieldsync:problem:method-not-allowed',
            title: 'Method Not Allowed',
            status: 405,
            detail: `${method} is not allowed here; allowed: ${allow}.`,
          },
          { allow },
        );
        logRequest({ level: 'info', msg: 'unmatched', status: 405 });
      }
      return;
    }

    const { fn, params } = chosen;
    const invocationId = randomUUID();
    let body: Buffer;
    try {
      body = await readBody(req, MAX_REQUEST_BODY_BYTES);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) {
        sendProblem(
          res,
          {
            type: 'urn:fieldsync:problem:payload-too-large',
            title: 'Payload Too Large',
            status: 413,
            detail: `The request body exceeds ${MAX_REQUEST_BODY_BYTES} bytes.`,
          },
          { connection: 'close' },
        );
        logRequest({ level: 'warn', msg: 'invocation', function: fn.name, invocationId, status: 413 });
      } else {
        res.destroy();
        logRequest({ level: 'warn', msg: 'request aborted', function: fn.name, invocationId });
      }
      return;
    }

    try {
      const request = new HttpRequest({
        method,
        url: requestUrl(req, options.fallbackOrigin()),
        headers: requestHeaders(req),
        params,
        body: { bytes: body },
      });
      const context = new InvocationContext({
        invocationId,
        functionName: fn.name,
        logHandler: userLogHandler(scope, fn.name, invocationId),
        options: effectiveOptions(fn.metadata) as never,
      });
      const result = await invokeWithHooks(scope, context, [request], fn.callback);
      const written = await writeResponse(res, httpOutput(fn.metadata, result, context));
      logRequest({
        level: 'info',
        msg: 'invocation',
        function: fn.name,
        trigger: 'http',
        invocationId,
        status: written.status,
        ...(written.requestId ? { requestId: written.requestId } : {}),
      });
    } catch (error) {
      if (!res.headersSent) {
        for (const name of res.getHeaderNames()) res.removeHeader(name);
        applyCors(req, res);
        sendProblem(res, INTERNAL_ERROR);
      } else {
        res.destroy();
      }
      logRequest({
        level: 'error',
        msg: 'invocation',
        function: fn.name,
        trigger: 'http',
        invocationId,
        status: 500,
        error: errorMessage(error),
      });
    }
  };
}
