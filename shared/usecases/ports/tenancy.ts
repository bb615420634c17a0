/**
 * Ports: the tenant registry (control database), tenant database administration, dependency checks.
 * Plain types for what the use cases need from outside; adapters under shared/adapters implement them,
 * and only the composition root (shared/app.ts) and local/ choose which one is plugged in.
 */
export interface Tenant {
  id: string;
  databaseName: string;
  /** The Postgres server (a name of Config.postgresServers) that holds the tenant's database. */
  server: string;
  displayName: string | null;
  status: 'ACTIVE' | 'SUSPENDED';
}

/** Where a tenant database lives: a server of the configured list and the database's name on it. */
export interface TenantLocation {
  server: string;
  databaseName: string;
}

/** Maps a tenant id to its database. */
export interface TenantRegistry {
  find(tenantId: string): Promise<Tenant | undefined>;
  list(): Promise<Tenant[]>;
  /** Registers a tenant; one already registered keeps its server and database (only the name changes). */
  register(tenant: {
    id: string;
    databaseName: string;
    server: string;
    displayName?: string | null;
  }): Promise<Tenant>;
  markMigrated(tenantId: string): Promise<void>;
  /** How many tenants each server holds (servers holding none are absent): what placement balances. */
  countByServer(): Promise<Map<string, number>>;
}

/** Creates and migrates tenant databases (ops, not the request path). */
export interface TenantDatabaseAdmin {
  /** The configured servers' names, the control server first. */
  readonly servers: readonly string[];
  /**
   * Creates the database on its server if it does not exist; true when it was created now. ValidationError
   * for a server not in the list; DependencyUnavailableError when the server cannot be reached.
   */
  ensureDatabase(location: TenantLocation): Promise<boolean>;
  /** Applies pending tenant migrations; returns the names applied. */
  migrate(location: TenantLocation): Promise<string[]>;
}

/** One dependency's liveness probe, for GET /api/health. */
export interface DependencyCheck {
  name: string;
  check(): Promise<void>;
}
