import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { CosmosClient, type Database } from '@azure/cosmos';
import type { TokenCredential } from '@azure/identity';
import type { Config } from '../../config.js';
import { DependencyUnavailableError } from '../../errors.js';
import { isNetworkErrorCode } from '../network-errors.js';
import { isCredentialFailure } from '../azure-credential.js';

/** Parses `AccountEndpoint=…;AccountKey=…;` (the emulator and Azure portal form). */
export function parseCosmosConnectionString(value: string): { endpoint: string; key: string } {
  const parts = new Map(
    value
      .split(';')
      .filter(Boolean)
      .map((pair) => {
        const at = pair.indexOf('=');
        return [pair.slice(0, at).trim().toLowerCase(), pair.slice(at + 1).trim()] as const;
      }),
  );
  const endpoint = parts.get('accountendpoint');
  const key = parts.get('accountkey');
  if (!endpoint || !key) throw new Error('CosmosConnection must contain AccountEndpoint and AccountKey');
  return { endpoint, key };
}

/** An agent that trusts exactly one extra certificate (a local emulator's), for one client. */
export const createCosmosHttpsAgent = (caCertFile: string): Agent =>
  new Agent({ ca: readFileSync(caCertFile), keepAlive: true });

/**
 * One CosmosClient per process. A local emulator's self-signed certificate is trusted for this client
 * only (its own https.Agent), never by turning TLS checks off for the process.
 */
export function createCosmosDatabase(cosmos: Config['cosmos'], credential: () => TokenCredential): Database {
  const agent = cosmos.caCertFile ? createCosmosHttpsAgent(cosmos.caCertFile) : undefined;
  const auth =
    cosmos.connection.kind === 'connectionString'
      ? parseCosmosConnectionString(cosmos.connection.connectionString)
      : { endpoint: cosmos.connection.endpoint, aadCredentials: credential() };
  const client = new CosmosClient({
    ...auth,
    ...(agent ? { agent } : {}),
    // Emulators answer on one address only; do not follow the account's advertised regions.
    connectionPolicy: { enableEndpointDiscovery: !cosmos.caCertFile, requestTimeout: 5000 },
  });
  return client.database(cosmos.database);
}

/** True when a Cosmos error means "not reachable or overloaded" rather than a request fault. */
export function isCosmosUnavailable(error: unknown): boolean {
  // The SDK asks the credential for a token per request; a failure there is Entra ID's, not the request's.
  if (isCredentialFailure(error)) return true;
  const e = error as { code?: unknown; statusCode?: unknown; name?: unknown };
  const status =
    typeof e.code === 'number' ? e.code : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status !== undefined) return status === 408 || status === 429 || status === 503 || status >= 500;
  return isNetworkErrorCode(e.code) || e.name === 'TimeoutError' || e.name === 'AbortError';
}

export async function guardCosmos<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isCosmosUnavailable(error)) throw new DependencyUnavailableError('cosmos', 5, { cause: error });
    throw error;
  }
}
