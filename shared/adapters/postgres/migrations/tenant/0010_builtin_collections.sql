-- Up Migration
-- v1.1 packs: the oil-gas pack lists the v1 entities (wells, equipment, production, users) as builtin
-- collections: served by the v1 tables and routes, written by the v1 events, never by RECORD_* events.
-- A builtin row reserves its name in the tenant (a RECORD_* event naming it is refused with what writes it)
-- and tells devices, through GET /v1/schema, what the tenant syncs.
alter table sync_collections add column builtin boolean not null default false;
alter table sync_collections add column written_by text;
alter table sync_collections add constraint sync_collections_builtin_written_by_check
  check (builtin or written_by is null);

-- Down Migration
alter table sync_collections drop constraint sync_collections_builtin_written_by_check;
alter table sync_collections drop column written_by;
alter table sync_collections drop column builtin;
