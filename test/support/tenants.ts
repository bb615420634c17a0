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
