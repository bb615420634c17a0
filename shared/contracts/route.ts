import type { z } from 'zod';
import { problemSchema } from './common.js';
import type { Role } from '../auth/principal.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface ResponseContract {
  description: string;
  schema?: z.ZodType;
  /** Content type of the body; application/json unless said. */
  contentType?: string;
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
  responses: Record<number, ResponseContract>;
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

/** The problems every authenticated route can answer. */
export const authProblems = {
  400: problem('The request is invalid; `errors` lists the JSON paths at fault'),
  401: problem('No token, or the token is invalid, expired or for another issuer or audience'),
  403: problem('The role may not call this route, or the tenant is not provisioned or not yours'),
  429: problem('Too many requests; retry after the Retry-After header'),
  503: problem('A dependency is unavailable; retry after the Retry-After header'),
};
