import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { tokenFor } from '../support/auth.js';
import { note } from '../support/events.js';
import { freePort } from '../support/ports.js';
import { push } from '../support/sync.js';
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

  it('queue down: 503 with Retry-After, and the recorded events are rolled back', async () => {
    // Only the queue down this time: the push reads the device's owner from Cosmos before it records anything.
    await closeApp();
    process.env.CosmosConnection = inject('settings').CosmosConnection;
    const response = await push(token, {
      deviceId: 'queue-down-1',
      events: [note(t.wellId), note(t.wellId, 'two')],
    });
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBeDefined();
    expect(response.body).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE', detail: 'queue is unavailable' });
    expect(response.text).not.toMatch(/postgres:\/\/|127\.0\.0\.1/);
    expect(await count('queue-down-1')).toBe(0);
  });
});
