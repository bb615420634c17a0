import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp } from '../../shared/app.js';
import { api, pushSettled } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { freshTenant } from '../support/tenants.js';
import { pullAll as pullRecordsAll, recordEvent } from '../support/records.js';

// Issue 13 proof, facilities tenant (SPEC v1.1 "Scopes", seed 002): a technician subscribed to one building
// pulls only that building, and a piece of equipment moved to another building disappears from the first
// building's device as a deletion (and appears on the second building's). Over HTTP against the local host.
afterAll(() => closeApp());

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
const event = recordEvent;

const pullAll = (token: string, deviceId: string, query: string, cursor?: string) =>
  pullRecordsAll(token, deviceId, query, cursor, 2);

const EQUIPMENT = {
  schema: {
    type: 'object',
    properties: {
      buildingId: { type: 'string' },
      name: { type: 'string' },
      type: { type: 'string' },
      status: { enum: ['OPERATIONAL', 'DEGRADED', 'FAILED', 'MAINTENANCE', 'OFFLINE'] },
      location: {
        type: 'object',
        properties: { x: { type: 'number' }, y: { type: 'number' }, z: { type: 'number' } },
      },
    },
    required: ['buildingId', 'name'],
  },
  scope: 'buildingId',
};

describe('a facilities tenant (issue 13 proof)', () => {
  let manager: string;
  let techOne: string; // subscribed to building 1
  let techTwo: string; // subscribed to building 2

  beforeAll(async () => {
    const tenantId = (await freshTenant('fac')).id;
    const admin = await tokenFor(tenantId, ['ADMIN'], 'u-admin');
    manager = await tokenFor(tenantId, ['MANAGER'], 'u-facilities-manager');
    techOne = await tokenFor(tenantId, ['OPERATOR'], 'u-tech-1');
    techTwo = await tokenFor(tenantId, ['OPERATOR'], 'u-tech-2');
    const put = await api(admin, 'PUT', 'v1/schema/collections/equipment', EQUIPMENT);
    expect([200, 201], put.text).toContain(put.status);
    for (const [scope, user] of [
      ['bldg-1', 'u-tech-1'],
      ['bldg-2', 'u-tech-2'],
    ] as const) {
      const grant = await api(manager, 'PUT', `v1/scopes/${scope}/members/${user}`);
      expect([200, 201, 204], grant.text).toContain(grant.status);
    }
    // Three units in building 1, two in building 2, written by the facilities manager's console device.
    const created = await pushSettled(
      manager,
      'console',
      [1, 2, 3, 4, 5].map((n) =>
        event('RECORD_CREATED', minutesAgo(30), {
          collection: 'equipment',
          recordId: `hvac-${n}`,
          data: {
            buildingId: n <= 3 ? 'bldg-1' : 'bldg-2',
            name: `AHU ${n}`,
            type: 'HVAC',
            status: 'OPERATIONAL',
            location: { x: n, y: 2, z: 0 },
          },
        }),
      ),
    );
    expect(created.events.map((e) => e.status)).toEqual(Array(5).fill('APPLIED'));
  });

  it('sends a technician only the building they subscribe to, and a moved unit as a deletion', async () => {
    // Prepare: each technician's first sync, several pages (limit 2).
    const one = await pullAll(techOne, 'ipad-1', '&collections=equipment&scopes=bldg-1');
    const two = await pullAll(techTwo, 'ipad-2', '&collections=equipment&scopes=bldg-2');
    expect(one.records.map((r) => r.id).sort()).toEqual(['hvac-1', 'hvac-2', 'hvac-3']);
    expect(two.records.map((r) => r.id).sort()).toEqual(['hvac-4', 'hvac-5']);

    // Act: the manager moves hvac-2 to building 2, and edits hvac-1 in place.
    const moved = await pushSettled(manager, 'console', [
      event('RECORD_UPDATED', minutesAgo(1), {
        collection: 'equipment',
        recordId: 'hvac-2',
        baseVersion: 1,
        changes: { buildingId: 'bldg-2', location: { x: 9, y: 9, z: 1 } },
      }),
      event('RECORD_UPDATED', minutesAgo(1), {
        collection: 'equipment',
        recordId: 'hvac-1',
        baseVersion: 1,
        changes: { status: 'MAINTENANCE' },
      }),
    ]);
    expect(moved.events.map((e) => e.status)).toEqual(['APPLIED', 'APPLIED']);

    // Assess: building 1's device gets hvac-2 as a deletion and hvac-1's edit; building 2's gets hvac-2.
    const oneDelta = await pullAll(techOne, 'ipad-1', '&collections=equipment&scopes=bldg-1', one.cursor);
    expect(oneDelta.deleted).toContainEqual({ type: 'RECORD', collection: 'equipment', id: 'hvac-2' });
    expect(oneDelta.records.map((r) => r.id)).toEqual(['hvac-1']);
    expect(oneDelta.records[0]?.data).toMatchObject({ status: 'MAINTENANCE' });
    const twoDelta = await pullAll(techTwo, 'ipad-2', '&collections=equipment&scopes=bldg-2', two.cursor);
    expect(twoDelta.records.map((r) => r.id)).toEqual(['hvac-2']);
    expect(twoDelta.records[0]).toMatchObject({ version: 2, data: { buildingId: 'bldg-2' } });
    expect(twoDelta.deleted).toEqual([]);
  });
});
