import { randomUUID } from 'node:crypto';
import type {
  HttpFunctionOptions,
  HttpMethod,
  HttpRequest,
  HttpResponseInit,
  InvocationContext,
} from '@azure/functions';
import type { z } from 'zod';
import { type App, getApp } from '../app.js';
import { hasAnyRole, type Principal } from '../auth/principal.js';
import { bearerToken } from '../auth/verifier.js';
import type { RouteContract } from '../contracts/route.js';
import { AppError, ForbiddenError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Tenant } from '../usecases/ports/tenancy.js';
import { describeError } from '../redact.js';
import { readJsonBody, validate } from './body.js';
import { CORS_EXPOSED_HEADERS } from './cors.js';
import { problemResponse, toProblem } from './problem.js';
import type { Problem } from '../contracts/common.js';
import { enforceRateLimit } from './rate-limit.js';

/** The parsed type of an optional schema slot; undefined when the route declares none. */
type Out<T> = [Exclude<T, undefined>] extends [never]
  ? undefined
  : Exclude<T, undefined> extends z.ZodType
    ? z.output<Exclude<T, undefined>>
    : undefined;

export interface EndpointInput<C extends RouteContract> {
  body: Out<C['body']>;
  query: Out<C['query']>;
  params: Out<C['params']>;
  principal: C['access'] extends 'public' ? undefined : Principal;
  tenant: C['access'] extends 'public' ? undefined : Tenant;
  request: HttpRequest;
  context: InvocationContext;
  requestId: string;
  app: App;
  log: Logger;
}

export interface EndpointResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Options of a route's wrapper. `renderError` turns the one problem mapping (shared/http/problem.ts
 * `toProblem`: status, title, detail, code, errors, headers) into another error body — a compat route's
 * source document specifies its own (SPEC "The seed APIs, served unchanged"); status codes and headers
 * (Retry-After, WWW-Authenticate, x-request-id) stay as they are.
 */
export interface EndpointOptions {
  renderError?: (problem: Problem) => { body: unknown; contentType?: string };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/** A client's x-request-id is kept when it is sane, so its logs and ours line up; otherwise a new one. */
export const requestIdOf = (request: HttpRequest): string => {
  const given = request.headers.get('x-request-id');
  return given && REQUEST_ID.test(given) ? given : randomUUID();
};

async function authenticate(
  app: App,
  contract: RouteContract,
  request: HttpRequest,
): Promise<{ principal: Principal; tenant: Tenant }> {
  const principal = await app.verifier.verify(bearerToken(request.headers.get('authorization')));
  const claimedTenant = request.headers.get('x-tenant-id');
  if (claimedTenant !== null && claimedTenant !== principal.tenantId) {
    throw new ForbiddenError('X-Tenant-Id does not match the tenant of the token');
  }
  if (contract.access !== 'public' && !hasAnyRole(principal, contract.access)) {
    throw new ForbiddenError(`this route requires one of the roles ${contract.access.join(', ')}`);
  }
  const tenant = await app.tenants.find(principal.tenantId);
  if (tenant?.status !== 'ACTIVE') {
    throw new ForbiddenError(`tenant ${principal.tenantId} is not provisioned`);
  }
  return { principal, tenant };
}

/**
 * Wraps a route handler with the conventions every route shares: request id, token and tenant checks,
 * role check, JSON body and parameter validation, problem+json errors and one log line per request.
 */
export function endpoint<C extends RouteContract>(
  contract: C,
  handler: (input: EndpointInput<C>) => Promise<EndpointResult>,
  options: EndpointOptions = {},
): (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit> {
  return async (request, context) => {
    const started = performance.now();
    const requestId = requestIdOf(request);
    const app = getApp();
    const log = app.log.child({ requestId, function: contract.name, invocationId: context.invocationId });
    let response: HttpResponseInit;
    let who: Principal | undefined;
    try {
      const auth = contract.access === 'public' ? undefined : await authenticate(app, contract, request);
      who = auth?.principal;
      if (auth) await enforceRateLimit(app, auth.principal, contract, log);
      const params = contract.params ? validate(contract.params, request.params, 'path') : undefined;
      const query = contract.query
        ? validate(contract.query, Object.fromEntries(request.query.entries()), 'query string')
        : undefined;
      // A route that checks its items itself (push) gets each item's nesting and text judged per item.
      const itemsCheckedByHandler = contract.checksItemsItself === true;
      const body = contract.body
        ? validate(
            contract.body,
            await readJsonBody(request, contract.maxBodyBytes, { itemsCheckedByHandler }),
            'body',
            '',
            {
              checkText: !itemsCheckedByHandler,
            },
          )
        : undefined;
      const result = await handler({
        body,
        query,
        params,
        principal: auth?.principal,
        tenant: auth?.tenant,
        request,
        context,
        requestId,
        app,
        log: auth ? log.child({ tenantId: auth.tenant.id, userId: auth.principal.userId }) : log,
      } as EndpointInput<C>);
      const hasBody = result.body !== undefined;
      response = {
        status: result.status,
        headers: {
          ...(hasBody ? { 'content-type': 'application/json' } : {}),
          'cache-control': 'no-store',
          ...result.headers,
          'x-request-id': requestId,
        },
        ...(hasBody
          ? { body: typeof result.body === 'string' ? result.body : JSON.stringify(result.body) }
          : {}),
      };
    } catch (error) {
      if (!(error instanceof AppError)) log.error({ err: describeError(error) }, 'request failed');
      response = options.renderError
        ? dialectErrorResponse(error, requestId, options.renderError)
        : problemResponse(error, requestId);
    }
    // Azure's platform CORS adds Access-Control-Allow-Origin but cannot be told what to expose: say it here,
    // on every answer, so a browser client can read Retry-After, Location, x-request-id… (harmless otherwise).
    response.headers = {
      ...(response.headers as Record<string, string>),
      'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
    };
    log.info(
      {
        status: response.status,
        durationMs: Math.round(performance.now() - started),
        ...(who ? { tenantId: who.tenantId, userId: who.userId } : {}),
      },
      'request',
    );
    return response;
  };
}

/**
 * The methods a route is registered for: its own, and HEAD beside GET (RFC 9110 §9.3.2: a GET resource
 * answers HEAD with the same status and headers and no body). The Functions host does not add HEAD by
 * itself; the host (Azure's, or local/host/http.ts) leaves the body out of a HEAD answer.
 */
export const routeMethods = (contract: Pick<RouteContract, 'method'>): HttpMethod[] =>
  contract.method === 'GET' ? ['GET', 'HEAD'] : [contract.method];

/** The options for `app.http(...)` of a route: its methods, its route, anonymous (the token is checked here). */
export const httpOptions = (
  contract: RouteContract,
  handler: (request: HttpRequest, context: InvocationContext) => Promise<HttpResponseInit>,
): HttpFunctionOptions => ({
  methods: routeMethods(contract),
  route: contract.route,
  authLevel: 'anonymous',
  handler,
});

/** An error answered in a dialect's own body: the status and headers of problem+json, another body. */
function dialectErrorResponse(
  error: unknown,
  requestId: string,
  render: NonNullable<EndpointOptions['renderError']>,
): HttpResponseInit {
  const { problem, headers } = toProblem(error, requestId);
  const { body, contentType } = render(problem);
  return {
    status: problem.status,
    headers: {
      ...headers,
      'content-type': contentType ?? 'application/json',
      'x-request-id': requestId,
      'cache-control': 'no-store',
    },
    body: JSON.stringify(body),
  };
}
