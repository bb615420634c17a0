import type { Session } from './auth.js';

/** A problem+json answer of the API (RFC 9457), with its JSON paths. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

let session: Session | undefined;
let base = '/api';

/** Sets who calls and where (once, at start-up). */
export function configureApi(apiBase: string, current: Session): void {
  base = apiBase;
  session = current;
}

/** Calls the API with the manager's Bearer token; JSON in and out; throws ApiError on a non-2xx answer. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (!session) throw new ApiError(401, 'not signed in');
  const response = await fetch(`${base}/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${await session.token()}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const problem = (parsed ?? {}) as {
      title?: string;
      detail?: string;
      errors?: { path: string; message: string }[];
    };
    throw new ApiError(
      response.status,
      `${response.status} ${problem.title ?? response.statusText}${problem.detail ? `: ${problem.detail}` : ''}`,
      problem.errors ?? [],
    );
  }
  return parsed as T;
}

/** A query string from the given parameters (empty ones left out). */
export function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(name, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
