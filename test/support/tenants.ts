import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { getApp } from '../../shared/app.js';
import type { Tenant, TenantRegistry } from '../../shared/usecases/ports/tenancy.js';
import { provisionTenant } from '../../shared/usecases/tenants.js';

/**
 * A fresh tenant of this test's own: its database created, migrated and registered, with the given packs
 * (SPEC v1.1: 'clinic', 'facilities', 'oil-gas'; none by default).
 */
export async function freshTenant(prefix = 't', packs: readonly string[] = []): Promise<Tenant> {
  const id = `${prefix}-${randomBytes(4).toString('hex')}`;
  const { tenant } = await provisionTenant(getApp(), id, undefined, packs);
  return tenant;
}

/**
 * The rows of one parameterised statement on a tenant's database, through the app's pool: what a test reads
 * back to assess what a push or a processor wrote.
 */
export async function tenantRows<R extends pg.QueryResultRow = pg.QueryResultRow>(
  tenant: Tenant,
  text: string,
  params: unknown[] = [],
): Promise<R[]> {
  return (await getApp().tenantPool(tenant).query<R>(text, params)).rows;
}

export interface SeededTenant {
  tenant: Tenant;
  wellId: string;
  inactiveWellId: string;
  equipmentId: string;
  deletedEquipmentId: string;
}

/** A fresh tenant with an active well, an inactive one, equipment and deleted equipment. */
export async function seededTenant(prefix = 't'): Promise<SeededTenant> {
  const tenant = await freshTenant(prefix);
  const store = getApp().referenceData;
  const api = () => `42-${randomBytes(3).toString('hex')}`;
  const well = { latitude: 31.9973, longitude: -102.0779, status: 'ACTIVE' as const };
  await store.upsertWell(tenant, 'well-1', { ...well, name: 'Spraberry Unit #1A', apiNumber: api() });
  await store.upsertWell(tenant, 'well-off', {
    ...well,
    name: 'Shut in',
    apiNumber: api(),
    status: 'INACTIVE',
  });
  const equipment = {
    wellId: 'well-1',
    equipmentType: 'PUMP_JACK' as const,
    serialNumber: 'SN-1',
    status: 'OPERATIONAL' as const,
  };
  await store.upsertEquipment(tenant, 'pump-1', equipment);
  await store.upsertEquipment(tenant, 'pump-gone', equipment);
  await store.deleteEquipment(tenant, 'pump-gone');
  return {
    tenant,
    wellId: 'well-1',
    inactiveWellId: 'well-off',
    equipmentId: 'pump-1',
    deletedEquipmentId: 'pump-gone',
  };
}

/**
 * The registry as a job that walks every tenant (timers, migrations) sees it, narrowed to the given tenants
 * (in the registry's own order). Other test files run at the same time against the same registry: a test
 * walking "every tenant" counts only its own, and never sweeps, migrates or breaks another file's data.
 */
export function onlyTenants(registry: TenantRegistry, ids: readonly string[]): TenantRegistry {
  const wanted = new Set(ids);
  return {
    find: (id) => (wanted.has(id) ? registry.find(id) : Promise.resolve(undefined)),
    list: async () => (await registry.list()).filter((tenant) => wanted.has(tenant.id)),
    register: (tenant) => registry.register(tenant),
    markMigrated: (id) => registry.markMigrated(id),
    countByServer: () => registry.countByServer(),
  };
}

/**
 * Removes a tenant from the registry (its database, if any, is left alone): for a tenant a test registered
 * without a database, so that no other test file's job that walks every tenant meets it.
 */
export async function unregisterTenant(id: string): Promise<void> {
  const control = new pg.Client({ connectionString: process.env.POSTGRES_URL });
  await control.connect();
  try {
    await control.query('delete from tenants where id = $1', [id]);
  } finally {
    await control.end();
  }
}
