import { createHash } from 'node:crypto';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FunctionsHost, startFunctionsHost } from '../../local/host.js';
import { fixtureRecord } from '../fixtures/host/record.js';

const functionsEntry = fileURLToPath(new URL('../fixtures/host/functions.ts', import.meta.url));
const settings = { TEST_QUEUE: 'fieldsync-test-queue', TEST_BATCH_SUFFIX: 'one' };

interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
}

describe('local functions host: HTTP', () => {
  let host: FunctionsHost;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    host = await startFunctionsHost({ port: 0, functionsEntry, settings, log: (entry) => logs.push(entry) });
  });

  afterAll(async () => {
    await host?.stop();
  });

  const invocations = (fn: string) => logs.filter((e) => e.msg === 'invocation' && e.function === fn);

  it('listens on a loopback port and lists every registration', () => {
    expect(host.url).toBe(`http://127.0.0.1:${host.port}/api`);
    expect(host.port).toBeGreaterThan(0);
    const byName = Object.fromEntries(host.functions.map((f) => [f.name, f]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'batchById',
        'batchLatest',
        'boom',
        'deleteItem',
        'echo',
        'files',
        'headed',
        'hooked',
        'itemById',
        'ping',
        'syncBatchWorker',
        'syncWorker',
        'teapot',
        'upload',
      ].sort(),
    );
    expect(byName.echo).toEqual({ name: 'echo', trigger: 'http', route: 'echo/{id}', methods: ['GET'] });
    expect(byName.ping).toEqual({ name: 'ping', trigger: 'http', route: 'ping', methods: ['GET', 'POST'] });
    expect(byName.syncWorker).toEqual({
      name: 'syncWorker',
      trigger: 'serviceBus',
      queueName: 'fieldsync-test-queue',
    });
    expect(byName.syncBatchWorker?.queueName).toBe('batch-one');
  });

  it('passes route params (decoded), repeated query values and headers to the handler', async () => {
    const res = await fetch(`${host.url}/echo/hello%20world?q=a&q=b&x=1`, {
      headers: { 'x-custom': 'abc', authorization: 'Bearer super-secret-token-123' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-request-id')).toBe('req-hello world');
    const body = await res.json();
    expect(body).toEqual({
      method: 'GET',
      url: `${host.url}/echo/hello%20world?q=a&q=b&x=1`,
      params: { id: 'hello world' },
      query: [
        ['q', 'a'],
        ['q', 'b'],
        ['x', '1'],
      ],
      custom: 'abc',
      functionName: 'echo',
      invocationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      triggerType: 'httpTrigger',
    });
  });

  it('logs one entry per invocation, with the request id and without headers', async () => {
    const before = invocations('echo').length;
    await (
      await fetch(`${host.url}/echo/log-check?token=abc`, {
        headers: { authorization: 'Bearer super-secret-token-123' },
      })
    ).text();
    const entries = invocations('echo');
    expect(entries.length).toBe(before + 1);
    expect(entries.at(-1)).toMatchObject({
      level: 'info',
      msg: 'invocation',
      function: 'echo',
      method: 'GET',
      path: '/api/echo/log-check',
      status: 200,
      requestId: 'req-log-check',
    });
    expect(typeof entries.at(-1)?.durationMs).toBe('number');
    // The handler's context.log call reaches the host log too.
    expect(logs.some((e) => e.msg === 'echo called' && e.function === 'echo' && e.level === 'info')).toBe(
      true,
    );
    const everything = JSON.stringify(logs);
    expect(everything).not.toContain('super-secret-token-123');
    expect(everything).not.toContain('token=abc');
  });

  it('delivers a gzip body byte-exact, keeping Content-Length and Content-Encoding', async () => {
    const payload = gzipSync(
      Buffer.from(JSON.stringify({ events: Array.from({ length: 200 }, (_, i) => ({ i })) })),
    );
    const res = await fetch(`${host.url}/upload`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: payload,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      length: payload.length,
      sha256: createHash('sha256').update(payload).digest('hex'),
      contentEncoding: 'gzip',
      contentLength: String(payload.length),
    });
  });

  it('answers 404 problem+json for a path no function serves', async () => {
    for (const path of ['/api/nothing-here', '/elsewhere/echo/1', '/api/echo/1/extra']) {
      const res = await fetch(`http://127.0.0.1:${host.port}${path}`);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      const problem = (await res.json()) as Problem;
      expect(problem).toMatchObject({
        type: 'urn:fieldsync:problem:not-found',
        title: 'Not Found',
        status: 404,
      });
      expect(typeof problem.detail).toBe('string');
    }
  });

  it('answers 405 with Allow when the path matches but the method does not', async () => {
    const res = await fetch(`${host.url}/items/5`, { method: 'PUT', body: '{}' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('DELETE, GET, OPTIONS');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ type: 'urn:fieldsync:problem:method-not-allowed', status: 405 });

    const ping = await fetch(`${host.url}/ping`, { method: 'DELETE' });
    expect(ping.status).toBe(405);
    expect(ping.headers.get('allow')).toBe('GET, OPTIONS, POST');
    // HEAD is served only where a function registers it (the Functions host adds nothing by itself).
    const head = await fetch(`${host.url}/items/5`, { method: 'HEAD' });
    expect(head.status).toBe(405);
    expect(head.headers.get('allow')).toBe('DELETE, GET, OPTIONS');
    expect(await head.text()).toBe('');
  });

  it('answers HEAD like GET (status, headers, Content-Length) without a body', async () => {
    const get = await fetch(`${host.url}/headed`);
    const getBody = await get.text();
    const head = await fetch(`${host.url}/headed`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect(head.headers.get('x-method')).toBe('HEAD'); // the handler ran, and saw HEAD
    expect(head.headers.get('content-type')).toBe(get.headers.get('content-type'));
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(getBody)));
    expect(get.headers.get('content-length')).toBe(String(Buffer.byteLength(getBody)));
    expect(head.headers.get('retry-after')).toBe('7');
    // A HEAD on a path nobody serves: the 404 headers, no body.
    const missing = await fetch(`${host.url}/nothing-here`, { method: 'HEAD' });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('');
  });

  it('answers OPTIONS 204 with Allow; no CORS headers when no origin is configured', async () => {
    const res = await fetch(`${host.url}/items/5`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'DELETE' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('allow')).toBe('DELETE, GET, OPTIONS');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('vary')).toBeNull();
    expect((await fetch(`${host.url}/nothing-here`, { method: 'OPTIONS' })).status).toBe(404);
  });

  describe('with CORS origins configured', () => {
    let cors: FunctionsHost;
    beforeAll(async () => {
      cors = await startFunctionsHost({
        port: 0,
        functionsEntry,
        settings,
        log: () => undefined,
        corsAllowedOrigins: ['http://localhost:*', 'https://app.example.com'],
      });
    });
    afterAll(async () => {
      await cors?.stop();
    });

    const preflight = (path: string, origin: string, method = 'GET', headers = 'authorization') =>
      fetch(`${cors.url}/${path}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          'access-control-request-headers': headers,
        },
      });

    it('answers a preflight from an allowed origin with what the path allows', async () => {
      for (const origin of ['http://localhost:5173', 'http://localhost', 'https://app.example.com']) {
        const res = await preflight('items/5', origin, 'DELETE');
        expect(res.status, origin).toBe(204);
        expect(res.headers.get('access-control-allow-origin')).toBe(origin);
        expect(res.headers.get('vary')).toBe('Origin');
        expect(res.headers.get('access-control-allow-methods')).toBe('DELETE, GET, OPTIONS');
        expect(res.headers.get('access-control-allow-headers')).toBe(
          'Authorization, Content-Type, Content-Encoding, Idempotency-Key, Prefer, X-Request-Id, X-Tenant-Id',
        );
        expect(Number(res.headers.get('access-control-max-age'))).toBeGreaterThan(0);
        expect(await res.text()).toBe('');
      }
    });

    it('gives another origin no CORS header at all (neighbours: other scheme, host, port pattern)', async () => {
      for (const origin of [
        'https://localhost:5173',
        'http://localhost.evil.example:5173',
        'http://app.example.com',
        'https://app.example.com:8443',
        'null',
      ]) {
        const res = await preflight('items/5', origin, 'DELETE');
        expect(res.status, origin).toBe(204);
        expect(res.headers.get('access-control-allow-origin'), origin).toBeNull();
        expect(res.headers.get('access-control-allow-methods'), origin).toBeNull();
        const get = await fetch(`${cors.url}/headed`, { headers: { origin } });
        expect(get.headers.get('access-control-allow-origin'), origin).toBeNull();
        expect(get.headers.get('access-control-expose-headers'), origin).toBeNull();
        expect(get.headers.get('vary'), origin).toBe('Origin, Accept-Language');
      }
    });

    it("marks actual answers (the function's, 404, 405, 500) for an allowed origin", async () => {
      const origin = 'http://localhost:4200';
      const ok = await fetch(`${cors.url}/headed`, { headers: { origin } });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('access-control-allow-origin')).toBe(origin);
      expect(ok.headers.get('vary')).toBe('Origin, Accept-Language');
      expect(ok.headers.get('access-control-expose-headers')).toContain('Retry-After');
      for (const [path, method, status] of [
        ['nothing-here', 'GET', 404],
        ['items/5', 'PUT', 405],
        ['boom', 'GET', 500],
      ] as const) {
        const res = await fetch(`${cors.url}/${path}`, { method, headers: { origin } });
        expect(res.status).toBe(status);
        expect(res.headers.get('access-control-allow-origin'), path).toBe(origin);
        expect(res.headers.get('access-control-expose-headers'), path).toContain('X-Request-Id');
        await res.text();
      }
    });
  });

  it('picks the function by method when two share a template', async () => {
    const get = await fetch(`${host.url}/items/5`);
    expect(await get.json()).toEqual({ id: 5 });
    const del = await fetch(`${host.url}/items/5`, { method: 'DELETE' });
    expect(del.status).toBe(204);
  });

  it('uses the function name as the default route, with GET and POST', async () => {
    for (const method of ['GET', 'POST']) {
      const res = await fetch(`${host.url}/ping`, { method });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('pong');
    }
    // Literal segments (prefix included) match case-insensitively; one trailing slash is fine.
    expect((await fetch(`http://127.0.0.1:${host.port}/API/Ping/`)).status).toBe(200);
  });

  it('prefers literal segments over parameters, whatever the registration order', async () => {
    expect(await (await fetch(`${host.url}/v1/sync/batches/latest`)).json()).toEqual({
      handler: 'batchLatest',
    });
    expect(await (await fetch(`${host.url}/v1/sync/batches/b-42`)).json()).toEqual({
      handler: 'batchById',
      batchId: 'b-42',
    });
  });

  it('applies the int constraint', async () => {
    expect((await fetch(`${host.url}/items/abc`)).status).toBe(404);
    expect((await fetch(`${host.url}/items/99999999999`)).status).toBe(404);
    expect(await (await fetch(`${host.url}/items/-7`)).json()).toEqual({ id: -7 });
  });

  it('matches a catch-all with slashes, or nothing', async () => {
    expect(await (await fetch(`${host.url}/files/a/b/c.txt`)).json()).toEqual({ rest: 'a/b/c.txt' });
    expect(await (await fetch(`${host.url}/files`)).json()).toEqual({ rest: null });
  });

  it('turns a throwing handler into a 500 problem without leaking the message', async () => {
    const res = await fetch(`${host.url}/boom`);
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({
      type: 'urn:fieldsync:problem:internal',
      title: 'Internal Server Error',
      status: 500,
    });
    expect(text).not.toContain('secret');
    expect(invocations('boom').at(-1)).toMatchObject({
      level: 'error',
      status: 500,
      error: 'boom: secret-connection-string-in-message',
    });
    expect(JSON.stringify(invocations('boom'))).not.toContain('    at ');
  });

  it('sends an HttpResponse instance as is', async () => {
    const res = await fetch(`${host.url}/teapot`);
    expect(res.status).toBe(418);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(await res.text()).toBe('short and stout');
  });

  it('runs preInvocation / postInvocation hooks around the handler', async () => {
    const res = await fetch(`${host.url}/hooked`);
    expect(res.headers.get('x-hooked')).toBe('pre');
    expect(await res.json()).toEqual({ hooked: false });
    const post = fixtureRecord().hookCalls.filter(
      (c) => c.hook === 'postInvocation' && c.functionName === 'hooked',
    );
    expect(post.at(-1)).toEqual({
      hook: 'postInvocation',
      functionName: 'hooked',
      hookData: { seenByPre: true },
      hadError: false,
    });
    expect(fixtureRecord().hookCalls.some((c) => c.hook === 'appStart')).toBe(true);
  });

  it('stop() closes keep-alive connections, runs appTerminate and frees the port', async () => {
    const second = await startFunctionsHost({ port: 0, functionsEntry, settings, log: () => undefined });
    // The entry was already imported in this process: the host still finds its functions.
    expect(second.functions.map((f) => f.name)).toEqual(host.functions.map((f) => f.name));
    const res = await fetch(`${second.url}/ping`); // fetch keeps the connection alive
    expect(await res.text()).toBe('pong');
    const terminatesBefore = fixtureRecord().hookCalls.filter((c) => c.hook === 'appTerminate').length;
    await second.stop();
    expect(fixtureRecord().hookCalls.filter((c) => c.hook === 'appTerminate').length).toBe(
      terminatesBefore + 1,
    );
    await expect(fetch(`${second.url}/ping`)).rejects.toThrow();
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(second.port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    await second.stop(); // idempotent
  });
});
