import type { TokenCredential } from '@azure/identity';
import { BlobServiceClient, type UserDelegationKey } from '@azure/storage-blob';
import { describe, expect, it, vi } from 'vitest';
import { BlobPhotoStore } from '../../shared/adapters/blob/photo-store.js';
import { photoBlobName } from '../../shared/contracts/photos.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import { matchesContentType } from '../../shared/usecases/photos.js';

// The Azure path: the managed identity signs user delegation SAS URLs. No storage account is reached: the
// delegation key request is stubbed, everything else (signing, URL, caching) is the real code.
const credential: TokenCredential = {
  getToken: async () => ({ token: 'stub', expiresOnTimestamp: Date.now() + 3_600_000 }),
};

function delegationStore(start: number) {
  let now = start;
  const service = new BlobServiceClient('https://fieldsyncphotos.blob.core.windows.net', credential);
  const keys = vi.spyOn(service, 'getUserDelegationKey').mockImplementation(async (startsOn, expiresOn) => {
    const key: UserDelegationKey = {
      signedObjectId: '11111111-1111-1111-1111-111111111111',
      signedTenantId: '22222222-2222-2222-2222-222222222222',
      signedStartsOn: startsOn as unknown as Date,
      signedExpiresOn: expiresOn as unknown as Date,
      signedService: 'b',
      signedVersion: '2025-01-05',
      value: Buffer.alloc(32, 7).toString('base64'),
    };
    return key as never;
  });
  const store = new BlobPhotoStore({
    service: () => service,
    container: 'photos',
    now: () => new Date(now),
  });
  return { store, keys, advance: (minutes: number) => (now += minutes * 60_000) };
}

describe('user delegation SAS (Azure, managed identity)', () => {
  const start = Date.parse('2025-10-25T08:00:00.000Z');
  const blobName = photoBlobName('acme', '8d6f3c1e-4a4b-4c1d-9d55-0f5f3e1b2a10', 'image/jpeg');

  it('signs HTTPS-only cw URLs for one blob, ≤ 15 minutes, with one cached key for many URLs', async () => {
    const { store, keys } = delegationStore(start);
    const urls = await Promise.all([1, 2, 3].map(() => store.uploadUrl(blobName)));
    expect(keys).toHaveBeenCalledTimes(1);
    const [startsOn, expiresOn] = keys.mock.calls[0] as unknown as [Date, Date];
    expect(startsOn.getTime()).toBeLessThanOrEqual(start);
    expect(expiresOn.getTime()).toBe(start + 60 * 60_000);
    const url = new URL(urls[0]?.url ?? '');
    expect(url.origin + url.pathname).toBe(
      `https://fieldsyncphotos.blob.core.windows.net/photos/${blobName}`,
    );
    expect(url.searchParams.get('sp')).toBe('cw');
    expect(url.searchParams.get('sr')).toBe('b');
    expect(url.searchParams.get('spr')).toBe('https');
    expect(url.searchParams.get('skoid')).toBe('11111111-1111-1111-1111-111111111111');
    expect(url.searchParams.get('sig')).toBeTruthy();
    expect(Date.parse(url.searchParams.get('se') ?? '')).toBe(start + 15 * 60_000);
    expect(urls[0]?.expiresAt).toBe(new Date(start + 15 * 60_000).toISOString());

    const read = new URL((await store.readUrl(blobName, { contentType: 'image/jpeg', ttlSeconds: 300 })).url);
    expect(read.searchParams.get('sp')).toBe('r');
    expect(read.searchParams.get('rsct')).toBe('image/jpeg');
    expect(Date.parse(read.searchParams.get('se') ?? '')).toBe(start + 5 * 60_000);
    // Asking for more than 15 minutes still gives 15.
    const long = await store.uploadUrl(blobName, { ttlSeconds: 3600 });
    expect(Date.parse(long.expiresAt)).toBe(start + 15 * 60_000);
    expect(keys).toHaveBeenCalledTimes(1);
  });

  it('renews the key when less than 20 minutes are left, and rides out a failed renewal on the old key', async () => {
    const { store, keys, advance } = delegationStore(start);
    await store.uploadUrl(blobName);
    advance(39); // 21 minutes left: the key is kept
    await store.uploadUrl(blobName);
    expect(keys).toHaveBeenCalledTimes(1);
    advance(2); // 19 minutes left: renewed
    await store.uploadUrl(blobName);
    expect(keys).toHaveBeenCalledTimes(2);

    // The next renewal (at +81 min) fails: the old key (valid to +101) still signs.
    advance(40);
    keys.mockRejectedValueOnce(Object.assign(new Error('down'), { statusCode: 503 }));
    const url = await store.uploadUrl(blobName);
    expect(keys).toHaveBeenCalledTimes(3);
    expect(Date.parse(url.expiresAt)).toBe(start + 96 * 60_000);
    // At +100.5 min with the service still down: no key left to sign with.
    advance(19.5);
    keys.mockRejectedValueOnce(Object.assign(new Error('down'), { statusCode: 503 }));
    await expect(store.uploadUrl(blobName)).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});

describe('magic numbers', () => {
  const bytes = (...parts: (number[] | string)[]) =>
    new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));

  it('recognises JPEG, PNG, WEBP and HEIC headers, and nothing else', () => {
    expect(matchesContentType(bytes([0xff, 0xd8, 0xff, 0xe1]), 'image/jpeg')).toBe(true);
    expect(matchesContentType(bytes([0xff, 0xd8, 0x00]), 'image/jpeg')).toBe(false);
    expect(matchesContentType(bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a]), 'image/png')).toBe(true);
    expect(matchesContentType(bytes([0x89], 'PNG', [0x0d, 0x0a, 0x1a, 0x0a]), 'image/jpeg')).toBe(false);
    expect(matchesContentType(bytes('RIFF', [1, 2, 3, 4], 'WEBPVP8 '), 'image/webp')).toBe(true);
    expect(matchesContentType(bytes('RIFF', [1, 2, 3, 4], 'WAVEfmt '), 'image/webp')).toBe(false);
    expect(matchesContentType(bytes([0, 0, 0, 24], 'ftypheic', [0, 0, 0, 0], 'mif1heic'), 'image/heic')).toBe(
      true,
    );
    expect(matchesContentType(bytes([0, 0, 0, 24], 'ftypmif1', [0, 0, 0, 0], 'mif1heic'), 'image/heic')).toBe(
      true,
    );
    // An MP4 (ftyp, but video brands) is not a HEIC image.
    expect(matchesContentType(bytes([0, 0, 0, 24], 'ftypisom', [0, 0, 2, 0], 'isomiso2'), 'image/heic')).toBe(
      false,
    );
    expect(matchesContentType(bytes([0xff, 0xd8]), 'image/jpeg')).toBe(false);
    expect(matchesContentType(new Uint8Array(), 'image/heic')).toBe(false);
  });
});
