import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { tenantMigrationSection } from '../support/migrations.js';
import { freshTenant } from '../support/tenants.js';

// Migration 0014 (conflict review states) backfills the conflicts recorded before it. Its Down section puts a
// fresh tenant back in the old state, old-style rows are written, and its Up section is run on them.
afterAll(() => closeApp());

const section = (name: 'Up' | 'Down') => tenantMigrationSection('0014_conflict_review_states.sql', name);

it('backfills: a strategy’s result counts as reviewed, a manager’s resolution as that manager’s review', async () => {
  // Prepare: the tenant as before 0014, with a held conflict, a strategy-settled one and a manager's resolution.
  const tenant = await freshTenant('mig14', ['oil-gas']);
  const pool = getApp().tenantPool(tenant);
  await pool.query(section('Down'));
  const [held, byStrategy, byManager] = [randomUUID(), randomUUID(), randomUUID()];
  await pool.query(
    `insert into conflicts (id, record_type, record_key, fields, event_id, server_value, client_value, resolution,
                            status, resolved_by, resolved_at, created_at)
     values ($1, 'PRODUCTION', 'w|2025-01-01', '{oilVolume}', gen_random_uuid(), '{}', '{}', 'PENDING_REVIEW', 'OPEN',
             null, null, '2025-01-01T10:00:00Z'),
            ($2, 'PRODUCTION', 'w|2025-01-02', '{oilVolume}', gen_random_uuid(), '{}', '{}', 'SERVER_WINS', 'RESOLVED',
             null, null, '2025-01-02T10:00:00Z'),
            ($3, 'PRODUCTION', 'w|2025-01-03', '{oilVolume}', gen_random_uuid(), '{}', '{}', 'CLIENT_WINS', 'RESOLVED',
             'u-boss', '2025-01-04T10:00:00Z', '2025-01-03T10:00:00Z')`,
    [held, byStrategy, byManager],
  );

  // Act
  await pool.query(section('Up'));

  // Assess
  const conflict = async (id: string) => (await getApp().conflicts.get(tenant, id)) ?? {};
  expect(await conflict(held)).toMatchObject({
    status: 'OPEN',
    resolution: 'PENDING_REVIEW',
    automaticResolution: null,
    reviewedBy: null,
    resolvedAt: null,
  });
  expect(await conflict(byStrategy)).toMatchObject({
    status: 'ACKNOWLEDGED',
    resolution: 'SERVER_WINS',
    automaticResolution: 'SERVER_WINS',
    resolvedBy: null,
    resolvedAt: '2025-01-02T10:00:00.000Z',
    reviewedBy: 'fieldsync:migration-0014',
  });
  expect(await conflict(byManager)).toMatchObject({
    status: 'RESOLVED',
    resolution: 'CLIENT_WINS',
    automaticResolution: null,
    resolvedBy: 'u-boss',
    reviewedBy: 'u-boss',
    reviewedAt: '2025-01-04T10:00:00.000Z',
  });
  // The new invariant holds: a handled conflict without a reviewer is refused.
  await expect(
    pool.query(`update conflicts set reviewed_by = null, reviewed_at = null where id = $1`, [byManager]),
  ).rejects.toThrow(/conflicts_review_check/);
});
