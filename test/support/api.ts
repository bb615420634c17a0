import { inject } from 'vitest';
import type { BatchOutcome } from '../../shared/contracts/sync.js';

const parse = (text: string) => {
  try {
    return text ? JSON.parse(text) : undefined; // any: a test reads the JSON it expects
  } catch {
    return undefined;
  }
};

/**
 * Calls the local Functions host over real HTTP (the host the global setup started): `path` is relative to
 * its /api base, e.g. `v1/sync/batches`. A `body` is sent as application/json (a string or Buffer as it is, anything else as JSON);
 * `headers` may override the content type.
 * Returns the status, the headers (lower-case names), the parsed JSON body (undefined when not JSON) and the text.
 */
export async function api(
  token: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${inject('hostUrl')}/${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined
      ? { body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) }
      : {}),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: Object.fromEntries(response.headers) as Record<string, string>,
    body: parse(text),
    text,
  };
}

/** Polls until `check` holds (a condition, never a fixed sleep); throws naming `what` after the timeout. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMillis = 30_000) {
  const deadline = Date.now() + timeoutMillis;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Pushes a batch over HTTP and returns its settled outcome: `Prefer: wait=20` first, and when the shared host's
 * processor is busy (202, the SPEC's fallback) the batch is polled until COMPLETED — so a test never depends on
 * the processor being idle. Fails the test on any other status.
 */
export async function pushSettled(
  token: string,
  deviceId: string,
  events: unknown[],
  timeoutMillis = 60_000,
): Promise<BatchOutcome> {
  const response = await api(token, 'POST', 'v1/sync/batches', { deviceId, events }, { prefer: 'wait=20' });
  if (response.status === 200) return response.body as BatchOutcome;
  if (response.status !== 202) {
    throw new Error(`push answered ${response.status}, expected 200 or 202: ${response.text}`);
  }
  const batchId = (response.body as { batchId: string }).batchId;
  let outcome: BatchOutcome | undefined;
  await until(
    `batch ${batchId} to complete`,
    async () => {
      outcome = (await api(token, 'GET', `v1/sync/batches/${batchId}`)).body as BatchOutcome;
      return outcome?.status === 'COMPLETED';
    },
    timeoutMillis,
  );
  return outcome as BatchOutcome;
}
