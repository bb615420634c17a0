import type { TokenCredential } from '@azure/identity';
import type { ClientConfig } from 'pg';
import type { PostgresConfig } from '../../config.js';
import { DependencyUnavailableError } from '../../errors.js';
import { NETWORK_ERROR_CODES } from '../network-errors.js';

const ENTRA_SCOPE = 'https://ossrdbms-aad.database.windows.net/.default';

/**
 * Builds pg client settings for any database on the configured server: the control database, or a
 * tenant's. In Azure the password is a fresh Entra ID token for the app identity (no stored password).
 */
export function connectionFor(
  postgres: PostgresConfig,
  database: string | undefined,
  credential: () => TokenCredential,
): ClientConfig {
  if (postgres.kind === 'url') {
    const url = new URL(postgres.url);
    if (database) url.pathname = `/${encodeURIComponent(database)}`;
    return { connectionString: url.toString() };
  }
  return {
    host: postgres.host,
    port: postgres.port,
    user: postgres.user,
    database: database ?? postgres.database,
    ssl: { rejectUnauthorized: true },
    password: async () => {
      const token = await credential().getToken(ENTRA_SCOPE);
      if (!token) throw new DependencyUnavailableError('postgres');
      return token.token;
    },
  };
}

/** The control database's name, where the tenant registry and the local queue live. */
export function controlDatabaseName(postgres: PostgresConfig): string {
  if (postgres.kind === 'entra') return postgres.database;
  return decodeURIComponent(new URL(postgres.url).pathname.replace(/^\//, '')) || 'postgres';
}

const CONNECTION_CODES = new Set([
  ...NETWORK_ERROR_CODES,
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '3D000', // invalid_catalog_name: the tenant database is gone
]);

/** True when an error means "Postgres is not reachable", as opposed to a bad statement. */
export function isPostgresUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (CONNECTION_CODES.has(code) || code.startsWith('08'))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|connect ECONNREFUSED|Client has encountered a connection error/i.test(
    error.message,
  );
}

/** Runs fn; a connection-level failure becomes DependencyUnavailableError('postgres'). */
export async function guardPostgres<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (isPostgresUnavailable(error)) throw new DependencyUnavailableError('postgres', 5, { cause: error });
    throw error;
  }
}
