import { describe, expect, it } from 'vitest';
import { PoolCache } from '../../shared/adapters/postgres/pools.js';

/** A database of the control server (the only server these tests use). */
const db = (databaseName: string) => ({ server: 'primary', databaseName });

/**
 * Issue 12 item 2: an instance that serves many tenants must not keep TENANT_POOL_MAX idle connections for
 * each of them; over TENANT_CONNECTIONS_MAX open connections, idle pools close before another is handed out.
 */
describe('tenant pools share one connection budget per instance', () => {
  it('closes the least recently used idle pools once the open connections reach maxOpen', async () => {
    const url = process.env.POSTGRES_URL ?? '';
    const cache = new PoolCache(
      ({ databaseName }) => ({ connectionString: url.replace(/\/[^/]*$/, `/${databaseName}`) }),
      { max: 2, idleMillis: 60_000, maxOpen: 2 },
    );
    try {
      // Three databases every server has, each used once: one idle connection each.
      const first = cache.get(db('postgres'));
      await first.query('select 1');
      const second = cache.get(db('template1'));
      await second.query('select 1');
      expect(cache.openConnections).toBe(2);
      // At the budget: the least recently used idle pool closes before the third database gets one.
      const third = cache.get(db('fieldsync'));
      expect(first.ended).toBe(true);
      expect(second.ended).toBe(false);
      await third.query('select 1');
      expect(cache.openConnections).toBeLessThanOrEqual(2);
      expect(cache.size).toBe(2);
      // A pool in use is never closed: the budget bends instead (busy connections are bounded by the
      // host's concurrency, docs/deploy.md).
      const client = await third.connect();
      try {
        const again = cache.get(db('postgres'));
        expect(second.ended).toBe(true);
        expect(third.ended).toBe(false);
        await again.query('select 1');
        await client.query('select 1');
      } finally {
        client.release();
      }
    } finally {
      await cache.closeAll();
    }
  });

  it('without maxOpen nothing is closed early (the option is what bounds it)', async () => {
    const url = process.env.POSTGRES_URL ?? '';
    const cache = new PoolCache(
      ({ databaseName }) => ({ connectionString: url.replace(/\/[^/]*$/, `/${databaseName}`) }),
      { max: 2, idleMillis: 60_000 },
    );
    try {
      for (const name of ['postgres', 'template1', 'fieldsync']) await cache.get(db(name)).query('select 1');
      expect(cache.openConnections).toBe(3);
      expect(cache.size).toBe(3);
    } finally {
      await cache.closeAll();
    }
  });
});
