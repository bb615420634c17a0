import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError } from '../../shared/errors.js';
import type { OutboxEntry } from '../../shared/usecases/ports/event-log.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { chunkMessage } from '../../shared/usecases/push.js';
import { relayOutbox } from '../../shared/usecases/outbox.js';

const tenant = { id: 't1', databaseName: 'fs_t1', displayName: null, status: 'ACTIVE' } as Tenant;

/** An outbox row of either kind; a device push's `fails` makes its Cosmos write throw. */
const entryArb = fc.oneof(
  fc.record({ id: fc.uuid(), kind: fc.constant('chunk' as const), fails: fc.constant(false) }),
  fc.record({ id: fc.uuid(), kind: fc.constant('device-push' as const), fails: fc.boolean() }),
);

const toEntry = (e: { id: string; kind: 'chunk' | 'device-push' }): OutboxEntry =>
  e.kind === 'chunk'
    ? {
        id: e.id,
        entry: {
          kind: 'chunk',
          message: chunkMessage({
            tenantId: 't1',
            batchId: e.id,
            deviceId: 'd',
            reason: 'push',
            eventIds: [e.id],
          }),
        },
      }
    : {
        id: e.id,
        entry: { kind: 'device-push', push: { deviceId: e.id, userId: 'u', at: '2026-01-01T00:00:00Z' } },
      };

describe('relayOutbox (the relay after the commit)', () => {
  it('deletes exactly the rows it delivered, never throws, and counts the rest as left — for any mix of failures', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(entryArb, { selector: (e) => e.id, maxLength: 12 }),
        fc.boolean(),
        fc.boolean(),
        async (rows, queueDown, deleteFails) => {
          // Prepare: a queue that is up or down (one call for every chunk: all or nothing), Cosmos per row
          const removed: string[] = [];
          const sends: number[] = [];
          const failing = new Set(rows.filter((r) => r.fails).map((r) => r.id));
          const deps = {
            queue: {
              send: async (messages: unknown[]) => {
                sends.push(messages.length);
                if (queueDown) throw new DependencyUnavailableError('queue');
              },
              schedule: () => Promise.reject(new Error('unused')),
            },
            devices: {
              recordPush: async (_t: string, push: { deviceId: string }) => {
                if (failing.has(push.deviceId)) throw new DependencyUnavailableError('cosmos');
              },
            },
            outbox: {
              claimStale: () => Promise.resolve([]),
              remove: async (_t: Tenant, ids: string[]) => {
                if (deleteFails) throw new DependencyUnavailableError('postgres');
                removed.push(...ids);
              },
            },
          };
          // Act
          const counts = await relayOutbox(deps, tenant, rows.map(toEntry));
          // Assess
          const delivered = rows.filter((r) => (r.kind === 'chunk' ? !queueDown : !r.fails)).map((r) => r.id);
          expect(counts).toEqual({ delivered: delivered.length, left: rows.length - delivered.length });
          expect(new Set(removed)).toEqual(new Set(deleteFails ? [] : delivered));
          const chunks = rows.filter((r) => r.kind === 'chunk').length;
          expect(sends).toEqual(chunks ? [chunks] : []);
        },
      ),
    );
  });
});
