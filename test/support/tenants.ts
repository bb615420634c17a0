import { randomBytes } from 'node:crypto';
import { getApp } from '../../shared/app.js';
import type { Tenant } from '../../shared/ports.js';
import { provisionTenant } from '../../shared/usecases/tenants.js';

/** A fresh tenant of this test's own: its database created, migrated and registered. */
export async function freshTenant(prefix = 't'): Promise<Tenant> {
  const id = `${prefix}-${randomBytes(4).toString('hex')}`;
  const { tenant } = await provisionTenant(getApp(), id);
  return tenant;
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
