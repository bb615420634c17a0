import { inject } from 'vitest';

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
