import type { TokenCredential } from '@azure/identity';
import { BlobServiceClient } from '@azure/storage-blob';
import type { Config } from '../../config.js';

/** One BlobServiceClient per process: a connection string locally (Azurite), the managed identity in Azure. */
export function createBlobServiceClient(
  blob: Config['blob'],
  credential: () => TokenCredential,
): BlobServiceClient {
  return blob.connection.kind === 'connectionString'
    ? BlobServiceClient.fromConnectionString(blob.connection.connectionString)
    : new BlobServiceClient(blob.connection.endpoint, credential());
}
