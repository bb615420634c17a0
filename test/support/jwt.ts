/** Builds a JWT by hand, for tokens a library would refuse to make (alg none, tampered payloads). */
export const b64url = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

export function unsignedToken(
  payload: Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'none', typ: 'JWT' },
): string {
  return `${b64url(header)}.${b64url(payload)}.`;
}

/** Swaps the payload of a signed token and keeps its signature. */
export function tamper(
  token: string,
  change: (payload: Record<string, unknown>) => Record<string, unknown>,
): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  return `${header}.${b64url(change(claims))}.${signature}`;
}
