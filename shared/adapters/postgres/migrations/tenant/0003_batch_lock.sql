-- Up Migration
-- The advisory lock key of a batch: the push holds it (exclusive) until its transaction commits; the
-- processor takes it (shared) before reading the batch's events, so a message delivered before that
-- commit waits for it instead of finding nothing.
create function fieldsync_batch_lock(batch_id text) returns bigint
  language sql immutable parallel safe
  return hashtextextended('fieldsync-batch:' || batch_id, 0);

-- Down Migration
drop function fieldsync_batch_lock(text);
