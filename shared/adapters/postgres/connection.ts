import type { AccessToken, TokenCredential } from '@azure/identity';
import type { ClientConfig } from 'pg';
import type { PostgresConfig } from '../../config.js';
import { DependencyUnavailableError } from '../../errors.js';
import { NETWORK_ERROR_CODES } from '../network-errors.js';

const ENTRA_SCOPE = 'https://ossrdbms-aad.database.windows.net/.default';

export interface ConnectionOptions {
  /** pg's connectionTimeoutMillis: how long opening a connection may take (default 5000). */
  connectTimeoutMillis?: number;
  /**
   * A direct (session) connection on the admin port, for migrations and DDL: node-pg-migrate holds a
   * session advisory lock, which the server's PgBouncer in transaction mode cannot keep (docs/deploy.md).
   */
  admin?: boolean;
}

/**
 * Builds pg client settings for any database on the configured server: the control database, or a
 * tenant's. In Azure the password is a fresh Entra ID token for the app identity (no stored password);
 * a token that cannot be had (Entra ID or the identity endpoint down) is DependencyUnavailableError
 * ('postgres'), so callers answer 503 with Retry-After, never 500.
 */
export function connectionFor(
  postgres: PostgresConfig,
  database: string | undefined,
  credential: () => TokenCredential,
  options: ConnectionOptions = {},
): ClientConfig {
  const connectionTimeoutMillis = options.connectTimeoutMillis ?? 5000;
  if (postgres.kind === 'url') {
    const url = new URL(postgres.url);
    if (database) url.pathname = `/${encodeURIComponent(database)}`;
    return { connectionString: url.toString(), connectionTimeoutMillis };
  }
  return {
    host: postgres.host,
    port: options.admin ? postgres.adminPort : postgres.port,
    user: postgres.user,
    database: database ?? postgres.database,
    ssl: { rejectUnauthorized: true },
    connectionTimeoutMillis,
    password: () => entraToken(credential),
  };
}

/** An Entra ID access token for Postgres; any failure to get one is DependencyUnavailableError('postgres'). */
export async function entraToken(credential: () => TokenCredential): Promise<string> {
  let token: AccessToken | null;
  try {
    token = await credential().getToken(ENTRA_SCOPE);
  } catch (error) {
    // CredentialUnavailableError, AuthenticationError, a timeout of the identity endpoint: all transient
    // from the client's view (the request was fine), so 503 + Retry-After like any unreachable dependency.
    throw new DependencyUnavailableError('postgres', 5, { cause: error });
  }
  if (!token) throw new DependencyUnavailableError('postgres');
  return token.token;
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
