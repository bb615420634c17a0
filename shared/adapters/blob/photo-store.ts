import { createHash } from 'node:crypto';
import {
  BlobSASPermissions,
  type BlobServiceClient,
  generateBlobSASQueryParameters,
  SASProtocol,
  StorageSharedKeyCredential,
  type UserDelegationKey,
} from '@azure/storage-blob';
import { DependencyUnavailableError } from '../../errors.js';
import type { PhotoBlob, PhotoLock, PhotoStore, SignedBlobUrl } from '../../usecases/ports/photos.js';

/** SAS URLs live at most this long (SPEC: ≤ 15 minutes). */
export const MAX_SAS_SECONDS = 15 * 60;
/** A user delegation key is asked for this long, and renewed when less than RENEW_BEFORE is left. */
const KEY_LIFETIME_MS = 60 * 60_000;
const RENEW_BEFORE_MS = 20 * 60_000;
/** Each Blob Storage call gives up after this long (the SDK's retries included). */
const CALL_TIMEOUT_MS = 10_000;

export interface BlobPhotoStoreOptions {
  /** The process's client (created lazily by the composition root). */
  service: () => BlobServiceClient;
  container: string;
  now?: () => Date;
}

const statusOf = (error: unknown): number | undefined => {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
};
const codeOf = (error: unknown): string | undefined => {
  const e = error as { code?: unknown; details?: { errorCode?: unknown } };
  const code = typeof e.details?.errorCode === 'string' ? e.details.errorCode : e.code;
  return typeof code === 'string' ? code : undefined;
};

/**
 * "Blob Storage cannot be used now" (unreachable, overloaded, timed out, or the app's identity is refused)
 * as opposed to an answer about the blob (404, 409, 412…).
 */
export function isBlobUnavailable(error: unknown): boolean {
  const status = statusOf(error);
  if (status === undefined || status === 0) return true;
  return status >= 500 || status === 408 || status === 429 || status === 401 || status === 403;
}

async function guardBlob<T>(fn: (abortSignal: AbortSignal) => Promise<T>): Promise<T> {
  try {
    return await fn(AbortSignal.timeout(CALL_TIMEOUT_MS));
  } catch (error) {
    if (isBlobUnavailable(error)) throw new DependencyUnavailableError('blob', 5, { cause: error });
    throw error;
  }
}

async function readAll(stream: NodeJS.ReadableStream | undefined, max: number): Promise<Uint8Array> {
  if (!stream) return new Uint8Array();
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(buffer);
    length += buffer.length;
    if (length >= max) break;
  }
  return new Uint8Array(Buffer.concat(chunks).subarray(0, max));
}

/**
 * Photos in Blob Storage. SAS URLs are signed with the account key of a connection string (Azurite, local)
 * or, with the managed identity (Azure, no keys), with a user delegation key that is cached for an hour
 * and renewed 20 minutes before it expires. HTTPS-only whenever the endpoint is HTTPS.
 */
export class BlobPhotoStore implements PhotoStore {
  private readonly now: () => Date;
  private key: { value: UserDelegationKey; expiresOn: number } | undefined;
  private renewing: Promise<{ value: UserDelegationKey; expiresOn: number }> | undefined;

  constructor(private readonly options: BlobPhotoStoreOptions) {
    this.now = options.now ?? (() => new Date());
  }

  private containerUrl: string | undefined;

  /** The blob's URL without building a client (signing 50 URLs must stay in the low milliseconds). */
  private blobUrl(blobName: string): string {
    this.containerUrl ??= this.options.service().getContainerClient(this.options.container).url;
    return `${this.containerUrl}/${blobName.split('/').map(encodeURIComponent).join('/')}`;
  }

  private blob(blobName: string) {
    return this.options.service().getContainerClient(this.options.container).getBlockBlobClient(blobName);
  }

  uploadUrl(blobName: string, options: { ttlSeconds?: number } = {}): Promise<SignedBlobUrl> {
    return this.sign(blobName, 'cw', options.ttlSeconds);
  }

  readUrl(blobName: string, options: { contentType: string; ttlSeconds?: number }): Promise<SignedBlobUrl> {
    return this.sign(blobName, 'r', options.ttlSeconds, options.contentType);
  }

  private async sign(
    blobName: string,
    permissions: 'cw' | 'r',
    ttlSeconds = MAX_SAS_SECONDS,
    contentType?: string,
  ): Promise<SignedBlobUrl> {
    const service = this.options.service();
    const now = this.now().getTime();
    // Whole seconds: a SAS carries its expiry to the second, and expiresAt must say exactly that.
    let expiresOn = new Date(
      Math.floor((now + Math.min(Math.max(ttlSeconds, 1), MAX_SAS_SECONDS) * 1000) / 1000) * 1000,
    );
    const values = {
      containerName: this.options.container,
      blobName,
      permissions: BlobSASPermissions.parse(permissions),
      protocol: service.url.startsWith('https:') ? SASProtocol.Https : SASProtocol.HttpsAndHttp,
      ...(contentType ? { contentType, contentDisposition: 'inline' } : {}),
    };
    let query: string;
    if (service.credential instanceof StorageSharedKeyCredential) {
      query = generateBlobSASQueryParameters({ ...values, expiresOn }, service.credential).toString();
    } else {
      const key = await this.delegationKey();
      // A SAS cannot outlive the key that signs it.
      if (key.expiresOn < expiresOn.getTime()) expiresOn = new Date(Math.floor(key.expiresOn / 1000) * 1000);
      query = generateBlobSASQueryParameters(
        { ...values, expiresOn },
        key.value,
        service.accountName,
      ).toString();
    }
    return { url: `${this.blobUrl(blobName)}?${query}`, expiresAt: expiresOn.toISOString() };
  }

  /** The cached user delegation key; renewed (once, however many callers wait) when it is running out. */
  private async delegationKey(): Promise<{ value: UserDelegationKey; expiresOn: number }> {
    const now = this.now().getTime();
    const cached = this.key;
    if (cached && cached.expiresOn - now > RENEW_BEFORE_MS) return cached;
    this.renewing ??= (async () => {
      try {
        const startsOn = new Date(now - 5 * 60_000);
        const expiresOn = new Date(now + KEY_LIFETIME_MS);
        const value = await guardBlob((abortSignal) =>
          this.options.service().getUserDelegationKey(startsOn, expiresOn, { abortSignal }),
        );
        this.key = { value, expiresOn: expiresOn.getTime() };
        return this.key;
      } finally {
        this.renewing = undefined;
      }
    })();
    try {
      return await this.renewing;
    } catch (error) {
      // Renewal failed: the old key signs (shorter) URLs while it has more than a minute left.
      if (cached && cached.expiresOn - now > 60_000) return cached;
      throw error;
    }
  }

  async lock(blobName: string): Promise<PhotoLock> {
    try {
      const { leaseId } = await guardBlob((abortSignal) =>
        this.blob(blobName).getBlobLeaseClient().acquireLease(-1, { abortSignal }),
      );
      return { found: true, leaseId };
    } catch (error) {
      if (statusOf(error) === 404) return { found: false };
      if (statusOf(error) === 409 && codeOf(error) === 'LeaseAlreadyPresent') {
        return { found: true, leaseId: undefined };
      }
      throw error;
    }
  }

  async inspect(blobName: string, headBytes: number): Promise<PhotoBlob | undefined> {
    try {
      const response = await guardBlob((abortSignal) =>
        this.blob(blobName).download(0, headBytes, { abortSignal }),
      );
      const total = /\/(\d+)$/.exec(response.contentRange ?? '')?.[1];
      const head = await readAll(response.readableStreamBody, headBytes);
      return { sizeBytes: total !== undefined ? Number(total) : (response.contentLength ?? 0), head };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      // A ranged read of an empty blob is refused: it exists and holds nothing.
      if (statusOf(error) === 416) return { sizeBytes: 0, head: new Uint8Array() };
      throw error;
    }
  }

  async sha256(blobName: string): Promise<string | undefined> {
    try {
      const response = await guardBlob((abortSignal) =>
        this.blob(blobName).download(0, undefined, { abortSignal }),
      );
      const hash = createHash('sha256');
      if (response.readableStreamBody) {
        for await (const chunk of response.readableStreamBody) hash.update(chunk);
      }
      return hash.digest('hex');
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async unlock(blobName: string): Promise<void> {
    try {
      // Break period 0: the lease ends now, and breaking needs no lease id (a lock of an earlier attempt).
      await guardBlob((abortSignal) =>
        this.blob(blobName).getBlobLeaseClient().breakLease(0, { abortSignal }),
      );
    } catch (error) {
      // No blob, or no lease on it: already unlocked.
      if (statusOf(error) === 404 || statusOf(error) === 409) return;
      throw error;
    }
  }

  async discard(blobName: string, leaseId: string | undefined): Promise<void> {
    await guardBlob((abortSignal) =>
      this.blob(blobName).deleteIfExists({ abortSignal, ...(leaseId ? { conditions: { leaseId } } : {}) }),
    );
  }

  async markAttached(blobName: string, leaseId: string | undefined): Promise<void> {
    try {
      await guardBlob((abortSignal) =>
        this.blob(blobName).setTags(
          { state: 'attached' },
          { abortSignal, ...(leaseId ? { conditions: { leaseId } } : {}) },
        ),
      );
    } catch (error) {
      // Locked by an earlier attach, which tagged it then; without its lease id there is nothing to add.
      if (!leaseId && statusOf(error) === 412) return;
      throw error;
    }
  }

  async markAwaiting(blobName: string): Promise<'tagged' | 'missing' | 'attached'> {
    const blob = this.blob(blobName);
    const leased = async () => {
      const properties = await guardBlob((abortSignal) => blob.getProperties({ abortSignal }));
      return properties.leaseState === 'leased';
    };
    try {
      if (await leased()) return 'attached';
      await guardBlob((abortSignal) => blob.setTags({ state: 'awaiting' }, { abortSignal }));
      // An attach locks the blob before it tags it: if one locked it meanwhile, its tag must win.
      if (await leased()) {
        await this.markAttached(blobName, undefined);
        return 'attached';
      }
      return 'tagged';
    } catch (error) {
      if (statusOf(error) === 404) return 'missing';
      if (statusOf(error) === 412) return 'attached';
      throw error;
    }
  }

  async put(blobName: string, bytes: Uint8Array, contentType: string): Promise<'stored' | 'locked'> {
    try {
      await guardBlob((abortSignal) =>
        this.blob(blobName).uploadData(bytes, {
          abortSignal,
          blobHTTPHeaders: { blobContentType: contentType },
        }),
      );
      return 'stored';
    } catch (error) {
      // A leased blob refuses a write without its lease id: an attach locked it (docs/photos.md).
      if (statusOf(error) === 412) return 'locked';
      throw error;
    }
  }
}
