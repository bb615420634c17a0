import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';

let credential: TokenCredential | undefined;

/** One credential per process: the app's user-assigned managed identity in Azure, developer login elsewhere. */
export function azureCredential(managedIdentityClientId: string | undefined): TokenCredential {
  credential ??= managedIdentityClientId
    ? new DefaultAzureCredential({ managedIdentityClientId })
    : new DefaultAzureCredential();
  return credential;
}
