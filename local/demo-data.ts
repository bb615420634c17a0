import type pg from 'pg';
import type { EquipmentInput, WellInput } from '../shared/contracts/reference-data.js';
import type { ReferenceDataStore, Tenant, UserRecord } from '../shared/ports.js';

/** A record of a pack's collection, as the demo writes it. */
interface DemoRecord {
  collection: string;
  id: string;
  data: Record<string, unknown>;
}

interface DemoTenant {
  id: string;
  name: string;
  /** The packs it is created with (SPEC v1.1). */
  packs: string[];
  records?: DemoRecord[];
  wells: (WellInput & { id: string })[];
  equipment: (EquipmentInput & { id: string })[];
  users: UserRecord[];
}

/**
 * The demo tenants of `npm start`: two oil-gas ones (v1), and one per other pack with a little data over two
 * clinics / two buildings (scopes), enough to try every route by hand.
 */
export const DEMO_TENANTS: DemoTenant[] = [
  {
    id: 'acme',
    name: 'Acme Energy',
    packs: ['oil-gas'],
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
    packs: ['oil-gas'],
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
  {
    id: 'clinic-demo',
    name: 'Highland Rural Clinics',
    packs: ['clinic'],
    wells: [],
    equipment: [],
    users: [
      { id: 'u-nurse-1', displayName: 'Nia Nurse', email: 'nia@clinic.example', role: 'OPERATOR' },
      { id: 'u-doctor-1', displayName: 'Dr Obi', email: 'obi@clinic.example', role: 'MANAGER' },
      { id: 'u-admin-1', displayName: 'Ada Admin', email: 'ada@clinic.example', role: 'ADMIN' },
    ],
    records: [
      patient('pt-1001', 'clinic-north', 'Amina Okafor', '1987-03-14', 'FEMALE'),
      patient('pt-1002', 'clinic-north', 'Tomas Reyes', '2015-09-02', 'MALE'),
      patient('pt-2001', 'clinic-south', 'Lena Brandt', '1952-11-23', 'FEMALE'),
      {
        collection: 'encounters',
        id: 'enc-1001-1',
        data: {
          clinicId: 'clinic-north',
          patientId: 'pt-1001',
          encounteredAt: '2026-11-02T09:15:00Z',
          clinician: 'Nia Nurse',
          diagnosis: 'Common cold',
          prescription: 'Rest and fluids',
        },
      },
      {
        collection: 'encounters',
        id: 'enc-2001-1',
        data: {
          clinicId: 'clinic-south',
          patientId: 'pt-2001',
          encounteredAt: '2026-11-03T14:40:00Z',
          clinician: 'Dr Obi',
          diagnosis: 'Hypertension, follow-up',
          prescription: 'Amlodipine 5 mg daily',
        },
      },
    ],
  },
  {
    id: 'facilities-demo',
    name: 'Northwind Facilities',
    packs: ['facilities'],
    wells: [],
    equipment: [],
    users: [
      { id: 'u-tech-1', displayName: 'Theo Technician', email: 'theo@northwind.example', role: 'OPERATOR' },
      { id: 'u-lead-1', displayName: 'Lia Lead', email: 'lia@northwind.example', role: 'MANAGER' },
      { id: 'u-admin-1', displayName: 'Ada Admin', email: 'ada@northwind.example', role: 'ADMIN' },
    ],
    records: [
      {
        collection: 'buildings',
        id: 'bldg-hq',
        data: { name: 'Headquarters', address: '1 Main St', status: 'OPEN' },
      },
      {
        collection: 'buildings',
        id: 'bldg-depot',
        data: { name: 'North Depot', address: '80 Dock Rd', status: 'OPEN' },
      },
      {
        collection: 'equipment',
        id: 'eq-ahu-1',
        data: {
          buildingId: 'bldg-hq',
          name: 'Air handler 1',
          type: 'HVAC',
          status: 'OPERATIONAL',
          location: { x: 12.5, y: 3, z: 30.2 },
          metadata: { manufacturer: 'Trane', serial: 'AHU-0001' },
        },
      },
      {
        collection: 'equipment',
        id: 'eq-panel-2',
        data: {
          buildingId: 'bldg-hq',
          name: 'Electrical panel B2',
          type: 'ELECTRICAL',
          status: 'OPERATIONAL',
        },
      },
      {
        collection: 'equipment',
        id: 'eq-dock-door-1',
        data: {
          buildingId: 'bldg-depot',
          name: 'Dock door 1',
          type: 'DOOR',
          status: 'NEEDS_REPAIR',
          location: { x: 0, y: 0, z: 4 },
        },
      },
      {
        collection: 'spatial_anchors',
        id: 'anc-ahu-1',
        data: {
          buildingId: 'bldg-hq',
          equipmentId: 'eq-ahu-1',
          position: { x: 12.4, y: 1.6, z: 30 },
          confidence: 0.93,
          anchorType: 'CLOUD_ANCHOR',
        },
      },
      {
        collection: 'spatial_anchors',
        id: 'anc-dock-1',
        data: {
          buildingId: 'bldg-depot',
          position: { x: 0.5, y: 1.2, z: 3.8 },
          confidence: 0.8,
          anchorType: 'QR',
        },
      },
    ],
  },
];

function patient(id: string, clinicId: string, name: string, dateOfBirth: string, sex: string): DemoRecord {
  return { collection: 'patients', id, data: { clinicId, name, dateOfBirth, sex } };
}

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

/**
 * Writes a demo tenant's pack records straight into `records` (once, when its database is first created),
 * as the record engine would have created them: version 1, every field stamped at version 1 by the server,
 * the scope column holding the collection's scope field as text. One statement for all of them.
 */
export async function seedDemoRecords(
  pool: pg.Pool,
  demo: DemoTenant,
  scopeFieldOf: (collection: string) => string | undefined,
  at = new Date().toISOString(),
): Promise<void> {
  const records = demo.records ?? [];
  if (records.length === 0) return;
  const stamp = { occurredAt: at, deviceId: 'server', eventId: '' };
  const rows = records.map((r) => {
    const field = scopeFieldOf(r.collection);
    const scope = field === undefined ? null : r.data[field];
    return {
      collection: r.collection,
      id: r.id,
      data: r.data,
      field_meta: Object.fromEntries(Object.keys(r.data).map((f) => [f, { version: 1, stamp }])),
      scope: scope === null || scope === undefined ? null : String(scope),
    };
  });
  await pool.query(
    `insert into records (collection, id, version, data, field_meta, scope)
     select r.collection, r.id, 1, r.data, r.field_meta, r.scope
     from jsonb_to_recordset($1::jsonb) as r(collection text, id text, data jsonb, field_meta jsonb, scope text)
     on conflict (collection, id) do nothing`,
    [JSON.stringify(rows)],
  );
}
