import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { Principal } from '../../shared/auth/principal.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import type { DeviceStatusStore } from '../../shared/usecases/ports/devices.js';
import type { EventQueue, OutgoingMessage } from '../../shared/usecases/ports/queue.js';
import type { OutboxStore } from '../../shared/usecases/ports/event-log.js';
import { sweepOutbox, sweepOutboxes } from '../../shared/usecases/outbox.js';
import { pushBatch } from '../../shared/usecases/push.js';
import { retryFailedEvents } from '../../shared/usecases/retry.js';
import { acceptEvents } from '../support/accept.js';
import { tokenFor } from '../support/auth.js';
import { note, reading } from '../support/events.js';
import { ownSyncProcessor } from '../support/processor.js';
import { settled } from '../support/sync.js';
import { waitFor } from '../support/wait.js';
import { onlyTenants, type SeededTenant, seededTenant, tenantRows } from '../support/tenants.js';

// The transactional outbox's crash points (issue 17, item 1; docs/architecture.md "Push pipeline"). This
// file's own queue and processor: its batches settle whatever else the run is processing.
ownSyncProcessor('outbox');

let t: SeededTenant;
let token: string;
const principal = (): Principal => ({ tenantId: t.tenant.id, userId: 'u-outbox', roles: ['OPERATOR'] });

beforeAll(async () => {
  t = await seededTenant('outbox');
  token = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-outbox');
});
afterAll(() => closeApp());

const rows = <R extends Record<string, unknown>>(sql: string, params?: unknown[]) =>
  tenantRows<R>(t.tenant, sql, params);

/** The outbox rows of a batch (chunk messages) or a device (its push), with their kind. */
const outboxOf = (batchOrDevice: string) =>
  rows<{ id: string; kind: string; attempts: number }>(
    `select id, kind, attempts from outbox
     where message->'message'->'body'->>'batchId' = $1 or message->'push'->>'deviceId' = $1
     order by kind`,
    [batchOrDevice],
  );

/** Lets the in-process lease of these rows run out, as the seconds after a crash would. */
const leaseRunsOut = (ids: string[]) =>
  rows(`update outbox set claimed_until = now() - interval '1 second' where id = any($1::uuid[])`, [ids]);

/** A queue that is down: every send throws as the adapters do. */
const downQueue: EventQueue = {
  send: () => Promise.reject(new DependencyUnavailableError('queue')),
  schedule: () => Promise.reject(new DependencyUnavailableError('queue')),
};

/** The real queue, recording what it was asked to send. */
function recordingQueue(sent: OutgoingMessage[]): EventQueue {
  const queue = getApp().queue;
  return {
    send: async (messages) => {
      sent.push(...messages);
      await queue.send(messages);
    },
    schedule: (message, at) => queue.schedule(message, at),
  };
}

/** Every event of the batch APPLIED once: one reading row per reading event, one note per note event. */
async function expectAppliedOnce(eventIds: string[]) {
  const [effects] = await rows<{ readings: string; notes: string; applied: string; attempts: number }>(
    `select (select count(*) from well_readings where event_id = any($1::uuid[])) as readings,
            (select count(*) from notes where event_id = any($1::uuid[])) as notes,
            (select count(*) from sync_events where id = any($1::uuid[]) and status = 'APPLIED') as applied,
            (select max(attempts) from sync_events where id = any($1::uuid[]))::int as attempts`,
    [eventIds],
  );
  expect(Number(effects?.readings) + Number(effects?.notes)).toBe(eventIds.length);
  expect(Number(effects?.applied)).toBe(eventIds.length);
  expect(effects?.attempts).toBe(1);
}

describe('transactional outbox: crash points', () => {
  it('after commit, before relay: accepted, events PENDING; the sweep delivers once the lease ran out; applied once', async () => {
    // Prepare: a relay that never reaches the queue (the process "dies" between commit and send)
    const app = getApp();
    const deviceId = 'outbox-crash-1';
    const events = [reading(t.wellId, 801), reading(t.wellId, 802), note(t.wellId, 'after commit')];
    // Act
    const pushed = await pushBatch(
      { ...app, queue: downQueue },
      { tenant: t.tenant, principal: principal(), body: { deviceId, events } },
    );
    // Assess: durable before 2xx — every event PENDING, its chunk message held in the outbox
    if (pushed.kind !== 'accepted') throw new Error('expected a new batch');
    const { batchId } = pushed.response;
    expect(pushed.response.accepted).toBe(3);
    const held = await outboxOf(batchId);
    expect(held.map((r) => r.kind)).toEqual(['chunk']);
    const statuses = await rows<{ status: string }>('select status from sync_events where batch_id = $1', [
      batchId,
    ]);
    expect(statuses.map((r) => r.status)).toEqual(['PENDING', 'PENDING', 'PENDING']);
    // A sweep while the writer's lease still holds takes nothing of it (the writer may still be sending).
    await sweepOutbox(app, t.tenant);
    expect(await outboxOf(batchId)).toHaveLength(1);
    // Act: the lease runs out; the sweep of a live instance delivers
    await leaseRunsOut(held.map((r) => r.id));
    const swept = await sweepOutbox(app, t.tenant);
    // Assess
    expect(swept.delivered).toBeGreaterThanOrEqual(1);
    expect(await outboxOf(batchId)).toEqual([]);
    const outcome = await settled(token, batchId);
    expect(outcome.counts).toMatchObject({ total: 3, applied: 3, pending: 0 });
    await expectAppliedOnce(events.map((e) => e.id));
  });

  it('relay sent but not deleted: the sweep sends the same MessageId again, and the copy applies nothing', async () => {
    // Prepare: the relay sends, then "dies" before its delete
    const app = getApp();
    const sent: OutgoingMessage[] = [];
    const noDelete: OutboxStore = {
      claimStale: (tenant, limit, lease) => app.outbox.claimStale(tenant, limit, lease),
      remove: () => Promise.reject(new DependencyUnavailableError('postgres')),
    };
    const deviceId = 'outbox-crash-2';
    const events = [reading(t.wellId, 811), note(t.wellId, 'sent not deleted')];
    const pushed = await pushBatch(
      { ...app, queue: recordingQueue(sent), outbox: noDelete },
      { tenant: t.tenant, principal: principal(), body: { deviceId, events } },
    );
    if (pushed.kind !== 'accepted') throw new Error('expected a new batch');
    const { batchId } = pushed.response;
    const first = await settled(token, batchId);
    const held = await outboxOf(batchId);
    expect(held).toHaveLength(1);
    // Act: the lease runs out; the sweep re-sends
    await leaseRunsOut(held.map((r) => r.id));
    const resent: OutgoingMessage[] = [];
    const swept = await sweepOutbox({ ...app, queue: recordingQueue(resent) }, t.tenant);
    // Assess: the same MessageId (the queue's duplicate detection drops it), and a copy that does get through
    // applies nothing (only PENDING events are processed)
    expect(swept.delivered).toBeGreaterThanOrEqual(1);
    const again = resent.filter((m) => m.body.batchId === batchId);
    expect(again.map((m) => m.messageId)).toEqual(sent.map((m) => m.messageId));
    expect(await outboxOf(batchId)).toEqual([]);
    // A push's message names its batch, not its events: the copy takes whatever of the batch is PENDING.
    expect(again[0]?.body).toEqual({ tenantId: t.tenant.id, batchId, deviceId, reason: 'push' });
    const copy = await app.processor.process(t.tenant, batchId, again[0]?.body.eventIds);
    expect(copy.processed).toBe(0);
    expect(first.counts).toMatchObject({ total: 2, applied: 2 });
    await expectAppliedOnce(events.map((e) => e.id));
  });

  it('Cosmos refusing the device status after the commit: accepted and applied; the sweep records the push', async () => {
    // Prepare: the real store, but writes fail as with Cosmos down (the owner read before the commit works)
    const app = getApp();
    const devices = Object.assign(Object.create(app.devices) as DeviceStatusStore, {
      recordPush: () => Promise.reject(new DependencyUnavailableError('cosmos')),
    });
    const deviceId = 'outbox-cosmos-1';
    // Act
    const pushed = await pushBatch(
      { ...app, devices },
      { tenant: t.tenant, principal: principal(), body: { deviceId, events: [note(t.wellId, 'cosmos')] } },
    );
    // Assess: accepted, the chunk delivered, the device's push held
    if (pushed.kind !== 'accepted') throw new Error('expected a new batch');
    expect((await settled(token, pushed.response.batchId)).counts).toMatchObject({ applied: 1 });
    const held = await outboxOf(deviceId);
    expect(held.map((r) => r.kind)).toEqual(['device-push']);
    // No push recorded, no owner yet (the processor's lastSyncAt may have made a record without one)
    const before = await app.devices.get(t.tenant.id, deviceId);
    expect({ userId: before?.userId ?? '', lastPushAt: before?.lastPushAt ?? null }).toEqual({
      userId: '',
      lastPushAt: null,
    });
    // Act: Cosmos is back; the sweep makes the write good
    await leaseRunsOut(held.map((r) => r.id));
    await sweepOutbox(app, t.tenant);
    // Assess: the device is recorded, owned by the pusher, at the push's time
    expect(await app.devices.get(t.tenant.id, deviceId)).toMatchObject({
      userId: 'u-outbox',
      lastPushAt: pushed.response.receivedAt,
    });
    expect(await outboxOf(deviceId)).toEqual([]);
  });

  it('retry with the queue down: answered, events PENDING; the sweep delivers and they apply', async () => {
    // Prepare: two events FAILED (their message's schedule used up)
    const app = getApp();
    const deviceId = 'outbox-retry-1';
    const { batchId, ids } = await acceptEvents(
      t.tenant,
      [reading(t.wellId, 821), note(t.wellId, 'retried')],
      deviceId,
      'u-outbox',
    );
    await app.eventLog.markFailed(
      t.tenant,
      { batchId, eventIds: ids },
      { code: 'PROCESSING_FAILED', message: 'test' },
    );
    // Act
    const result = await retryFailedEvents({ ...app, queue: downQueue }, t.tenant, principal(), {
      eventIds: ids,
    });
    // Assess: durable — PENDING, the message held
    expect(result.retried).toBe(2);
    const held = await outboxOf(batchId);
    expect(held.map((r) => r.kind)).toEqual(['chunk']);
    expect(
      (
        await rows<{ status: string }>('select status from sync_events where id = any($1::uuid[])', [ids])
      ).map((r) => r.status),
    ).toEqual(['PENDING', 'PENDING']);
    // Act: the queue is back
    await leaseRunsOut(held.map((r) => r.id));
    await sweepOutbox(app, t.tenant);
    // Assess
    const outcome = await settled(token, batchId);
    expect(outcome.counts).toMatchObject({ total: 2, applied: 2 });
    expect(await outboxOf(batchId)).toEqual([]);
  });

  it('two sweeps at once never take the same row; together they take every stale row', async () => {
    // Prepare: six pushes whose relay never reached the queue, their leases run out
    const app = getApp();
    const batchIds: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const pushed = await pushBatch(
        { ...app, queue: downQueue },
        {
          tenant: t.tenant,
          principal: principal(),
          body: { deviceId: 'outbox-two-sweeps', events: [reading(t.wellId, 830 + i)] },
        },
      );
      if (pushed.kind === 'accepted') batchIds.push(pushed.response.batchId);
    }
    const held = (await Promise.all(batchIds.map(outboxOf))).flat();
    expect(held).toHaveLength(6);
    await leaseRunsOut(held.map((r) => r.id));
    // Act: two instances lease at the same moment
    const [a, b] = await Promise.all([
      app.outbox.claimStale(t.tenant, 1000, 60),
      app.outbox.claimStale(t.tenant, 1000, 60),
    ]);
    // Assess: disjoint, and every row of these batches taken by one of them
    const taken = [...a, ...b].map((e) => e.id);
    expect(new Set(taken).size).toBe(taken.length);
    expect(taken).toEqual(expect.arrayContaining(held.map((r) => r.id)));
    // Leased now: a third sweep takes none of them
    const third = (await app.outbox.claimStale(t.tenant, 1000, 60)).map((e) => e.id);
    expect(third.filter((id) => taken.includes(id))).toEqual([]);
    // Cleanup by delivery: their lease runs out and a sweep sends them; each batch applies
    await leaseRunsOut(held.map((r) => r.id));
    await sweepOutbox(app, t.tenant);
    for (const batchId of batchIds) {
      expect((await settled(token, batchId)).counts).toMatchObject({ applied: 1, pending: 0 });
    }
  });

  it("the timer's walk over the tenants (sweepOutboxes) delivers a row a crash left", async () => {
    // Prepare: a push whose relay never reached the queue, its lease run out
    const app = getApp();
    const events = [note(t.wellId, 'timer')];
    const pushed = await pushBatch(
      { ...app, queue: downQueue },
      { tenant: t.tenant, principal: principal(), body: { deviceId: 'outbox-timer', events } },
    );
    if (pushed.kind !== 'accepted') throw new Error('expected a new batch');
    const held = await outboxOf(pushed.response.batchId);
    await leaseRunsOut(held.map((r) => r.id));
    // Act: what the sweepOutbox timer runs, over this file's tenant only
    const result = await sweepOutboxes({ ...app, tenants: onlyTenants(app.tenants, [t.tenant.id]) });
    // Assess
    expect(result.tenants).toEqual([expect.objectContaining({ tenantId: t.tenant.id, ok: true })]);
    expect(result.delivered).toBeGreaterThanOrEqual(1);
    expect((await settled(token, pushed.response.batchId)).counts).toMatchObject({ applied: 1, pending: 0 });
    await expectAppliedOnce(events.map((e) => e.id));
  });
  it("a device's first push waits for its relay (its owner is recorded before the 202); a later push answers at the commit", async () => {
    // Prepare: a queue whose send waits for a gate this test opens
    const app = getApp();
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let sends = 0;
    const gated: EventQueue = {
      send: async (messages) => {
        sends += 1;
        await gate;
        await app.queue.send(messages);
      },
      schedule: (message, at) => app.queue.schedule(message, at),
    };
    const deviceId = 'outbox-answer-1';
    const command = (events: ReturnType<typeof note>[]) => ({
      tenant: t.tenant,
      principal: principal(),
      body: { deviceId, events },
    });
    // Act 1: the device's first push
    let firstAnswered = false;
    const first = pushBatch({ ...app, queue: gated }, command([note(t.wellId, 'first')])).then((r) => {
      firstAnswered = true;
      return r;
    });
    // (waitFor checks between timer turns: an answer not waiting for the relay would have settled by then)
    await waitFor(() => sends === 1, { what: 'the first relay to reach the queue' });
    await new Promise((resolve) => setImmediate(resolve));
    // Assess 1: not answered while its relay waits
    expect(firstAnswered).toBe(false);
    open();
    const firstPushed = await first;
    if (firstPushed.kind !== 'accepted') throw new Error('expected a new batch');
    expect((await app.devices.get(t.tenant.id, deviceId))?.userId).toBe('u-outbox');
    // Act 2: a later push of the same device, the queue held shut again
    let openAgain: () => void = () => undefined;
    const gateAgain = new Promise<void>((resolve) => (openAgain = resolve));
    const held: EventQueue = {
      send: async (messages) => {
        await gateAgain;
        await app.queue.send(messages);
      },
      schedule: (message, at) => app.queue.schedule(message, at),
    };
    const later = await pushBatch({ ...app, queue: held }, command([note(t.wellId, 'later')]));
    // Assess 2: answered with its message still waiting for the queue (the gate is shut); once the queue
    // takes it, both batches apply
    if (later.kind !== 'accepted') throw new Error('expected a new batch');
    expect(await outboxOf(later.response.batchId)).toHaveLength(1);
    openAgain();
    expect((await settled(token, later.response.batchId)).counts).toMatchObject({ applied: 1, pending: 0 });
    expect((await settled(token, firstPushed.response.batchId)).counts).toMatchObject({ applied: 1 });
  });
});
