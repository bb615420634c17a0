-- Up Migration
-- The transactional outbox (docs/architecture.md "Push pipeline"): what a push or a retry must deliver after
-- its commit — queue messages (kind 'chunk': the OutgoingMessage) and the device's status write to Cosmos
-- (kind 'device-push') — written in the same transaction as the events. The relay sends right after the
-- commit and deletes the row; the sweep takes rows whose lease ran out (a crash, a queue or Cosmos outage).
-- claimed_until: the lease. A row is born leased for a few seconds (the in-process relay holds it); the
-- sweep leases with one UPDATE … RETURNING (FOR UPDATE SKIP LOCKED), so two instances never hold a row at once.
create table outbox (
  id uuid primary key,
  kind text not null check (kind in ('chunk', 'device-push')),
  message jsonb not null,
  created_at timestamptz not null default now(),
  claimed_until timestamptz not null,
  attempts integer not null default 0
);
create index outbox_claimed_until_idx on outbox (claimed_until);

-- The batch lock (0003) made a processor wait for a push that sent its message before committing. Messages
-- now leave only after the commit, so nothing takes it any more.
drop function fieldsync_batch_lock(text);

-- Down Migration
create function fieldsync_batch_lock(batch_id text) returns bigint
  language sql immutable parallel safe
  return hashtextextended('fieldsync-batch:' || batch_id, 0);
drop table outbox;
