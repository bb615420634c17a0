-- Up Migration
-- Indexes of the managers' statistics (GET /v1/sync/stats: events received in a time range, for the tenant,
-- a user or a device). They name only columns written once, at push (received_at, user_id, device_id):
-- settling an event (status, applied_at, error, conflict, attempts) stays a heap-only (HOT) update that
-- writes no index entry. docs/operations.md shows the query plans on a million events.
create index sync_events_received_idx on sync_events (received_at);
create index sync_events_user_received_idx on sync_events (user_id, received_at);
-- Serves every query on device_id alone too, so the single-column index is dropped (one index less to
-- maintain on every insert).
create index sync_events_device_received_idx on sync_events (device_id, received_at);
drop index sync_events_device_idx;
-- sync_batches is insert-only; its (device_id, received_at desc) index serves the device filter.
create index sync_batches_received_idx on sync_batches (received_at);
create index sync_batches_user_received_idx on sync_batches (user_id, received_at);

-- Down Migration
drop index sync_batches_user_received_idx;
drop index sync_batches_received_idx;
create index sync_events_device_idx on sync_events (device_id);
drop index sync_events_device_received_idx;
drop index sync_events_user_received_idx;
drop index sync_events_received_idx;
