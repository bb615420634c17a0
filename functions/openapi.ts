import { app } from '@azure/functions';
import { buildOpenApiDocument } from '../shared/contracts/openapi.js';
import { ALL_ROUTES, openApiRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';

let document: string | undefined;

export const openApi = endpoint(openApiRoute, async ({ app: fieldsync }) => {
  document ??= JSON.stringify(buildOpenApiDocument(ALL_ROUTES, fieldsync.version));
  return { status: 200, body: document, headers: { 'cache-control': 'public, max-age=300' } };
});

app.http(openApiRoute.name, httpOptions(openApiRoute, openApi));
