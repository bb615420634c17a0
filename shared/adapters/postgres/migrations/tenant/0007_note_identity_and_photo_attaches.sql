-- Up Migration
-- A note is the same note only if it was written at the same time: the same device writing "Leak fixed"
-- again a day later is a new note, not a duplicate (issue 10, item 12). Its identity becomes (device,
-- content hash, occurred_at); the hash itself is unchanged, so existing rows keep their identity.
-- Readings, inspections and maintenance logs already hash their time (recordedAt, inspectedAt,
-- performedAt are required in their payloads).
alter table notes drop constraint notes_device_id_content_hash_key;
alter table notes add constraint notes_device_id_content_hash_occurred_at_key
  unique (device_id, content_hash, occurred_at);

-- The processor settles all the attaches of one photo together (one photo, one link: the latest wins):
-- it finds a photo's earlier attaches by photo id. Neither indexed column is one the processor updates,
-- so settling an event stays a heap-only update.
create index sync_events_photo_attach_idx on sync_events (lower(payload->>'photoId'))
  where type = 'PHOTO_ATTACHED';

-- Down Migration
drop index sync_events_photo_attach_idx;
alter table notes drop constraint notes_device_id_content_hash_occurred_at_key;
alter table notes add constraint notes_device_id_content_hash_key unique (device_id, content_hash);
