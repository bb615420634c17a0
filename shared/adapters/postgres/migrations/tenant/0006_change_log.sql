-- Up Migration
-- The change log that pull cursors follow. Each row records that an entity changed, in the transaction
-- that changed it (xid). A reader only takes rows whose transaction id is below the oldest transaction
-- still running (pg_snapshot_xmin): those transactions are all finished, so no row can ever appear
-- behind a position already handed out. Positions are (xid, seq), ordered.
create table change_log (
  seq bigint generated always as identity primary key,
  xid xid8 not null default pg_current_xact_id(),
  entity_type text not null check (entity_type in ('well', 'equipment', 'user', 'production')),
  entity_id text not null,
  op text not null check (op in ('UPSERT', 'DELETE')),
  changed_at timestamptz not null default now()
);
create index change_log_position_idx on change_log (xid, seq);
create index change_log_changed_at_idx on change_log (changed_at);

-- One row: the key that signs this tenant's cursors, and how far the log was pruned.
create table change_log_state (
  id boolean primary key default true check (id),
  cursor_key text not null,
  pruned_xid xid8 not null default '0',
  pruned_seq bigint not null default 0
);
insert into change_log_state (cursor_key) values (md5(random()::text || clock_timestamp()::text) || md5(random()::text));

create function fieldsync_log_wells() returns trigger language plpgsql as $$
begin
  insert into change_log (entity_type, entity_id, op) select 'well', id, 'UPSERT' from new_rows;
  return null;
end $$;
create function fieldsync_log_equipment() returns trigger language plpgsql as $$
begin
  insert into change_log (entity_type, entity_id, op)
  select 'equipment', id, case when deleted_at is null then 'UPSERT' else 'DELETE' end from new_rows;
  return null;
end $$;
create function fieldsync_log_users() returns trigger language plpgsql as $$
begin
  insert into change_log (entity_type, entity_id, op) select 'user', id, 'UPSERT' from new_rows;
  return null;
end $$;
create function fieldsync_log_production() returns trigger language plpgsql as $$
begin
  insert into change_log (entity_type, entity_id, op) select 'production', id::text, 'UPSERT' from new_rows;
  return null;
end $$;

-- Statement-level triggers with transition tables: one insert into the log per statement, not per row.
create trigger wells_log_insert after insert on wells referencing new table as new_rows
  for each statement execute function fieldsync_log_wells();
create trigger wells_log_update after update on wells referencing new table as new_rows
  for each statement execute function fieldsync_log_wells();
create trigger equipment_log_insert after insert on equipment referencing new table as new_rows
  for each statement execute function fieldsync_log_equipment();
create trigger equipment_log_update after update on equipment referencing new table as new_rows
  for each statement execute function fieldsync_log_equipment();
create trigger users_log_insert after insert on users referencing new table as new_rows
  for each statement execute function fieldsync_log_users();
create trigger users_log_update after update on users referencing new table as new_rows
  for each statement execute function fieldsync_log_users();
create trigger production_log_insert after insert on production_records referencing new table as new_rows
  for each statement execute function fieldsync_log_production();
create trigger production_log_update after update on production_records referencing new table as new_rows
  for each statement execute function fieldsync_log_production();

-- Down Migration
drop trigger production_log_update on production_records;
drop trigger production_log_insert on production_records;
drop trigger users_log_update on users;
drop trigger users_log_insert on users;
drop trigger equipment_log_update on equipment;
drop trigger equipment_log_insert on equipment;
drop trigger wells_log_update on wells;
drop trigger wells_log_insert on wells;
drop function fieldsync_log_production();
drop function fieldsync_log_users();
drop function fieldsync_log_equipment();
drop function fieldsync_log_wells();
drop table change_log_state;
drop table change_log;
