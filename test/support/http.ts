import { randomUUID } from 'node:crypto';
import azureFunctions, {
  type HttpRequest as HttpRequestType,
  type HttpResponseInit,
  type InvocationContext as InvocationContextType,
} from '@azure/functions';

// The package is CommonJS; under plain Node ESM only its default export carries these classes.
const { HttpRequest, InvocationContext } = azureFunctions;

export interface CallOptions {
  method?: string;
  url?: string;
  token?: string;
  headers?: Record<string, string>;
  params?: Record<string, string>;
  json?: unknown;
  body?: string | Buffer;
}

/** Calls a function handler in-process with a real HttpRequest, as the Functions host would. */
export async function call(
  handler: (request: HttpRequestType, context: InvocationContextType) => Promise<HttpResponseInit>,
  options: CallOptions = {},
): Promise<{ status: number; headers: Record<string, string>; body: unknown; text: string }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: Buffer | undefined;
  if (options.json !== undefined) {
    body = Buffer.from(JSON.stringify(options.json));
    headers['content-type'] ??= 'application/json';
  } else if (options.body !== undefined) {
    body = Buffer.from(options.body);
  }
  const request = new HttpRequest({
    method: options.method ?? 'GET',
    url: options.url ?? 'http://localhost/api/test',
    headers,
    params: options.params ?? {},
    ...(body ? { body: { bytes: body } } : {}),
  });
  const response = await handler(
    request,
    new InvocationContext({ invocationId: randomUUID(), functionName: 'test' }),
  );
  const text =
    typeof response.body === 'string'
      ? response.body
      : response.body === undefined
        ? ''
        : String(response.body);
  const responseHeaders = Object.fromEntries(
    Object.entries((response.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
  );
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status ?? 200, headers: responseHeaders, body: parsed, text };
}
