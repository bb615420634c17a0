import { settingsSchema } from '../../shared/config.js';

/**
 * The names in `env` that are app settings: every key of the config schema (shared/config.ts), and the
 * `<Name>__<property>` forms of those keys' connections (e.g. `CosmosConnection__clientId`, which the
 * Functions host reads beside `CosmosConnection__accountEndpoint`). Derived from the schema, so a setting
 * added there is cleared too. test/setup/env.ts drops these before pointing a test process at the run's
 * own stack: nothing a developer exported (LOCAL_QUEUE_URL, POSTGRES_URL, ...) may reach a test. Also the
 * libpq variables (PGHOST, PGPASSWORD, ...): node-postgres takes them as defaults for whatever a connection
 * string leaves out.
 */
export function appSettingNames(
  env: Record<string, string | undefined>,
  keys: readonly string[] = Object.keys(settingsSchema.shape),
): string[] {
  const known = new Set(keys);
  // A connection's base name (`CosmosConnection` of `CosmosConnection__accountEndpoint`, or a key itself).
  const bases = new Set(keys.map((key) => key.split('__')[0] ?? key));
  return Object.keys(env).filter(
    (name) =>
      known.has(name) ||
      (name.includes('__') && bases.has(name.split('__')[0] ?? '')) ||
      /^PG[A-Z]+$/.test(name),
  );
}
