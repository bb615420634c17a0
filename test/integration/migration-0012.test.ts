import { afterAll, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { tenantMigrationSection } from '../support/migrations.js';
import { freshTenant } from '../support/tenants.js';

// Migration 0012 renames the oil-gas builtin `equipment` to `well_equipment` in tenants created before it
// (so such a tenant may also take the facilities pack). Its Up section is run against a tenant put back in
// the old state: the builtin row under its old name, with the schema change that installed it.
afterAll(() => closeApp());

const upSection = () => tenantMigrationSection('0012_well_equipment_builtin.sql', 'Up');

it('renames an old oil-gas tenant’s builtin equipment, keeping its version and schema changes', async () => {
  // Prepare: an oil-gas tenant as it was before 0012 (its builtin named `equipment`).
  const tenant = await freshTenant('mig12', ['oil-gas']);
  const pool = getApp().tenantPool(tenant);
  const sql = async (text: string) => (await pool.query(text)).rows;
  await sql(`begin;
    insert into sync_collections (name, version, schema, scope_field, conflict, pack, builtin, written_by)
      select 'equipment', version, schema, scope_field, conflict, pack, builtin, written_by
      from sync_collections where name = 'well_equipment';
    update sync_schema_changes set collection = 'equipment' where collection = 'well_equipment';
    delete from sync_collections where name = 'well_equipment';
    commit`);
  const before = await sql(`select schema_version from sync_schema_changes where collection = 'equipment'`);
  expect(before).toHaveLength(1);

  // Act
  await pool.query(upSection());

  // Assess: one builtin under the new name, its schema change moved with it, nothing left under the old one.
  expect(await sql(`select name, builtin, pack from sync_collections where name like '%equipment'`)).toEqual([
    { name: 'well_equipment', builtin: true, pack: 'oil-gas' },
  ]);
  expect(
    await sql(`select schema_version from sync_schema_changes where collection = 'well_equipment'`),
  ).toEqual(before);
  // Run again (a tenant already migrated): nothing changes.
  await pool.query(upSection());
  expect(await sql(`select count(*)::int as n from sync_collections where name like '%equipment'`)).toEqual([
    { n: 1 },
  ]);
});
