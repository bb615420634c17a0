import { getApp } from '../../shared/app.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';

export interface Hold {
  /** Resolves once a processor is waiting on the hold: the tenant's next chunk is blocked, not yet done. */
  waiting(timeoutMillis?: number): Promise<void>;
  /** Lets the blocked chunks go on (the held transaction rolls back; nothing was changed). */
  release(): Promise<void>;
}

/**
 * Blocks the processing of one tenant's events, deterministically, without blocking its pushes, retries,
 * pulls or batch reads: a transaction in the tenant's own database holds `conflict_strategies` in ACCESS
 * EXCLUSIVE mode. Every chunk reads that table (the tenant's strategies) after it has locked its PENDING
 * events and before it writes anything (shared/usecases/apply-chunk.ts, on the store's loadInput), and only the
 * processor and the strategies routes read it. Other tenants are untouched (one database per tenant).
 * Release it in a `finally`: the host's processor keeps one of its slots while it waits.
 */
export async function holdProcessing(tenant: Tenant): Promise<Hold> {
  const pool = getApp().tenantPool(tenant);
  const client = await pool.connect();
  await client.query('begin');
  await client.query('lock table conflict_strategies in access exclusive mode');
  let released = false;
  return {
    async waiting(timeoutMillis = 20_000) {
      const deadline = Date.now() + timeoutMillis;
      for (;;) {
        const { rows } = await pool.query<{ n: number }>(
          `select count(*)::int as n from pg_locks
           where database = (select oid from pg_database where datname = current_database())
             and relation = 'conflict_strategies'::regclass and not granted`,
        );
        if ((rows[0]?.n ?? 0) > 0) return;
        if (Date.now() > deadline) throw new Error('no processor reached the held lock in time');
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async release() {
      if (released) return;
      released = true;
      try {
        await client.query('rollback');
      } finally {
        client.release();
      }
    },
  };
}
