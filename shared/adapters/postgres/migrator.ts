import { join } from 'node:path';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { projectRoot } from '../../project-root.js';

export type SchemaKind = 'control' | 'tenant';

export const migrationsDir = (kind: SchemaKind): string =>
  join(projectRoot(), 'shared', 'adapters', 'postgres', 'migrations', kind);

/**
 * Applies every pending migration of one schema kind to one database; returns the names applied. A second
 * migrator of the same database waits for the first (node-pg-migrate's advisory lock in 'wait' mode), so
 * two tenant commands started together both succeed instead of one failing "already running".
 */
export async function migrateDatabase(connection: pg.ClientConfig, kind: SchemaKind): Promise<string[]> {
  const client = new pg.Client(connection);
  await client.connect();
  try {
    const applied = await runner({
      dbClient: client,
      dir: migrationsDir(kind),
      direction: 'up',
      migrationsTable: 'pgmigrations',
      count: Number.POSITIVE_INFINITY,
      checkOrder: true,
      singleTransaction: true,
      advisoryLockMode: 'wait',
      log: () => {},
    });
    return applied.map((m) => m.name);
  } finally {
    await client.end();
  }
}
