import pg from 'pg';
import type { TenantDatabaseAdmin } from '../../ports.js';
import { guardPostgres } from './connection.js';
import { migrateDatabase } from './migrator.js';

/** Creates tenant databases on the server and migrates them with node-pg-migrate. */
export class PostgresTenantDatabaseAdmin implements TenantDatabaseAdmin {
  constructor(
    private readonly controlPool: pg.Pool,
    private readonly connectionFor: (database: string) => pg.ClientConfig,
  ) {}

  async ensureDatabase(databaseName: string): Promise<boolean> {
    return guardPostgres(async () => {
      const { rowCount } = await this.controlPool.query('select 1 from pg_database where datname = $1', [
        databaseName,
      ]);
      if (rowCount) return false;
      try {
        // CREATE DATABASE takes no parameters; the name is validated upstream and quoted here.
        await this.controlPool.query(`create database ${pg.escapeIdentifier(databaseName)}`);
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
  async migrate(databaseName: string): Promise<string[]> {
    const { rowCount } = await guardPostgres(() =>
      this.controlPool.query('select 1 from pg_database where datname = $1', [databaseName]),
    );
    if (!rowCount) {
      throw new Error(
        `database ${databaseName} does not exist on the server; "npm run tenant -- create <tenant id>" creates it`,
      );
    }
    return guardPostgres(() => migrateDatabase(this.connectionFor(databaseName), 'tenant'));
  }
}
