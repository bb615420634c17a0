import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { batchOutcomeSchema } from '../../shared/contracts/sync.js';
import { tenantMigrationSection } from '../support/migrations.js';
import { freshTenant } from '../support/tenants.js';

// Migration 0016 renames the event error code PROCESSING_ERROR (an early name of the queue's give-up) to
// PROCESSING_FAILED, the one catalogued name (shared/contracts/event-errors.ts). An event stored the old way is
// written into a fresh tenant, the migration's Up section is run on it, and the batch outcome is read back.
afterAll(() => closeApp());

const up = () => tenantMigrationSection('0016_processing_failed_code.sql', 'Up');

it('an event stored FAILED PROCESSING_ERROR reads back as PROCESSING_FAILED, still retryable', async () => {
  // Prepare: a batch with one old-style FAILED event and one REJECTED event the migration must not touch.
  const tenant = await freshTenant('mig16', ['oil-gas']);
  const pool = getApp().tenantPool(tenant);
  const [batchId, failed, rejected] = [randomUUID(), randomUUID(), randomUUID()];
  await pool.query(
    `insert into sync_batches (id, device_id, user_id, received_at, total, accepted)
     values ($1, 'dev-1', 'u-1', now(), 2, 2)`,
    [batchId],
  );
  await pool.query(
    `insert into sync_events (id, batch_id, device_id, user_id, type, payload, payload_hash, occurred_at,
                              received_at, status, error, attempts)
     values ($2, $1, 'dev-1', 'u-1', 'NOTES_ADDED', '{}', 'h1', now(), now(), 'FAILED',
             '{"code":"PROCESSING_ERROR","message":"dead-lettered","retryable":true}', 3),
            ($3, $1, 'dev-1', 'u-1', 'NOTES_ADDED', '{}', 'h2', now(), now(), 'REJECTED',
             '{"code":"WELL_NOT_FOUND","message":"no well","retryable":false}', 1)`,
    [batchId, failed, rejected],
  );
  const before = await getApp().eventLog.batchOutcome(tenant, batchId);
  // The old name is outside the catalogue: the outcome would not satisfy its own contract.
  expect(batchOutcomeSchema.safeParse(before).success).toBe(false);

  // Act
  await pool.query(up());

  // Assess
  const after = await getApp().eventLog.batchOutcome(tenant, batchId);
  expect(batchOutcomeSchema.safeParse(after).success).toBe(true);
  const byId = new Map(after?.events.map((e) => [e.eventId, e]));
  expect(byId.get(failed)).toEqual({
    eventId: failed,
    status: 'FAILED',
    error: { code: 'PROCESSING_FAILED', message: 'dead-lettered', retryable: true },
  });
  expect(byId.get(rejected)?.error).toEqual({ code: 'WELL_NOT_FOUND', message: 'no well', retryable: false });
});
