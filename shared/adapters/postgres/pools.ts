import pg from 'pg';
import type { TenantLocation } from '../../usecases/ports/tenancy.js';

export interface PoolOptions {
  /** Connections per tenant database (TENANT_POOL_MAX). */
  max: number;
  idleMillis: number;
  connectionTimeoutMillis?: number;
  /**
   * Open connections over all tenant pools of this instance (TENANT_CONNECTIONS_MAX) beyond which idle
   * pools are closed, least recently used first, before another tenant's is handed out. Without it an
   * instance that served many tenants in the last idleMillis keeps max idle connections for each
   * (docs/deploy.md "Postgres connection budget"). Busy connections are never closed, so the open count
   * can exceed it only by what is in use at that moment, which the host's concurrency bounds.
   */
  maxOpen?: number;
}

/**
 * Pools by server and database, each made on first use and closed once idle: a serverless instance may serve
 * many tenants, so each gets a few connections only while it is busy. Two servers may hold databases of the
 * same name, so the key is both (`server/database`; names have no `/`).
 */
export class PoolCache {
  private readonly pools = new Map<string, { pool: pg.Pool; lastUsed: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly configFor: (location: TenantLocation) => pg.PoolConfig,
    private readonly options: PoolOptions,
  ) {
    this.sweeper = setInterval(() => void this.closeIdle(), Math.max(1000, options.idleMillis / 2));
    this.sweeper.unref();
  }

  /**
   * The pool of one database. Use it at once (`get(db).query(...)`, `withTransaction(get(db), ...)`), not
   * after an await: a pool left idle may be closed by a later get() for another database (maxOpen).
   * configFor's errors (a server not configured) are thrown here, before any pool is made.
   */
  get(location: TenantLocation): pg.Pool {
    const key = `${location.server}/${location.databaseName}`;
    this.shed(key);
    const entry = this.pools.get(key);
    if (entry) {
      entry.lastUsed = Date.now();
      return entry.pool;
    }
    const pool = new pg.Pool({
      ...this.configFor(location),
      max: this.options.max,
      idleTimeoutMillis: this.options.idleMillis,
      connectionTimeoutMillis: this.options.connectionTimeoutMillis ?? 5000,
      allowExitOnIdle: true,
    });
    // An idle client's socket can drop (server restart); the pool replaces it, the process must not crash.
    pool.on('error', () => {});
    this.pools.set(key, { pool, lastUsed: Date.now() });
    return pool;
  }

  /** Connections open over all pools (busy or idle). */
  get openConnections(): number {
    let open = 0;
    for (const { pool } of this.pools.values()) open += pool.totalCount;
    return open;
  }

  /** At or over maxOpen: closes fully idle pools other than `keep`, least recently used first. */
  private shed(keep: string): void {
    const maxOpen = this.options.maxOpen;
    if (maxOpen === undefined) return;
    let open = this.openConnections;
    if (open < maxOpen) return;
    const idle = [...this.pools.entries()]
      .filter(([key, { pool }]) => key !== keep && pool.totalCount > 0 && isIdle(pool))
      .sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
    for (const [key, { pool }] of idle) {
      if (open < maxOpen) break;
      open -= pool.totalCount;
      this.pools.delete(key);
      void pool.end().catch(() => {});
    }
  }

  /** How many pools are open; visible so tests can show idle pools close. */
  get size(): number {
    return this.pools.size;
  }

  async closeIdle(now = Date.now()): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [key, entry] of this.pools) {
      if (isIdle(entry.pool) && now - entry.lastUsed >= this.options.idleMillis) {
        this.pools.delete(key);
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

function isIdle(pool: pg.Pool): boolean {
  return pool.totalCount === pool.idleCount && pool.waitingCount === 0;
}
