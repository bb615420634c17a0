import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import type { CheckedPart } from '../../shared/usecases/ports/event-log.js';
import { ACCEPT_PART_SIZE } from '../../shared/usecases/push.js';
import { acceptedEvent } from '../support/accept.js';
import { tokenFor } from '../support/auth.js';
import { note, type RawEvent } from '../support/events.js';
import { ownSyncProcessor } from '../support/processor.js';
import { pushAccepted } from '../support/sync.js';
import { type SeededTenant, seededTenant, tenantRows } from '../support/tenants.js';

// A push reaches the event log in parts of ACCEPT_PART_SIZE events, each written while the next is checked
// (issue 17, docs/architecture.md "Issue 17, fourth pass"): what spans parts must read as one batch, and
// the batch commits whole or not at all. This file's own queue and processor settle what it pushes.
ownSyncProcessor('push-parts');

let t: SeededTenant;
let token: string;

beforeAll(async () => {
  t = await seededTenant('parts');
  token = await tokenFor(t.tenant.id, ['OPERATOR'], 'u-parts');
});
afterAll(() => closeApp());

const rows = <R extends Record<string, unknown>>(sql: string, params?: unknown[]) =>
  tenantRows<R>(t.tenant, sql, params);

describe('a push written part by part', () => {
  it('duplicates, reuses and refusals in later parts are told at their index, as in a one-part push', async () => {
    // Prepare: 1000 notes; one is already stored (an earlier push); later parts repeat ids of part one.
    expect(ACCEPT_PART_SIZE).toBeLessThan(500);
    const events: RawEvent[] = Array.from({ length: 1000 }, (_, i) => note(t.wellId, `part note ${i}`));
    const earlier = events[300] as RawEvent;
    await pushAccepted(token, { deviceId: 'tablet-parts', events: [earlier] });
    const first = events[5] as RawEvent;
    const other = events[10] as RawEvent;
    events[700] = { ...first }; // the same event again: a duplicate of index 5
    events[900] = { ...other, payload: { ...other.payload, text: 'changed' } }; // same id, other body
    events[600] = { ...(events[600] as RawEvent), payload: {} }; // invalid
    // Act
    const answer = await pushAccepted(token, { deviceId: 'tablet-parts', events });
    // Assess: 1000 − the stored one − the repeat − the reuse − the invalid one.
    expect(answer.accepted).toBe(996);
    expect([...answer.duplicates].sort()).toEqual([earlier.id, first.id].sort());
    expect(answer.rejected.map((r) => [r.index, r.code, r.eventId])).toEqual([
      [600, 'INVALID_PAYLOAD', events[600]?.id],
      [900, 'EVENT_ID_REUSED', other.id],
    ]);
    expect(answer.rejected[0]?.errors?.[0]?.path).toMatch(/^events\[600\]\.payload/);
    const stored = await rows<{ n: number; texts: string[] }>(
      `select count(*)::int as n, array_agg(payload->>'text') filter (where id = any($2::uuid[])) as texts
       from sync_events where batch_id = $1`,
      [answer.batchId, [other.id]],
    );
    expect(stored[0]).toEqual({ n: 996, texts: ['part note 10'] });
  });

  it('a part that fails rolls back the parts written before it: nothing of the batch stays', async () => {
    // Prepare: part one is valid; part two holds an id Postgres refuses (not a uuid), and while its
    // statement fails the next part is still being taken (a slow generator): the failure must surface as
    // the push's error, not as an unhandled rejection.
    const good = Array.from({ length: 3 }, (_, i) => acceptedEvent(note(t.wellId, `rolled back ${i}`), i));
    const bad = { ...acceptedEvent(note(t.wellId, 'bad id'), 3) };
    bad.event = { ...bad.event, id: 'not-a-uuid' };
    let taken = 0;
    async function* parts(): AsyncGenerator<CheckedPart> {
      yield { accepted: good, rejected: [] };
      yield { accepted: [bad], rejected: [] };
      taken += 1;
      await new Promise((resolve) => setTimeout(resolve, 200));
      yield { accepted: [acceptedEvent(note(t.wellId, 'third part'), 4)], rejected: [] };
    }
    const batchId = randomUUID();
    // Act
    const outcome = getApp().eventLog.acceptBatch(
      t.tenant,
      {
        id: batchId,
        deviceId: 'tablet-parts',
        userId: 'u-parts',
        receivedAt: new Date().toISOString(),
        total: 5,
      },
      parts(),
      () => [],
    );
    // Assess
    await expect(outcome).rejects.toThrow(/uuid/);
    expect(taken).toBe(1);
    const left = await rows(
      'select id from sync_events where id = any($1::uuid[]) union all select id from sync_batches where id = $2',
      [good.map((e) => e.event.id), batchId],
    );
    expect(left).toEqual([]);
  });

  it('a generator that fails after a part was written rolls that part back too', async () => {
    // Prepare
    const good = [acceptedEvent(note(t.wellId, 'written, then the checking failed'), 0)];
    async function* parts(): AsyncGenerator<CheckedPart> {
      yield { accepted: good, rejected: [] };
      throw new Error('checking failed');
    }
    // Act
    const outcome = getApp().eventLog.acceptBatch(
      t.tenant,
      {
        id: randomUUID(),
        deviceId: 'tablet-parts',
        userId: 'u-parts',
        receivedAt: new Date().toISOString(),
        total: 1,
      },
      parts(),
      () => [],
    );
    // Assess
    await expect(outcome).rejects.toThrow('checking failed');
    expect(await rows('select id from sync_events where id = $1', [good[0]?.event.id])).toEqual([]);
  });
});
