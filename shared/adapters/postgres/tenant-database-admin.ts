import pg from 'pg';
import { DependencyUnavailableError, ValidationError } from '../../errors.js';
import type { TenantDatabaseAdmin, TenantLocation } from '../../usecases/ports/tenancy.js';
import { guardPostgres } from './connection.js';
import { migrateDatabase } from './migrator.js';

/** How the admin reaches one server: its admin database's pool (made on use) and any database's settings. */
export interface AdminServer {
  name: string;
  /** A pool on the server's admin database (the control database on the control server, else `postgres`). */
  pool: () => pg.Pool;
  /** Direct (session) connection settings for one database of this server: migrations. */
  connectionFor: (database: string) => pg.ClientConfig;
}

/** Creates tenant databases on their server and migrates them with node-pg-migrate. */
export class PostgresTenantDatabaseAdmin implements TenantDatabaseAdmin {
  readonly servers: readonly string[];

  constructor(private readonly adminServers: readonly AdminServer[]) {
    this.servers = adminServers.map((s) => s.name);
  }

  private server(name: string): AdminServer {
    const server = this.adminServers.find((s) => s.name === name);
    if (!server) {
      throw new ValidationError(`unknown server "${name}"`, [
        { path: 'server', message: `must be one of ${this.servers.join(', ')} (POSTGRES_SERVERS)` },
      ]);
    }
    return server;
  }

  async ensureDatabase({ server: name, databaseName }: TenantLocation): Promise<boolean> {
    const server = this.server(name);
    return guarded(name, async () => {
      const { rowCount } = await server
        .pool()
        .query('select 1 from pg_database where datname = $1', [databaseName]);
      if (rowCount) return false;
      try {
        // CREATE DATABASE takes no parameters; the name is validated upstream and quoted here.
        await server.pool().query(`create database ${pg.escapeIdentifier(databaseName)}`);
        return true;
      } catch (error) {
        // Two provisioners racing: the other one created it.
        if ((error as { code?: string }).code === '42P04') return false;
        throw error;
      }
    });
  }

  /**
   * Migrates one tenant database. Throws a plain Error naming the database when it does not exist (a
   * registered tenant whose database was dropped: an ops mistake, not an outage), and
   * DependencyUnavailableError when the server cannot be reached.
   */
  async migrate({ server: name, databaseName }: TenantLocation): Promise<string[]> {
    const server = this.server(name);
    const { rowCount } = await guarded(name, () =>
      server.pool().query('select 1 from pg_database where datname = $1', [databaseName]),
    );
    if (!rowCount) {
      throw new Error(
        `database ${databaseName} does not exist on server ${name}; "npm run tenant -- create <tenant id>" creates it`,
      );
    }
    return guarded(name, () => migrateDatabase(server.connectionFor(databaseName), 'tenant'));
  }
}

/** guardPostgres, naming the server in the error (`postgres:<name>`) so an operator knows which one. */
async function guarded<T>(server: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await guardPostgres(fn);
  } catch (error) {
    if (error instanceof DependencyUnavailableError && error.dependency === 'postgres') {
      throw new DependencyUnavailableError(`postgres server ${server}`, error.retryAfterSeconds, {
        cause: error.cause,
      });
    }
    throw error;
  }
}
