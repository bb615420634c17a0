import { OpenAPIRegistry, OpenApiGeneratorV31, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS } from '../http/cors.js';
import { problemSchema } from './common.js';
import { REQUEST_ID_HEADER, type RouteContract, standardResponses } from './route.js';

/** The Functions route prefix (host.json extensions.http.routePrefix): the document's one server. */
export const API_BASE_PATH = '/api';

/** Functions route syntax `{id}` / `{id:int}` / `{id?}` → OpenAPI `{id}`, relative to the server `/api`. */
export const openApiPath = (route: string) =>
  `/${route.replace(/^\/+/, '')}`.replace(/\{\*?([A-Za-z0-9_]+)(:[^}]*)?\??\}/g, '{$1}');

/** Request headers every route reads. */
const commonHeaders = z.object({
  'X-Request-Id': z
    .string()
    .regex(/^[A-Za-z0-9._:-]{8,128}$/)
    .optional()
    .describe('Your id for this request, echoed in x-request-id and the logs; ignored unless it matches'),
});

/** Request headers of routes that need a token. */
const tenantHeader = z.object({
  'X-Tenant-Id': z.string().optional().describe('When sent, must be the tenant of the token (403 otherwise)'),
});

/** Request headers of routes that take a JSON body. */
const bodyHeaders = z.object({
  'Content-Encoding': z
    .enum(['gzip', 'identity'])
    .optional()
    .describe('gzip bodies are accepted; the 4 MiB limit applies after decompression'),
});

const DESCRIPTION = [
  'Offline-first sync backend for field crews.',
  '',
  '- Errors are `application/problem+json` (RFC 9457) with a stable `code` where clients branch on it, ',
  '  `errors[]` naming the JSON paths at fault, and `requestId`. Every answer carries `x-request-id`.',
  '- Request bodies are JSON in UTF-8 (RFC 8259), at most 4 MiB (after gzip decompression).',
  '- Every GET operation also answers HEAD: the same status and headers, no body (RFC 9110 §9.3.2).',
  '- OPTIONS on a path answers 204 with `Allow`; a method a path does not serve answers 405 with `Allow` ',
  '  (components.responses.MethodNotAllowed); a path no operation serves answers 404.',
  `- Browsers (CORS): preflights may ask for ${CORS_ALLOWED_HEADERS.join(', ')}; answers expose `,
  `  ${CORS_EXPOSED_HEADERS.join(', ')}. Allowed origins are a deployment setting (docs/deploy.md).`,
  '- Date-times are RFC 3339 with an offset; ids of reference data are 1–64 characters `[A-Za-z0-9._:-]`.',
].join('\n');

/** The problem+json schema as plain JSON Schema, for the components zod-to-openapi does not generate. */
const problemJsonSchema = (): Record<string, unknown> => {
  const { $schema: _dialect, ...schema } = z.toJSONSchema(problemSchema);
  return schema;
};

/** Generates the OpenAPI 3.1 document from the route contracts. */
export function buildOpenApiDocument(routes: readonly RouteContract[], version: string): object {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'OIDC access token with claims sub, tid (tenant), roles and exp',
  });
  registry.registerComponent('responses', 'MethodNotAllowed', {
    description: 'The path exists but does not serve this method (answered by the Functions host)',
    headers: {
      Allow: {
        description: 'The methods the path serves, comma-separated',
        required: true,
        schema: { type: 'string', pattern: '^[A-Z]+(, [A-Z]+)*$' },
      },
    },
    content: { 'application/problem+json': { schema: problemJsonSchema() } },
  });
  for (const route of routes) {
    const headers = commonHeaders
      .extend(route.access === 'public' ? {} : tenantHeader.shape)
      .extend(route.body ? bodyHeaders.shape : {})
      .extend(route.headers?.shape ?? {});
    registry.registerPath({
      method: route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete',
      path: openApiPath(route.route),
      operationId: route.name,
      summary: route.summary,
      tags: route.tags,
      security: route.access === 'public' ? [] : [{ [bearer.name]: [] }],
      ...(route.access === 'public' ? {} : { description: `Roles: ${route.access.join(', ')}` }),
      request: {
        headers,
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.body
          ? {
              body: {
                required: true,
                content: { 'application/json': { schema: route.documentedBody ?? route.body } },
              },
            }
          : {}),
      },
      responses: Object.fromEntries(
        Object.entries(standardResponses(route)).map(([status, response]) => [
          status,
          {
            description: response.description,
            headers: (response.headers ?? { 'X-Request-Id': REQUEST_ID_HEADER }) as ResponseConfig['headers'],
            ...(response.schema
              ? { content: { [response.contentType ?? 'application/json']: { schema: response.schema } } }
              : {}),
          },
        ]),
      ),
    });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: { title: 'fieldsync API', version, description: DESCRIPTION },
    servers: [{ url: API_BASE_PATH, description: 'This host' }],
  });
}
