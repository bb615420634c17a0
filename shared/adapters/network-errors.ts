/** Node socket error codes that mean "the service is out of reach right now", for every adapter. */
export const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
]);

export const isNetworkErrorCode = (code: unknown): boolean =>
  typeof code === 'string' && NETWORK_ERROR_CODES.has(code);
