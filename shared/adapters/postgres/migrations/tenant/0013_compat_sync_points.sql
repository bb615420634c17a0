-- Up Migration
-- Sync points a compat dialect issued (docs/compat/wellpulse.md "lastSync"): document 001's pull answers a
-- plain ISO 8601 time (`lastSyncTimestamp`, millisecond precision) which its client sends back as `lastSync`.
-- The pull cursor that time stands for stays here, keyed by who was answered and the instant issued, so an
-- echo (however the client re-serialised the same instant) resumes exactly from that position.
-- `device_id` is '' for a pull that named no device. An instant is unique per (user, device): a second pull
-- in the same millisecond is issued the next free millisecond. Pruned with the change log (same retention),
-- and to the newest points of each (user, device); an echo of a pruned point falls back to the time.
create table compat_sync_points (
  dialect text not null,
  user_id text not null,
  device_id text not null,
  issued_ms bigint not null,
  xid xid8 not null,
  seq bigint not null,
  created_at timestamptz not null default now(),
  primary key (dialect, user_id, device_id, issued_ms)
);
create index compat_sync_points_created_idx on compat_sync_points (created_at);

-- Down Migration
drop table compat_sync_points;
