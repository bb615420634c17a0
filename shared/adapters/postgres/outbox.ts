import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { OutboxEntry, OutboxMessage, OutboxStore } from '../../usecases/ports/event-log.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import { guardPostgres } from './connection.js';

/**
 * Seconds a new row stays leased to the process that wrote it: its in-process relay sends right after the
 * commit; the sweep takes the row only once this has passed (the writer crashed, or its delivery failed).
 */
export const RELAY_LEASE_SECONDS = 10;

/**
 * Inserts `messages` as outbox rows on `client` (inside the caller's transaction), leased to this process
 * for RELAY_LEASE_SECONDS; one statement for all of them. Returns the rows with their new ids.
 */
export async function insertOutbox(client: pg.PoolClient, messages: OutboxMessage[]): Promise<OutboxEntry[]> {
  if (messages.length === 0) return [];
  const entries = messages.map((entry) => ({ id: randomUUID(), entry }));
  await client.query(
    `insert into outbox (id, kind, message, claimed_until)
     select o.id, o.kind, o.message, now() + make_interval(secs => $2)
     from jsonb_to_recordset($1::jsonb) as o(id uuid, kind text, message jsonb)`,
    [
      JSON.stringify(entries.map((e) => ({ id: e.id, kind: e.entry.kind, message: e.entry }))),
      RELAY_LEASE_SECONDS,
    ],
  );
  return entries;
}

/** The outbox table of each tenant database (migration 0015); rows are written by PostgresEventLog. */
export class PostgresOutboxStore implements OutboxStore {
  constructor(private readonly poolFor: (tenant: Tenant) => pg.Pool) {}

  async claimStale(tenant: Tenant, limit: number, leaseSeconds: number): Promise<OutboxEntry[]> {
    // One statement, no transaction left open: SKIP LOCKED lets two sweeps split the rows, and the new lease
    // keeps each row from the other sweep (and from the next run) while it is being delivered.
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{ id: string; message: OutboxMessage }>(
        `update outbox o set claimed_until = now() + make_interval(secs => $2), attempts = o.attempts + 1
         where o.id in (select id from outbox where claimed_until <= now()
                        order by created_at, id limit $1 for update skip locked)
         returning o.id, o.message`,
        [limit, leaseSeconds],
      ),
    );
    return rows.map((r) => ({ id: r.id, entry: r.message }));
  }

  async remove(tenant: Tenant, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await guardPostgres(() =>
      this.poolFor(tenant).query('delete from outbox where id = any($1::uuid[])', [ids]),
    );
  }
}
