import { join } from 'node:path';
import { app, type HttpRequest, type HttpResponseInit } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { type ConsoleSite, findAsset, loadConsoleSite, notModified } from '../shared/console/site.js';
import { MethodNotAllowedError, NotFoundError } from '../shared/errors.js';
import { problemResponse } from '../shared/http/problem.js';
import { requestIdOf } from '../shared/http/endpoint.js';
import { projectRoot } from '../shared/project-root.js';

/**
 * The managers' console (docs/console.md): static pages served by the Function App at /api/console/. The
 * function itself is anonymous; the pages call the API with the manager's Bearer token, and the API checks it.
 */

let site: ConsoleSite | undefined;

/** The console's assets, loaded on first use (per instance); `webDir` and config can be given by tests. */
export function consoleSite(options?: Parameters<typeof loadConsoleSite>[0]): ConsoleSite {
  site ??= loadConsoleSite(
    options ?? {
      webDir: join(projectRoot(), 'dist', 'shared', 'console', 'web'),
      config: getApp().config,
    },
  );
  return site;
}

/** GET/HEAD /api/console/{*path}: an asset with its caching and security headers, 304, or 404. */
export async function serveConsole(request: HttpRequest): Promise<HttpResponseInit> {
  const requestId = requestIdOf(request);
  const current = consoleSite();
  const withSecurity = (response: HttpResponseInit): HttpResponseInit => ({
    ...response,
    headers: { ...(response.headers as Record<string, string>), ...current.headers },
  });
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return withSecurity(
      problemResponse(new MethodNotAllowedError('the console answers GET and HEAD'), requestId),
    );
  }
  const path = request.params.path;
  // /api/console without the slash: relative links would resolve against /api/. The fragment (a dev
  // token) stays in the browser across the redirect (RFC 9110 §10.2.2).
  if (!path && !new URL(request.url).pathname.endsWith('/')) {
    return withSecurity({
      status: 308,
      headers: { location: `${new URL(request.url).pathname}/`, 'x-request-id': requestId },
    });
  }
  const found = findAsset(current, path);
  if (!found) {
    return withSecurity(problemResponse(new NotFoundError('no such console file'), requestId));
  }
  const headers = {
    'content-type': found.contentType,
    'cache-control': found.cacheControl,
    etag: found.etag,
    'x-request-id': requestId,
  };
  if (notModified(request.headers.get('if-none-match'), found.etag)) {
    return withSecurity({ status: 304, headers });
  }
  return withSecurity({ status: 200, headers, body: found.body });
}

app.http('console', {
  methods: ['GET', 'HEAD'],
  route: 'console/{*path}',
  authLevel: 'anonymous',
  handler: serveConsole,
});
