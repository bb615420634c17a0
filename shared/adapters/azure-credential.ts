import {
  type AccessToken,
  DefaultAzureCredential,
  type GetTokenOptions,
  ManagedIdentityCredential,
  type TokenCredential,
} from '@azure/identity';
import { DependencyUnavailableError } from '../errors.js';

let credential: TokenCredential | undefined;

/**
 * One credential per process. With a client id (AZURE_CLIENT_ID, set by Bicep to the app's user-assigned
 * identity) it is exactly that ManagedIdentityCredential: in Azure DefaultAzureCredential would try a chain
 * (environment, workload identity, managed identity, ...) whose first success may be another principal, and
 * whose failures are slower and harder to read. Without one (a developer machine, the operator CLIs) it is
 * DefaultAzureCredential, i.e. the developer's Azure CLI login.
 *
 * Either way a failure to get a token becomes DependencyUnavailableError('entra-id'): the caller's request
 * was fine, the identity endpoint or Entra ID was not, so it is a 503 with Retry-After, never a 500.
 */
export function azureCredential(managedIdentityClientId: string | undefined): TokenCredential {
  credential ??= unavailableOnFailure(chooseCredential(managedIdentityClientId));
  return credential;
}

/** The credential azureCredential wraps: visible so a test can show which one production gets. */
export function chooseCredential(managedIdentityClientId: string | undefined): TokenCredential {
  return managedIdentityClientId
    ? new ManagedIdentityCredential({ clientId: managedIdentityClientId })
    : new DefaultAzureCredential();
}

/** Wraps a credential so that getToken failures are DependencyUnavailableError (cause: the original). */
export function unavailableOnFailure(inner: TokenCredential, dependency = 'entra-id'): TokenCredential {
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      try {
        return await inner.getToken(scopes, options);
      } catch (error) {
        if (error instanceof DependencyUnavailableError) throw error;
        throw new DependencyUnavailableError(dependency, 5, { cause: error });
      }
    },
  };
}

const CREDENTIAL_ERROR_NAMES = new Set([
  'CredentialUnavailableError',
  'AuthenticationError',
  'AggregateAuthenticationError',
]);

/**
 * True when an error, or any error in its `cause` chain, is a failure to get a token (ours, wrapped above,
 * or @azure/identity's own): for SDKs that wrap the credential's error in their own.
 */
export function isCredentialFailure(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof DependencyUnavailableError || CREDENTIAL_ERROR_NAMES.has(e.name)) return true;
  }
  return false;
}
