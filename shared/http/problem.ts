import type { HttpResponseInit } from '@azure/functions';
import type { Problem } from '../contracts/common.js';
import {
  AppError,
  type AppErrorKind,
  ConflictError,
  DependencyUnavailableError,
  RateLimitedError,
  ValidationError,
} from '../errors.js';

const STATUS: Record<AppErrorKind, { status: number; title: string; slug: string }> = {
  validation: { status: 400, title: 'Bad Request', slug: 'validation' },
  unauthenticated: { status: 401, title: 'Unauthorized', slug: 'unauthenticated' },
  forbidden: { status: 403, title: 'Forbidden', slug: 'forbidden' },
  'not-found': { status: 404, title: 'Not Found', slug: 'not-found' },
  'method-not-allowed': { status: 405, title: 'Method Not Allowed', slug: 'method-not-allowed' },
  conflict: { status: 409, title: 'Conflict', slug: 'conflict' },
  gone: { status: 410, title: 'Gone', slug: 'gone' },
  'payload-too-large': { status: 413, title: 'Payload Too Large', slug: 'payload-too-large' },
  'unsupported-media-type': { status: 415, title: 'Unsupported Media Type', slug: 'unsupported-media-type' },
  unprocessable: { status: 422, title: 'Unprocessable Content', slug: 'unprocessable' },
  'rate-limited': { status: 429, title: 'Too Many Requests', slug: 'rate-limited' },
  'dependency-unavailable': { status: 503, title: 'Service Unavailable', slug: 'dependency-unavailable' },
};

export const problemType = (slug: string) => `urn:fieldsync:problem:${slug}`;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * The one mapping from errors to RFC 9457 problem+json. Known errors keep their message; anything else is
 * a 500 that says nothing about its cause (the cause is logged with the request id instead).
 */
export function toProblem(
  error: unknown,
  requestId: string,
): { problem: Problem; headers: Record<string, string> } {
  const headers: Record<string, string> = {};
  if (!(error instanceof AppError)) {
    return {
      problem: {
        type: problemType('internal'),
        title: 'Internal Server Error',
        status: 500,
        detail: `An unexpected error occurred; quote request id ${requestId} when reporting it.`,
        requestId,
      },
      headers,
    };
  }
  const { status, title, slug } = STATUS[error.kind];
  const problem: Problem = { type: problemType(slug), title, status, detail: error.message, requestId };
  if (error.code) problem.code = error.code;
  if ((error instanceof ValidationError || error instanceof ConflictError) && error.errors.length > 0)
    problem.errors = error.errors;
  if (error instanceof RateLimitedError || error instanceof DependencyUnavailableError) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterSeconds)));
  }
  if (error instanceof ConflictError && error.retryAfterSeconds !== undefined) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(error.retryAfterSeconds)));
  }
  if (error.kind === 'unauthenticated') headers['www-authenticate'] = 'Bearer error="invalid_token"';
  return { problem, headers };
}

export function problemResponse(error: unknown, requestId: string): HttpResponseInit {
  const { problem, headers } = toProblem(error, requestId);
  return {
    status: problem.status,
    headers: {
      ...headers,
      'content-type': PROBLEM_CONTENT_TYPE,
      'x-request-id': requestId,
      'cache-control': 'no-store',
    },
    body: JSON.stringify(problem),
  };
}
