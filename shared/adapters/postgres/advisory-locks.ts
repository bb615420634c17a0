import type pg from 'pg';

/**
 * Seeds of the transaction-scoped advisory locks that serialise writers of one thing across chunks and
 * managers' resolutions. A key is `hashtextextended(key, seed)`: the same key and seed everywhere it is taken.
 * - `productionRecord`: `${wellId}|${productionDate}` (covers records that do not exist yet);
 * - `photo`: a photo id in lower case, held from its blob check to the commit of its link;
 * - `record`: a record's `${collection}/${id}` (covers records that do not exist yet; v1.1 record events).
 */
export const LOCK_SEEDS = { productionRecord: 7241, photo: 7243, record: 7245 } as const;

/**
 * Takes the advisory locks of `keys` until the end of `client`'s transaction, always in the same (sorted)
 * order so two transactions cannot deadlock on them. No-op for no keys.
 */
export async function lockKeys(
  client: pg.PoolClient,
  seed: (typeof LOCK_SEEDS)[keyof typeof LOCK_SEEDS],
  keys: readonly string[],
): Promise<void> {
  const unique = [...new Set(keys)];
  if (!unique.length) return;
  await client.query(
    `select pg_advisory_xact_lock(h) from (
       select hashtextextended(k, $2) as h from unnest($1::text[]) k order by 1) locks`,
    [unique, seed],
  );
}
