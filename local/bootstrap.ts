import { azureCredential } from '../shared/adapters/azure-credential.js';
import { connectionFor } from '../shared/adapters/postgres/connection.js';
import { migrateDatabase } from '../shared/adapters/postgres/migrator.js';
import type { Config } from '../shared/config.js';

/** Migrates the control database (tenant registry); the Functions app itself never runs DDL. */
export async function migrateControlDatabase(config: Config): Promise<string[]> {
  return migrateDatabase(
    // Direct (admin) port: node-pg-migrate's lock is a session advisory lock, which PgBouncer cannot hold.
    connectionFor(config.postgres, undefined, () => azureCredential(config.managedIdentityClientId), {
      connectTimeoutMillis: config.postgresConnectTimeoutMillis,
      admin: true,
    }),
    'control',
  );
}
