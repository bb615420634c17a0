import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../shared/contracts/openapi.js';
import { ALL_ROUTES } from '../../shared/contracts/routes.js';
import { corsOriginMatcher, LOCAL_CORS_ORIGINS } from '../../shared/http/cors.js';
import { routeMethods } from '../../shared/http/endpoint.js';

describe('CORS origins (shared/http/cors.ts)', () => {
  it('matches localhost on any port, and nothing that only looks like it', () => {
    const allowed = corsOriginMatcher(LOCAL_CORS_ORIGINS);
    for (const origin of [
      'http://localhost',
      'http://localhost:5173',
      'http://LOCALHOST:3000',
      'http://127.0.0.1:8080',
      'http://[::1]:4200',
    ])
      expect(allowed(origin), origin).toBe(true);
    for (const origin of [
      undefined,
      '',
      'null',
      'https://localhost:5173',
      'http://localhost.evil.example',
      'http://localhost:5173.evil.example',
      'http://evil.example/http://localhost:1',
      'http://127.0.0.2:80',
      'http://localhost:123456',
    ])
      expect(allowed(origin), String(origin)).toBe(false);
  });

  it('matches exact origins exactly, and `*` any origin', () => {
    const exact = corsOriginMatcher(['https://app.example.com']);
    expect(exact('https://app.example.com')).toBe(true);
    expect(exact('https://app.example.com:443')).toBe(false);
    expect(exact('https://app.example.co')).toBe(false);
    expect(exact('https://xapp.example.com')).toBe(false);
    const any = corsOriginMatcher(['*']);
    expect(any('https://anything.example')).toBe(true);
    expect(any(undefined)).toBe(false);
    expect(corsOriginMatcher([])('http://localhost:1')).toBe(false);
  });
});

describe('HEAD beside GET, in the registrations and the document', () => {
  it('registers HEAD with every GET route and with nothing else', () => {
    for (const route of ALL_ROUTES) {
      expect(routeMethods(route), route.name).toEqual(
        route.method === 'GET' ? ['GET', 'HEAD'] : [route.method],
      );
    }
  });

  it('documents the server, every operation once, and x-request-id on every answer', () => {
    const doc = buildOpenApiDocument(ALL_ROUTES, 'test') as {
      servers: { url: string }[];
      paths: Record<
        string,
        Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>
      >;
    };
    expect(doc.servers).toEqual([{ url: '/api', description: 'This host' }]);
    const operations = Object.values(doc.paths).flatMap((item) => Object.values(item));
    expect(operations).toHaveLength(ALL_ROUTES.length);
    for (const operation of operations) {
      for (const [status, response] of Object.entries(operation.responses)) {
        expect(response.headers?.['X-Request-Id'], status).toBeDefined();
        if (status === '429' || status === '503')
          expect(response.headers?.['Retry-After'], status).toBeDefined();
      }
    }
  });
});
