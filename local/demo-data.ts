import type { EquipmentInput, WellInput } from '../shared/contracts/reference-data.js';
import type { ReferenceDataStore, Tenant, UserRecord } from '../shared/ports.js';

interface DemoTenant {
  id: string;
  name: string;
  wells: (WellInput & { id: string })[];
  equipment: (EquipmentInput & { id: string })[];
  users: UserRecord[];
}

/** Two demo tenants for `npm start`: enough to try every route by hand. */
export const DEMO_TENANTS: DemoTenant[] = [
  {
    id: 'acme',
    name: 'Acme Energy',
    wells: [
      {
        id: 'well-spraberry-1a',
        name: 'Spraberry Unit #1A',
        apiNumber: '42-227-30001',
        latitude: 31.9973,
        longitude: -102.0779,
        status: 'ACTIVE',
        lease: 'Spraberry Unit',
        field: 'Spraberry Trend',
        operator: 'Acme Energy',
      },
      {
        id: 'well-wolfberry-7h',
        name: 'Wolfberry 7H',
        apiNumber: '42-317-30007',
        latitude: 32.2341,
        longitude: -101.9456,
        status: 'ACTIVE',
        lease: 'Wolfberry',
        field: 'Spraberry Trend',
        operator: 'Acme Energy',
      },
      {
        id: 'well-midland-3',
        name: 'Midland Basin 3',
        apiNumber: '42-329-30003',
        latitude: 31.9686,
        longitude: -102.0945,
        status: 'INACTIVE',
        field: 'Midland Basin',
        operator: 'Acme Energy',
      },
    ],
    equipment: [
      {
        id: 'eq-pumpjack-1a',
        wellId: 'well-spraberry-1a',
        equipmentType: 'PUMP_JACK',
        serialNumber: 'LUF-640-1A-0042',
        manufacturer: 'Lufkin',
        model: 'C-640D-365-168',
        installationDate: '2019-04-12',
        status: 'OPERATIONAL',
      },
      {
        id: 'eq-tank-1a',
        wellId: 'well-spraberry-1a',
        equipmentType: 'TANK',
        serialNumber: 'TK-400-1A-07',
        manufacturer: 'Permian Tank',
        model: '400 bbl',
        status: 'OPERATIONAL',
      },
      {
        id: 'eq-separator-7h',
        wellId: 'well-wolfberry-7h',
        equipmentType: 'SEPARATOR',
        serialNumber: 'SEP-3P-7H-11',
        manufacturer: 'Sivalls',
        status: 'MAINTENANCE',
      },
    ],
    users: [
      { id: 'u-operator-1', displayName: 'Dale Operator', email: 'dale@acme.example', role: 'OPERATOR' },
      { id: 'u-manager-1', displayName: 'Maria Manager', email: 'maria@acme.example', role: 'MANAGER' },
      { id: 'u-admin-1', displayName: 'Ada Admin', email: 'ada@acme.example', role: 'ADMIN' },
    ],
  },
  {
    id: 'globex',
    name: 'Globex Petroleum',
    wells: [
      {
        id: 'well-bakken-12',
        name: 'Bakken Federal 12-34H',
        apiNumber: '33-053-04512',
        latitude: 47.8011,
        longitude: -103.2998,
        status: 'ACTIVE',
        field: 'Bakken',
        operator: 'Globex Petroleum',
      },
    ],
    equipment: [
      {
        id: 'eq-compressor-12',
        wellId: 'well-bakken-12',
        equipmentType: 'COMPRESSOR',
        serialNumber: 'ARL-JGJ2-0012',
        manufacturer: 'Ariel',
        status: 'OPERATIONAL',
      },
    ],
    users: [
      { id: 'u-operator-9', displayName: 'Gus Operator', email: 'gus@globex.example', role: 'OPERATOR' },
      { id: 'u-manager-9', displayName: 'Greta Manager', email: 'greta@globex.example', role: 'MANAGER' },
    ],
  },
];

/** Writes a demo tenant's reference data (once, when its database is first created). */
export async function seedDemoTenant(
  store: ReferenceDataStore,
  tenant: Tenant,
  demo: DemoTenant,
): Promise<void> {
  for (const { id, ...well } of demo.wells) await store.upsertWell(tenant, id, well);
  for (const { id, ...equipment } of demo.equipment) await store.upsertEquipment(tenant, id, equipment);
  await store.upsertUsers(tenant, demo.users);
}
