/**
 * Ports: photo blobs (Blob Storage) and photo records (Postgres).
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
import type { Tenant } from './tenancy.js';

/** A time-limited URL to one blob (a SAS). */
export interface SignedBlobUrl {
  url: string;
  expiresAt: string;
}

/** What an uploaded photo blob holds: its size and its first bytes. */
export interface PhotoBlob {
  sizeBytes: number;
  head: Uint8Array;
}

/**
 * A photo blob locked (leased) for its check, so its bytes cannot change under the check or after the
 * attach. `leaseId` is undefined when an earlier attach had locked it already.
 */
export type PhotoLock = { found: false } | { found: true; leaseId: string | undefined };

/** Photo blobs (Blob Storage, the photos container): SAS URLs and checks of what devices uploaded. */
export interface PhotoStore {
  /** A SAS URL allowing create and write (`cw`) of this blob only; ttlSeconds ≤ 900 (default 900). */
  uploadUrl(blobName: string, options?: { ttlSeconds?: number }): Promise<SignedBlobUrl>;
  /** A read-only (`r`) SAS URL of this blob, served with the given content type; ttlSeconds ≤ 900. */
  readUrl(blobName: string, options: { contentType: string; ttlSeconds?: number }): Promise<SignedBlobUrl>;
  /** Locks the blob against writes (an infinite lease); found: false when there is no such blob. */
  lock(blobName: string): Promise<PhotoLock>;
  /** The blob's size and first `headBytes` bytes (one ranged read); undefined when there is no such blob. */
  inspect(blobName: string, headBytes: number): Promise<PhotoBlob | undefined>;
  /** The sha256 (hex) of the whole blob; undefined when there is no such blob. */
  sha256(blobName: string): Promise<string | undefined>;
  /**
   * Unlocks a blob (breaks its lease, whoever holds it) whose attach did not happen, so its upload URL
   * works again. No blob, or no lease: nothing to do.
   */
  unlock(blobName: string): Promise<void>;
  /** Deletes a blob that failed its check (breaking the lock when `leaseId` is given). */
  discard(blobName: string, leaseId: string | undefined): Promise<void>;
  /** Tags the blob `state=attached` (the lifecycle rule keeps it). */
  markAttached(blobName: string, leaseId: string | undefined): Promise<void>;
  /**
   * Tags an unlocked blob `state=awaiting` (the lifecycle rule deletes it): 'missing' when there is no
   * blob, 'attached' when it is locked by an attach (left alone).
   */
  markAwaiting(blobName: string): Promise<'tagged' | 'missing' | 'attached'>;
  /**
   * Writes the bytes as the blob (a photo sent inline, compat dialect 003), as a device's PUT to its upload
   * URL would: 'locked' when an attach has locked the blob (its verified bytes stay as they are).
   */
  put(blobName: string, bytes: Uint8Array, contentType: string): Promise<'stored' | 'locked'>;
}

export interface PhotoRecord {
  photoId: string;
  blobName: string;
  contentType: string;
  sizeBytes: number;
  sha256: string | null;
  status: 'AWAITING_UPLOAD' | 'ATTACHED';
  target: { type: string; id: string } | null;
  takenAt: string | null;
  deviceId: string;
  userId: string;
  createdAt: string;
  updatedAt: string;
}

/** The tenant's photo rows (Postgres `photos`): upload URLs handed out, and attached photos. */
export interface PhotoRecords {
  /**
   * Records the photos AWAITING_UPLOAD for a device and user (upsert by photo id, one statement). Photos
   * already ATTACHED stay so and are returned.
   */
  recordAwaiting(
    tenant: Tenant,
    photos: { photoId: string; blobName: string; contentType: string; sizeBytes: number }[],
    by: { deviceId: string; userId: string },
  ): Promise<{ alreadyAttached: { photoId: string; blobName: string }[] }>;
  get(tenant: Tenant, photoId: string): Promise<PhotoRecord | undefined>;
  /** Photos still AWAITING_UPLOAD whose last URL was handed out before `before`, not swept yet. */
  staleAwaiting(
    tenant: Tenant,
    before: Date,
    limit: number,
  ): Promise<{ photoId: string; blobName: string }[]>;
  /** Notes that these photos' blobs were handed to the lifecycle rule (so the sweep skips them next time). */
  markSwept(tenant: Tenant, photoIds: string[]): Promise<void>;
}
