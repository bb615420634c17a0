import pg from 'pg';

export interface PoolOptions {
  max: number;
  idleMillis: number;
  connectionTimeoutMillis?: number;
}

/**
 * Pools by database, each made on first use and closed once idle: a serverless instance may serve many
 * tenants, so each gets a few connections only while it is busy.
 */
export class PoolCache {
  private readonly pools = new Map<string, { pool: pg.Pool; lastUsed: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly configFor: (database: string) => pg.PoolConfig,
    private readonly options: PoolOptions,
  ) {
    this.sweeper = setInterval(() => void this.closeIdle(), Math.max(1000, options.idleMillis / 2));
    this.sweeper.unref();
  }

  get(database: string): pg.Pool {
    const entry = this.pools.get(database);
    if (entry) {
      entry.lastUsed = Date.now();
      return entry.pool;
    }
    const pool = new pg.Pool({
      ...this.configFor(database),
      max: this.options.max,
      idleTimeoutMillis: this.options.idleMillis,
      connectionTimeoutMillis: this.options.connectionTimeoutMillis ?? 5000,
      allowExitOnIdle: true,
    });
    // An idle client's socket can drop (server restart); the pool replaces it, the process must not crash.
    pool.on('error', () => {});
    this.pools.set(database, { pool, lastUsed: Date.now() });
    return pool;
  }

  /** How many pools are open; visible so tests can show idle pools close. */
  get size(): number {
    return this.pools.size;
  }

  async closeIdle(now = Date.now()): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [database, entry] of this.pools) {
      const idle = entry.pool.totalCount === entry.pool.idleCount && entry.pool.waitingCount === 0;
      if (idle && now - entry.lastUsed >= this.options.idleMillis) {
        this.pools.delete(database);
        closing.push(entry.pool.end());
      }
    }
    await Promise.all(closing);
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    const pools = [...this.pools.values()].map((e) => e.pool.end());
    this.pools.clear();
    await Promise.all(pools);
  }
}
