-- Up Migration
-- v1.1: a tenant's sync schema (collections), its records, scope grants (SPEC "v1.1").

-- One row per collection: its JSON Schema (draft 2020-12) of the record's fields, the scope field, the
-- conflict strategy. `version` counts this collection's accepted changes; the tenant's schema version
-- (sync_schema_state) counts every change of any collection, and is what a device syncs with.
create table sync_collections (
  name text primary key check (name ~ '^[a-z][a-z0-9_]{0,62}$'),
  version integer not null default 1,
  schema jsonb not null,
  scope_field text,
  conflict jsonb not null default '{"strategy":"LWW"}',
  pack text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Every accepted schema change, for audit and for "which version did this device sync with".
create table sync_schema_changes (
  schema_version integer primary key,
  collection text not null references sync_collections (name),
  collection_version integer not null,
  definition jsonb not null,
  changed_by text,
  changed_at timestamptz not null default now()
);

-- Records of every collection in one table: (collection, id) is the key; `data` holds the fields;
-- `field_meta` per field {version, stamp} as equipment does (versioned merge); `scope` is the value of the
-- collection's scope field, copied out so selective pulls use an index.
create table records (
  collection text not null references sync_collections (name),
  id text not null check (length(id) between 1 and 128),
  version integer not null default 1,
  data jsonb not null,
  field_meta jsonb not null default '{}',
  scope text,
  deleted_at timestamptz,
  delete_stamp jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (collection, id)
);
-- Snapshot pages by collection, scope and id.
create index records_scope_idx on records (collection, scope, id);

-- Scope grants: an OPERATOR reads (and writes) records of the scopes granted to them.
create table scope_grants (
  scope text not null check (length(scope) between 1 and 256),
  user_id text not null,
  granted_by text,
  granted_at timestamptz not null default now(),
  primary key (scope, user_id)
);
create index scope_grants_user_idx on scope_grants (user_id, scope);

-- Record changes in the change log: which collection, the scope the record has now and the one it had
-- before the change (a record that leaves a device's scopes must reach it as a deletion).
alter table change_log drop constraint change_log_entity_type_check;
alter table change_log add constraint change_log_entity_type_check
  check (entity_type in ('well', 'equipment', 'user', 'production', 'record'));
alter table change_log add column collection text;
alter table change_log add column scope text;
alter table change_log add column old_scope text;

create function fieldsync_log_records_insert() returns trigger language plpgsql as $$
begin
  insert into change_log (entity_type, entity_id, op, collection, scope)
  select 'record', n.id, case when n.deleted_at is null then 'UPSERT' else 'DELETE' end, n.collection, n.scope
  from new_rows n;
  return null;
end $$;
create function fieldsync_log_records_update() returns trigger language plpgsql as $$
begin
  insert into change_log (entity_type, entity_id, op, collection, scope, old_scope)
  select 'record', n.id, case when n.deleted_at is null then 'UPSERT' else 'DELETE' end, n.collection, n.scope,
         o.scope
  from new_rows n join old_rows o on o.collection = n.collection and o.id = n.id;
  return null;
end $$;
create trigger records_log_insert after insert on records referencing new table as new_rows
  for each statement execute function fieldsync_log_records_insert();
create trigger records_log_update after update on records referencing old table as old_rows new table as new_rows
  for each statement execute function fieldsync_log_records_update();

-- Conflicts and notes/photos may name a record.
alter table conflicts drop constraint conflicts_record_type_check;
alter table conflicts add constraint conflicts_record_type_check
  check (record_type in ('PRODUCTION', 'EQUIPMENT', 'RECORD'));

-- Down Migration
alter table conflicts drop constraint conflicts_record_type_check;
alter table conflicts add constraint conflicts_record_type_check check (record_type in ('PRODUCTION', 'EQUIPMENT'));
drop trigger records_log_update on records;
drop trigger records_log_insert on records;
drop function fieldsync_log_records_update();
drop function fieldsync_log_records_insert();
alter table change_log drop column old_scope;
alter table change_log drop column scope;
alter table change_log drop column collection;
alter table change_log drop constraint change_log_entity_type_check;
alter table change_log add constraint change_log_entity_type_check
  check (entity_type in ('well', 'equipment', 'user', 'production'));
drop table scope_grants;
drop table records;
drop table sync_schema_changes;
drop table sync_collections;
