// `npm run smoke -- --base-url https://<app>.azurewebsites.net/api --token <jwt>`: a quick end-to-end check of a
// deployed (or local) fieldsync: health, a push of 2 valid events and 1 invalid one from a throw-away device,
// the batch settling, the device's status, and a pull page. Prints PASS/FAIL/SKIP per step; exits 1 on a FAIL.
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

const usage = `usage: npm run smoke -- --base-url <url ending in /api> --token <jwt> [--timeout <seconds, default 30>]
Runs against a deployed or local app: GET health, POST v1/sync/batches (device smoke-<timestamp>: 2 notes
and 1 invalid event), polls the batch until COMPLETED, GET v1/sync/status, GET v1/sync/pull (skipped with a
note when the route answers 404). The token's tenant must be provisioned; the two notes stay in its data.`;

type Outcome = 'PASS' | 'FAIL' | 'SKIP';

interface Response {
  status: number;
  body: unknown;
  text: string;
}

class Smoke {
  private failures = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  get failed(): boolean {
    return this.failures > 0;
  }

  report(outcome: Outcome, step: string, detail: string): void {
    if (outcome === 'FAIL') this.failures += 1;
    process.stdout.write(`${outcome.padEnd(4)} ${step.padEnd(8)} ${detail}\n`);
  }

  url(path: string): string {
    // statusUrl is an absolute path (/api/v1/…); every other path is relative to the base URL.
    return path.startsWith('/') ? new URL(path, this.baseUrl).toString() : `${this.baseUrl}/${path}`;
  }

  async request(method: string, path: string, json?: unknown): Promise<Response> {
    const response = await fetch(this.url(path), {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        'x-request-id': `smoke-${randomUUID()}`,
        ...(json === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(json === undefined ? {} : { body: JSON.stringify(json) }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: response.status, body, text };
  }

  /** Runs one step; an exception is its FAIL. Returns what the step returns, or undefined when it failed. */
  async step<T>(name: string, run: () => Promise<{ outcome: Outcome; detail: string; value?: T }>) {
    const started = Date.now();
    try {
      const { outcome, detail, value } = await run();
      this.report(outcome, name, `${detail} (${Date.now() - started} ms)`);
      return outcome === 'FAIL' ? undefined : value;
    } catch (error) {
      this.report('FAIL', name, error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }
}

const brief = (r: Response) => `HTTP ${r.status}: ${r.text.replace(/\s+/g, ' ').slice(0, 300)}`;
const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis));

interface Accepted {
  batchId: string;
  accepted: number;
  rejected: { code: string }[];
  statusUrl: string;
}

interface BatchBody {
  status: string;
  counts: Record<string, number>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'base-url': { type: 'string' },
      token: { type: 'string' },
      timeout: { type: 'string', default: '30' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const baseUrl = values['base-url']?.replace(/\/+$/, '');
  const timeoutSeconds = Number(values.timeout);
  if (!baseUrl || !/^https?:\/\//.test(baseUrl) || !values.token || !(timeoutSeconds > 0)) {
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }
  const smoke = new Smoke(baseUrl, values.token);
  const deviceId = `smoke-${Date.now()}`;
  process.stdout.write(`fieldsync smoke test against ${baseUrl}, device ${deviceId}\n`);

  await smoke.step('health', async () => {
    const r = await smoke.request('GET', 'health');
    const body = r.body as { status?: string; version?: string } | undefined;
    return r.status === 200 && body?.status === 'ok'
      ? { outcome: 'PASS', detail: `ok, version ${body.version ?? '?'}` }
      : { outcome: 'FAIL', detail: brief(r) };
  });

  const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
  const note = (text: string, minutes: number) => ({
    id: randomUUID(),
    type: 'NOTES_ADDED',
    occurredAt: minutesAgo(minutes),
    payload: { target: { type: 'WELL', id: deviceId }, text },
  });
  const accepted = await smoke.step<Accepted>('push', async () => {
    const r = await smoke.request('POST', 'v1/sync/batches', {
      deviceId,
      deviceInfo: { platform: 'web', appVersion: 'smoke' },
      events: [
        note('fieldsync smoke test 1/2', 2),
        { id: randomUUID(), type: 'NOTES_ADDED', occurredAt: minutesAgo(1), payload: {} },
        note('fieldsync smoke test 2/2', 1),
      ],
    });
    const body = r.body as Accepted | undefined;
    if (r.status !== 202 || !body) return { outcome: 'FAIL', detail: brief(r) };
    const ok =
      body.accepted === 2 && body.rejected.length === 1 && body.rejected[0]?.code === 'INVALID_PAYLOAD';
    return ok
      ? {
          outcome: 'PASS',
          detail: `batch ${body.batchId}: 2 accepted, 1 rejected (INVALID_PAYLOAD)`,
          value: body,
        }
      : { outcome: 'FAIL', detail: `expected 2 accepted and 1 INVALID_PAYLOAD: ${brief(r)}` };
  });

  if (accepted) {
    await smoke.step('batch', async () => {
      const deadline = Date.now() + timeoutSeconds * 1000;
      for (;;) {
        const r = await smoke.request('GET', accepted.statusUrl);
        const body = r.body as BatchBody | undefined;
        if (r.status !== 200 || !body) return { outcome: 'FAIL', detail: brief(r) };
        if (body.status === 'COMPLETED') {
          const c = body.counts;
          const ok = c.applied === 2 && c.rejected === 1 && c.failed === 0;
          const detail = `COMPLETED: ${Object.entries(c)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}`;
          return { outcome: ok ? 'PASS' : 'FAIL', detail };
        }
        if (Date.now() > deadline) {
          return { outcome: 'FAIL', detail: `still ${body.status} after ${timeoutSeconds} s` };
        }
        await sleep(500);
      }
    });
  } else {
    smoke.report('SKIP', 'batch', 'the push failed');
  }

  await smoke.step('status', async () => {
    const r = await smoke.request('GET', `v1/sync/status?deviceId=${encodeURIComponent(deviceId)}`);
    const body = r.body as
      { deviceId?: string; pendingEvents?: number; lastSyncAt?: string | null } | undefined;
    if (r.status !== 200 || body?.deviceId !== deviceId) return { outcome: 'FAIL', detail: brief(r) };
    return {
      outcome: 'PASS',
      detail: `pendingEvents ${body.pendingEvents ?? '?'}, lastSyncAt ${body.lastSyncAt ?? 'never'}`,
    };
  });

  await smoke.step('pull', async () => {
    const r = await smoke.request('GET', `v1/sync/pull?deviceId=${encodeURIComponent(deviceId)}&limit=10`);
    if (r.status === 404) {
      return { outcome: 'SKIP', detail: 'GET v1/sync/pull answered 404: the route is not deployed' };
    }
    const body = r.body as { hasMore?: unknown; serverTime?: unknown; wells?: unknown[] } | undefined;
    if (r.status !== 200 || typeof body?.hasMore !== 'boolean') return { outcome: 'FAIL', detail: brief(r) };
    return {
      outcome: 'PASS',
      detail: `${body.wells?.length ?? 0} wells on the first page, hasMore ${String(body.hasMore)}`,
    };
  });

  process.stdout.write(smoke.failed ? 'smoke test FAILED\n' : 'smoke test passed\n');
  process.exit(smoke.failed ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
