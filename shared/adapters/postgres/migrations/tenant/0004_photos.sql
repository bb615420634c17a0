-- Up Migration
-- Photos whose upload URL was handed out but which were never attached: the sweep tags their blobs
-- state=awaiting for the storage lifecycle rule (infra/modules/storage.bicep) and notes when, so each is
-- handed over once. Asking for a new upload URL clears it. docs/photos.md.
alter table photos add column swept_at timestamptz;
create index photos_stale_awaiting_idx on photos (updated_at)
  where status = 'AWAITING_UPLOAD' and swept_at is null;

-- Down Migration
drop index photos_stale_awaiting_idx;
alter table photos drop column swept_at;
