import type pg from 'pg';
import type { LOCK_SEEDS } from './advisory-locks.js';

/**
 * Session-level advisory locks, for work that must hold a lock across calls to other services with no
 * transaction open (the chunk engine's photo locks around Blob Storage calls; issue 17). Only on a direct
 * connection (the admin port): PgBouncer in transaction mode would hand the next statement another server
 * connection, so a session lock would be taken on one and never released (test/unit/postgres-budget.test.ts
 * allows session features in this file only).
 */

const LOCKS = `select hashtextextended(k, $2) as h from unnest($1::text[]) k order by 1`;

/**
 * Takes the session-level advisory locks of `keys` on `client`, in sorted order (two holders cannot deadlock
 * on them), waiting for other holders. Release them with `unlockSession` (or drop the connection).
 */
export async function lockSession(
  client: pg.PoolClient,
  seed: (typeof LOCK_SEEDS)[keyof typeof LOCK_SEEDS],
  keys: readonly string[],
): Promise<void> {
  if (!keys.length) return;
  await client.query(`select pg_advisory_lock(h) from (${LOCKS}) locks`, [[...new Set(keys)], seed]);
}

/** Releases session-level advisory locks taken by `lockSession` with the same seed and keys. */
export async function unlockSession(
  client: pg.PoolClient,
  seed: (typeof LOCK_SEEDS)[keyof typeof LOCK_SEEDS],
  keys: readonly string[],
): Promise<void> {
  if (!keys.length) return;
  await client.query(`select pg_advisory_unlock(h) from (${LOCKS}) locks`, [[...new Set(keys)], seed]);
}
