-- Up Migration
-- The oil-gas pack's builtin for the v1 equipment is `well_equipment`, so that a tenant may also take the
-- facilities pack, whose records collection is `equipment` (SPEC v1.1: a tenant may have several packs).
-- Builtin rows hold no records; the v1 routes and the pull key stay `equipment`.
insert into sync_collections (name, version, schema, scope_field, conflict, pack, builtin, written_by,
                              created_at, updated_at)
  select 'well_equipment', version, schema, scope_field, conflict, pack, builtin, written_by, created_at, now()
  from sync_collections where name = 'equipment' and builtin;
update sync_schema_changes set collection = 'well_equipment'
  where collection = 'equipment' and exists (select 1 from sync_collections where name = 'equipment' and builtin);
delete from sync_collections where name = 'equipment' and builtin;

-- Down Migration
insert into sync_collections (name, version, schema, scope_field, conflict, pack, builtin, written_by,
                              created_at, updated_at)
  select 'equipment', version, schema, scope_field, conflict, pack, builtin, written_by, created_at, now()
  from sync_collections where name = 'well_equipment' and builtin
  and not exists (select 1 from sync_collections where name = 'equipment');
update sync_schema_changes set collection = 'equipment'
  where collection = 'well_equipment'
  and exists (select 1 from sync_collections where name = 'equipment' and builtin);
delete from sync_collections where name = 'well_equipment' and builtin
  and exists (select 1 from sync_collections where name = 'equipment' and builtin);
