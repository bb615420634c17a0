import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { PushAccepted } from '../../shared/contracts/sync.js';
import { sweepOutbox } from '../../shared/usecases/outbox.js';
import { tokenFor } from '../support/auth.js';
import { note } from '../support/events.js';
import { freePort } from '../support/ports.js';
import { push, settled } from '../support/sync.js';
import { type SeededTenant, seededTenant } from '../support/tenants.js';

// This file's app reaches the queue (and, in the first test, Cosmos) at ports where nothing listens; Postgres
// is the real one.
let t: SeededTenant;
let token: string;
const count = async (deviceId: string) =>
  Number(
    (
      await getApp()
        .tenantPool(t.tenant)
        .query<{ n: number }>(
          `select (select count(*) from sync_events where device_id = $1) + (select count(*) from sync_batches where device_id = $1) as n`,
          [deviceId],
        )
    ).rows[0]?.n,
  );

beforeAll(async () => {
  process.env.CosmosConnection = `AccountEndpoint=https://127.0.0.1:${await freePort()}/;AccountKey=a2V5;`;
  process.env.LOCAL_QUEUE_URL = `postgres://postgres:x@127.0.0.1:${await freePort()}/fieldsync`;
  t = await seededTenant('down');
  token = await tokenFor(t.tenant.id, ['OPERATOR']);
});
afterAll(() => closeApp());

/** The ids of the outbox rows holding a batch's chunk messages. */
const outboxOf = async (batchId: string) =>
  (
    await getApp()
      .tenantPool(t.tenant)
      .query<{ id: string }>(`select id from outbox where message->'message'->'body'->>'batchId' = $1`, [
        batchId,
      ])
  ).rows.map((r) => r.id);

describe('a dependency down at push', () => {
  it('Cosmos down (Idempotency-Key): 503 with Retry-After, nothing kept', async () => {
    const response = await push(
      token,
      { deviceId: 'cosmos-down-1', events: [note(t.wellId)] },
      { 'idempotency-key': 'k1' },
    );
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBeDefined();
    expect(response.body).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', detail: 'cosmos is unavailable' });
    expect(await count('cosmos-down-1')).toBe(0);
  });

  it('queue down: 202 (the events are durable), PENDING, and delivered by the outbox sweep once the queue is back', async () => {
    // Prepare: only the queue down this time (the push reads the device's owner from Cosmos before it records)
    await closeApp();
    process.env.CosmosConnection = inject('settings').CosmosConnection;
    // Act
    const response = await push(token, {
      deviceId: 'queue-down-1',
      events: [note(t.wellId), note(t.wellId, 'two')],
    });
    // Assess: accepted — the events and their chunk message committed together; the message waits in the outbox
    expect(response.status).toBe(202);
    const { batchId } = response.body as PushAccepted;
    expect(await count('queue-down-1')).toBe(3);
    const pending = await getApp()
      .tenantPool(t.tenant)
      .query<{ status: string }>('select status from sync_events where batch_id = $1', [batchId]);
    expect(pending.rows.map((r) => r.status)).toEqual(['PENDING', 'PENDING']);
    const held = await outboxOf(batchId);
    expect(held).toHaveLength(1);
    // Act: the queue is back (this file's app now reaches the stack's queue); the chunk's lease has run out
    await closeApp();
    delete process.env.LOCAL_QUEUE_URL;
    await getApp()
      .tenantPool(t.tenant)
      .query(`update outbox set claimed_until = now() - interval '1 second' where id = any($1::uuid[])`, [
        held,
      ]);
    const swept = await sweepOutbox(getApp(), t.tenant);
    // Assess: delivered, and the stack's processor applies both
    expect(swept.delivered).toBeGreaterThanOrEqual(1);
    expect(await outboxOf(batchId)).toEqual([]);
    expect((await settled(token, batchId)).counts).toMatchObject({ total: 2, applied: 2, pending: 0 });
  });
});
