import type pg from 'pg';
import type { PhotoRecord, PhotoRecords } from '../../usecases/ports/photos.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import { guardPostgres } from './connection.js';
import { iso, isoRequired } from './types.js';

interface PhotoRow {
  id: string;
  blob_name: string;
  content_type: string;
  size_bytes: number;
  sha256: string | null;
  status: PhotoRecord['status'];
  target_type: string | null;
  target_id: string | null;
  taken_at: Date | null;
  device_id: string;
  user_id: string;
  created_at: Date;
  updated_at: Date;
}

const fromRow = (r: PhotoRow): PhotoRecord => ({
  photoId: r.id,
  blobName: r.blob_name,
  contentType: r.content_type,
  sizeBytes: r.size_bytes,
  sha256: r.sha256,
  status: r.status,
  target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
  takenAt: iso(r.taken_at),
  deviceId: r.device_id,
  userId: r.user_id,
  createdAt: isoRequired(r.created_at),
  updatedAt: isoRequired(r.updated_at),
});

/** The tenant's `photos` table: one row per photo id, AWAITING_UPLOAD until the processor attaches it. */
export class PostgresPhotoRecords implements PhotoRecords {
  constructor(private readonly poolFor: (tenant: Tenant) => pg.Pool) {}

  async recordAwaiting(
    tenant: Tenant,
    photos: { photoId: string; blobName: string; contentType: string; sizeBytes: number }[],
    by: { deviceId: string; userId: string },
  ): Promise<{ alreadyAttached: { photoId: string; blobName: string }[] }> {
    if (photos.length === 0) return { alreadyAttached: [] };
    // One statement: new photos are inserted; photos still awaiting take the newest request (device, type,
    // size); attached photos are left as they are and come back from the second part.
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{ id: string; blob_name: string }>(
        `with wanted as (
           select * from unnest($1::uuid[], $2::text[], $3::text[], $4::bigint[])
             as w(id, blob_name, content_type, size_bytes)
         ), upserted as (
           insert into photos (id, blob_name, content_type, size_bytes, status, device_id, user_id)
           select id, blob_name, content_type, size_bytes, 'AWAITING_UPLOAD', $5, $6 from wanted
           on conflict (id) do update set blob_name = excluded.blob_name, content_type = excluded.content_type,
             size_bytes = excluded.size_bytes, device_id = excluded.device_id, user_id = excluded.user_id,
             swept_at = null, updated_at = now()
           where photos.status = 'AWAITING_UPLOAD'
           returning id
         )
         select p.id, p.blob_name from photos p join wanted w using (id)
         where p.status = 'ATTACHED' and p.id not in (select id from upserted)`,
        [
          photos.map((p) => p.photoId),
          photos.map((p) => p.blobName),
          photos.map((p) => p.contentType),
          photos.map((p) => p.sizeBytes),
          by.deviceId,
          by.userId,
        ],
      ),
    );
    return { alreadyAttached: rows.map((r) => ({ photoId: r.id, blobName: r.blob_name })) };
  }

  async get(tenant: Tenant, photoId: string): Promise<PhotoRecord | undefined> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<PhotoRow>(
        `select id, blob_name, content_type, size_bytes, sha256, status, target_type, target_id, taken_at,
                device_id, user_id, created_at, updated_at
           from photos where id = $1`,
        [photoId],
      ),
    );
    return rows[0] ? fromRow(rows[0]) : undefined;
  }

  async staleAwaiting(
    tenant: Tenant,
    before: Date,
    limit: number,
  ): Promise<{ photoId: string; blobName: string }[]> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{ id: string; blob_name: string }>(
        `select id, blob_name from photos
          where status = 'AWAITING_UPLOAD' and swept_at is null and updated_at < $1
          order by updated_at limit $2`,
        [before, limit],
      ),
    );
    return rows.map((r) => ({ photoId: r.id, blobName: r.blob_name }));
  }

  async markSwept(tenant: Tenant, photoIds: string[]): Promise<void> {
    if (photoIds.length === 0) return;
    await guardPostgres(() =>
      this.poolFor(tenant).query(
        `update photos set swept_at = now() where id = any($1::uuid[]) and status = 'AWAITING_UPLOAD'`,
        [photoIds],
      ),
    );
  }
}
