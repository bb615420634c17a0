import type { z } from 'zod';
import { problemSchema } from './common.js';
import type { Role } from '../auth/principal.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A response header as the OpenAPI document shows it. */
export interface HeaderContract {
  description: string;
  /** Always sent with this response (the contract test fails a response without it). */
  required?: boolean;
  /** JSON Schema of the value (always a string on the wire). */
  schema: { type: 'string'; pattern?: string; format?: string; enum?: string[] };
}

export interface ResponseContract {
  description: string;
  schema?: z.ZodType;
  /** Content type of the body; application/json unless said. */
  contentType?: string;
  /** Headers beyond the ones every answer carries (x-request-id; Retry-After on 429/503: openapi.ts adds them). */
  headers?: Record<string, HeaderContract>;
}

/**
 * What one HTTP function accepts and answers: the single source for its registration, its request
 * validation and the OpenAPI document.
 */
export interface RouteContract<
  TBody extends z.ZodType | undefined = z.ZodType | undefined,
  TQuery extends z.ZodObject | undefined = z.ZodObject | undefined,
  TParams extends z.ZodObject | undefined = z.ZodObject | undefined,
> {
  /** The Azure Function's name. */
  name: string;
  method: HttpMethod;
  /** Route under /api, in Functions route syntax, e.g. `v1/wells/{id}`. */
  route: string;
  summary: string;
  tags: string[];
  /** Who may call it; 'public' needs no token. */
  access: 'public' | readonly Role[];
  body?: TBody;
  /**
   * The handler checks parts of the body item by item (a push's events), so the wrapper must not refuse
   * the whole body for one item's text.
   */
  checksItemsItself?: boolean;
  /** What the OpenAPI document shows for the body, when it is more precise than what is validated up front. */
  documentedBody?: z.ZodType;
  query?: TQuery;
  params?: TParams;
  /** Request headers the route reads beyond the common ones (documented; checked by the handler). */
  headers?: z.ZodObject;
  /**
   * The answers of the route itself. The ones every route of its kind can give (400/413/415 for bodies,
   * 401/403/429/503 with a token, 500) are added by standardResponses() unless given here.
   */
  responses: Record<number, ResponseContract>;
  /**
   * For a compat route (SPEC "The seed APIs, served unchanged"): the error body its source document
   * specifies, used instead of problem+json for the answers standardResponses() adds. The handler's
   * endpoint() is given the matching renderer (shared/http/endpoint.ts `EndpointOptions.renderError`).
   */
  errorBody?: { schema: z.ZodType; contentType: string };
  /**
   * The rate-limit budget the route spends when it is not a v1 push or pull by its path (a compat route that
   * pushes spends the push budget: SPEC "Rate limits"); shared/http/rate-limit.ts routeClassOf. `sequential`:
   * a dialect whose client sends a request pair per operation, one after the other (docs/operations.md).
   */
  rateClass?: 'push' | 'pull' | 'sequential';
  /**
   * The largest body this route reads, in bytes after decompression; MAX_BODY_BYTES (4 MiB,
   * shared/http/body.ts) unless said. A compat route with inline photos needs more (docs/compat/fieldops.md).
   */
  maxBodyBytes?: number;
}

export const defineRoute = <
  TBody extends z.ZodType | undefined = undefined,
  TQuery extends z.ZodObject | undefined = undefined,
  TParams extends z.ZodObject | undefined = undefined,
>(
  contract: RouteContract<TBody, TQuery, TParams>,
): RouteContract<TBody, TQuery, TParams> => contract;

/** A problem+json response of a route contract. */
export const problem = (description: string): ResponseContract => ({
  description,
  schema: problemSchema,
  contentType: 'application/problem+json',
});
const problemResponseContract = problem;

const AUTH_PROBLEM_TEXT = {
  401: 'No token, or the token is invalid, expired or for another issuer or audience',
  403: 'The role may not call this route, X-Tenant-Id names another tenant than the token, or the tenant is not provisioned',
  429: 'Too many requests of this user (by default 30 pushes a minute, 300 pull pages a minute, 10 other requests a second); retry after the Retry-After header',
  503: 'A dependency is unavailable; retry after the Retry-After header',
} as const;

/** The problems every authenticated route can answer (400 only where there is a request to be invalid). */
export const authProblems = {
  401: problem(AUTH_PROBLEM_TEXT[401]),
  403: problem(AUTH_PROBLEM_TEXT[403]),
  429: problem(AUTH_PROBLEM_TEXT[429]),
  503: problem(AUTH_PROBLEM_TEXT[503]),
};

/** Seconds to wait before trying again (RFC 9110 §10.2.3), an integer ≥ 1. */
export const retryAfterHeader = (required = true): HeaderContract => ({
  description: 'Seconds to wait before trying again',
  required,
  schema: { type: 'string', pattern: '^[1-9][0-9]*$' },
});

/** What every answer of every route carries. */
export const REQUEST_ID_HEADER: HeaderContract = {
  description:
    "The request id: the client's X-Request-Id when it matches ^[A-Za-z0-9._:-]{8,128}$, else a new UUID; " +
    'quote it when reporting a problem',
  required: true,
  schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
};

/**
 * Every answer a route can give: its own (route.responses) and, unless it says otherwise, the ones its kind
 * always can give — 400 when it takes path, query or body input, 413 and 415 when it takes a body
 * (shared/http/body.ts), 401/403/429/503 when it needs a token (shared/http/endpoint.ts), 500 for every
 * route — each with its headers: x-request-id always, Retry-After on 429 and 503, WWW-Authenticate on 401.
 * The OpenAPI document is built from this, and test/integration/openapi-contract.test.ts checks the served
 * answers against it.
 */
export function standardResponses(route: RouteContract): Record<number, ResponseContract> {
  const problem = (description: string): ResponseContract =>
    route.errorBody
      ? { description, schema: route.errorBody.schema, contentType: route.errorBody.contentType }
      : problemResponseContract(description);
  const authProblems = {
    401: problem(AUTH_PROBLEM_TEXT[401]),
    403: problem(AUTH_PROBLEM_TEXT[403]),
    429: problem(AUTH_PROBLEM_TEXT[429]),
    503: problem(AUTH_PROBLEM_TEXT[503]),
  };
  const standard: Record<number, ResponseContract> = {
    500: problem('An unexpected error; the detail names the request id to quote'),
  };
  if (route.params || route.query || route.body) {
    standard[400] = problem('The request is invalid; `errors` lists the JSON paths (or parameters) at fault');
  }
  if (route.body) {
    standard[413] = problem(
      route.maxBodyBytes
        ? `The body is larger than ${route.maxBodyBytes} bytes (after gzip decompression)`
        : 'The body is larger than 4 MiB (after gzip decompression)',
    );
    standard[415] = problem(
      'The body is not JSON (application/json in UTF-8), or its Content-Encoding is neither gzip nor identity',
    );
  }
  if (route.access !== 'public') Object.assign(standard, authProblems);
  const all: Record<number, ResponseContract> = { ...standard, ...route.responses };
  return Object.fromEntries(
    Object.entries(all)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([status, response]) => {
        const code = Number(status);
        const headers: Record<string, HeaderContract> = {
          'X-Request-Id': REQUEST_ID_HEADER,
          ...(code === 429 || code === 503 ? { 'Retry-After': retryAfterHeader() } : {}),
          ...(code === 401
            ? {
                'WWW-Authenticate': {
                  description: 'The Bearer challenge (RFC 6750)',
                  required: true,
                  schema: { type: 'string', pattern: '^Bearer' },
                },
              }
            : {}),
          ...response.headers,
        };
        return [code, { ...response, headers }];
      }),
  );
}
