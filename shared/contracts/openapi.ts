import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { RouteContract } from './route.js';

/** Functions route syntax `{id}` / `{id:int}` / `{id?}` → OpenAPI `{id}`. */
const openApiPath = (route: string) => `/api/${route}`.replace(/\{\*?([A-Za-z0-9_]+)(:[^}]*)?\??\}/g, '{$1}');

/** Generates the OpenAPI 3.1 document from the route contracts. */
export function buildOpenApiDocument(routes: readonly RouteContract[], version: string): object {
  const registry = new OpenAPIRegistry();
  const bearer = registry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'OIDC access token with claims sub, tid (tenant) and roles',
  });
  for (const route of routes) {
    registry.registerPath({
      method: route.method.toLowerCase() as 'get' | 'post' | 'put' | 'delete',
      path: openApiPath(route.route),
      operationId: route.name,
      summary: route.summary,
      tags: route.tags,
      security: route.access === 'public' ? [] : [{ [bearer.name]: [] }],
      ...(route.access === 'public' ? {} : { description: `Roles: ${route.access.join(', ')}` }),
      request: {
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
        Object.entries(route.responses).map(([status, response]) => [
          status,
          {
            description: response.description,
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
    info: {
      title: 'fieldsync API',
      version,
      description:
        'Offline-first sync backend for field crews. Errors are application/problem+json (RFC 9457).',
    },
  });
}
