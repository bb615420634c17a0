import { createHash } from 'node:crypto';
import type { Principal } from '../shared/auth/principal.js';
import type { EquipmentInput, WellInput } from '../shared/contracts/reference-data.js';
import type { PushAccepted } from '../shared/contracts/sync.js';
import type { ReferenceDataStore, UserRecord } from '../shared/usecases/ports/reference-data.js';
import type { ScopeGrantStore } from '../shared/usecases/ports/scopes.js';
import type { Tenant } from '../shared/usecases/ports/tenancy.js';
import { type PushDeps, pushBatch } from '../shared/usecases/push.js';
import { grantScope } from '../shared/usecases/scopes.js';

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
  /** Scopes granted to its operators, so an OPERATOR token sees one clinic / one building. */
  grants?: { scope: string; userId: string }[];
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
      { id: 'u-nurse-2', displayName: 'Sam Nurse', email: 'sam@clinic.example', role: 'OPERATOR' },
      { id: 'u-doctor-1', displayName: 'Dr Obi', email: 'obi@clinic.example', role: 'MANAGER' },
      { id: 'u-admin-1', displayName: 'Ada Admin', email: 'ada@clinic.example', role: 'ADMIN' },
    ],
    grants: [
      { scope: 'clinic-north', userId: 'u-nurse-1' },
      { scope: 'clinic-south', userId: 'u-nurse-2' },
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
      { id: 'u-tech-2', displayName: 'Tara Technician', email: 'tara@northwind.example', role: 'OPERATOR' },
      { id: 'u-lead-1', displayName: 'Lia Lead', email: 'lia@northwind.example', role: 'MANAGER' },
      { id: 'u-admin-1', displayName: 'Ada Admin', email: 'ada@northwind.example', role: 'ADMIN' },
    ],
    grants: [
      { scope: 'bldg-hq', userId: 'u-tech-1' },
      { scope: 'bldg-depot', userId: 'u-tech-2' },
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

/** The device the demo manager writes a demo tenant's records from (it shows in device status). */
export const DEMO_DEVICE_ID = 'demo-seed';

/** The demo tenant's manager: who writes its records and grants its scopes. */
export function demoManager(demo: DemoTenant): UserRecord {
  const manager = demo.users.find((u) => u.role === 'MANAGER');
  if (!manager) throw new Error(`demo tenant ${demo.id} has no manager`);
  return manager;
}

/** A UUID fixed by its name (version 5 layout over SHA-256): the same demo record is the same event. */
function namedUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Grants the demo tenant's scopes to its operators (idempotent), as its manager would. */
export async function grantDemoScopes(
  deps: { scopes: ScopeGrantStore },
  tenant: Tenant,
  demo: DemoTenant,
): Promise<void> {
  if (!demo.grants?.length) return;
  const by: Principal = { userId: demoManager(demo).id, tenantId: tenant.id, roles: ['MANAGER'] };
  for (const g of demo.grants) await grantScope(deps, tenant, g.scope, g.userId, by);
}

/**
 * Writes a demo tenant's pack records through the real path: one batch of RECORD_CREATED events pushed by the
 * demo manager's device ({@link DEMO_DEVICE_ID}) through the push use case, so the demo has events, outcomes,
 * change-log rows and a device status like any other data. The batch is accepted (durable) here and applied by
 * the processor once it runs (`npm start`: as soon as the host serves). Event ids are fixed by the tenant and
 * record, so the same batch (same `now`) pushed again is all DUPLICATE, never a second create (another `now`
 * is EVENT_ID_REUSED: refused, never written twice). Undefined when the tenant has no records.
 */
export async function pushDemoRecords(
  deps: PushDeps,
  tenant: Tenant,
  demo: DemoTenant,
  now = new Date(),
): Promise<PushAccepted | undefined> {
  const records = demo.records ?? [];
  if (records.length === 0) return undefined;
  const manager = demoManager(demo);
  const result = await pushBatch(deps, {
    tenant,
    principal: { userId: manager.id, tenantId: tenant.id, roles: ['MANAGER'] },
    body: {
      deviceId: DEMO_DEVICE_ID,
      events: records.map((r) => ({
        id: namedUuid(`${demo.id}/${r.collection}/${r.id}`),
        type: 'RECORD_CREATED',
        occurredAt: now.toISOString(),
        payload: { collection: r.collection, recordId: r.id, data: r.data },
      })),
    },
  });
  if (result.kind !== 'accepted') throw new Error('the demo push was replayed: it sends no Idempotency-Key');
  if (result.response.rejected.length) {
    throw new Error(`demo records refused: ${JSON.stringify(result.response.rejected)}`);
  }
  return result.response;
}

/**
 * What `npm start` prints about the pack demo tenants: their users, roles and granted scopes (one line each),
 * and how to get a token for one.
 */
export function demoHelp(): string[] {
  const lines = DEMO_TENANTS.filter((d) => d.records?.length).map((d) => {
    const users = d.users.map((u) => {
      const scopes = (d.grants ?? []).filter((g) => g.userId === u.id).map((g) => g.scope);
      return `${u.id} ${u.role}${scopes.length ? ` [${scopes.join(', ')}]` : ''}`;
    });
    return `${d.id}: ${users.join(', ')}`;
  });
  return [
    ...lines,
    'an OPERATOR pulls only the scopes in [ ]; e.g. npm run -s token -- --tenant clinic-demo --user u-nurse-1 --role OPERATOR',
  ];
}
