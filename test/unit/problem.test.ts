import { describe, expect, it } from 'vitest';
import {
  ConflictError,
  DependencyUnavailableError,
  ForbiddenError,
  GoneError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitedError,
  UnauthenticatedError,
  UnprocessableError,
  UnsupportedMediaTypeError,
  ValidationError,
} from '../../shared/errors.js';
import { problemResponse } from '../../shared/http/problem.js';

const parse = (error: unknown) => {
  const response = problemResponse(error, 'req-12345678');
  return {
    response,
    body: JSON.parse(String(response.body)) as Record<string, unknown>,
    headers: response.headers as Record<string, string>,
  };
};

describe('problem+json mapping', () => {
  it.each([
    [new ValidationError('bad', [{ path: 'events[0].id', message: 'must be a UUID' }]), 400],
    [new UnauthenticatedError('token expired'), 401],
    [new ForbiddenError('no'), 403],
    [new NotFoundError('none'), 404],
    [new ConflictError('taken', 'API_NUMBER_TAKEN'), 409],
    [new GoneError('old cursor', 'RESYNC_REQUIRED'), 410],
    [new PayloadTooLargeError('big'), 413],
    [new UnsupportedMediaTypeError('xml'), 415],
    [new UnprocessableError('other body'), 422],
    [new RateLimitedError('slow down', 7), 429],
    [new DependencyUnavailableError('cosmos', 5), 503],
  ])('%s → %i with an RFC 9457 body', (error, status) => {
    const { response, body, headers } = parse(error);
    expect(response.status).toBe(status);
    expect(headers['content-type']).toBe('application/problem+json');
    expect(headers['x-request-id']).toBe('req-12345678');
    expect(body).toMatchObject({
      status,
      type: expect.stringMatching(/^urn:fieldsync:problem:/),
      title: expect.any(String),
    });
    expect(body.detail).toBe((error as Error).message);
  });

  it('carries JSON paths, codes, Retry-After and WWW-Authenticate where they apply', () => {
    expect(
      parse(new ValidationError('bad', [{ path: 'events[3].payload.oilVolume', message: 'too small' }])).body
        .errors,
    ).toEqual([{ path: 'events[3].payload.oilVolume', message: 'too small' }]);
    expect(parse(new GoneError('old', 'RESYNC_REQUIRED')).body.code).toBe('RESYNC_REQUIRED');
    expect(parse(new RateLimitedError('slow', 2.2)).headers['retry-after']).toBe('3');
    expect(parse(new DependencyUnavailableError('postgres', 5)).headers['retry-after']).toBe('5');
    expect(parse(new UnauthenticatedError('x')).headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it('answers 500 for anything else without revealing the cause', () => {
    const secretful = new Error(
      'connect to postgres://admin:hunter2@db:5432 failed\n    at Pool.connect (pool.js:1:1)',
    );
    const { response, body } = parse(secretful);
    expect(response.status).toBe(500);
    expect(String(response.body)).not.toContain('hunter2');
    expect(String(response.body)).not.toContain('pool.js');
    expect(body.detail).toContain('req-12345678');
  });
});
