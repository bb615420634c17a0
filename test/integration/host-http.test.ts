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
    expect(res.headers.get('allow')).toBe('DELETE, GET');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({ type: 'urn:fieldsync:problem:method-not-allowed', status: 405 });

    const ping = await fetch(`${host.url}/ping`, { method: 'DELETE' });
    expect(ping.status).toBe(405);
    expect(ping.headers.get('allow')).toBe('GET, POST');
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
