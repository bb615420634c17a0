import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.js';

const local = {
  POSTGRES_URL: 'postgres://postgres:pw@127.0.0.1:5433/fieldsync',
  CosmosConnection: 'AccountEndpoint=https://127.0.0.1:8081/;AccountKey=a2V5;',
  StorageConnection: 'UseDevelopmentStorage=true',
  AUTH_ISSUER: 'fieldsync-local',
  AUTH_AUDIENCE: 'fieldsync-api',
  AUTH_DEV_SECRET: 'x'.repeat(32),
};

const azure = {
  WEBSITE_SITE_NAME: 'fieldsync-prod',
  POSTGRES_HOST: 'pg.postgres.database.azure.com',
  POSTGRES_USER: 'id-fieldsync',
  CosmosConnection__accountEndpoint: 'https://cosmos.documents.azure.com:443/',
  StorageConnection__blobServiceUri: 'https://st.blob.core.windows.net',
  ServiceBusConnection__fullyQualifiedNamespace: 'sb.servicebus.windows.net',
  AUTH_ISSUER: 'https://login.microsoftonline.com/tid/v2.0',
  AUTH_AUDIENCE: 'api://fieldsync',
  AUTH_JWKS_URL: 'https://login.microsoftonline.com/tid/discovery/v2.0/keys',
};

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => p.setting);
  }
  return [];
}

describe('configuration', () => {
  it('parses the local settings into connection-string forms and the local queue', () => {
    const config = loadConfig(local);
    expect(config.inAzure).toBe(false);
    expect(config.postgres).toEqual({ kind: 'url', url: local.POSTGRES_URL });
    expect(config.cosmos.connection.kind).toBe('connectionString');
    expect(config.queue.driver).toBe('local');
    expect(config.auth.mode).toBe('dev');
  });

  it('parses the Azure settings into identity-based forms and Service Bus', () => {
    const config = loadConfig(azure);
    expect(config.inAzure).toBe(true);
    expect(config.postgres).toMatchObject({ kind: 'entra', host: azure.POSTGRES_HOST, user: 'id-fieldsync' });
    expect(config.cosmos.connection).toEqual({
      kind: 'identity',
      endpoint: azure.CosmosConnection__accountEndpoint,
    });
    expect(config.queue).toMatchObject({ driver: 'servicebus', queueName: 'sync-events' });
    expect(config.auth.mode).toBe('oidc');
  });

  it('names every missing setting in one message', () => {
    let message = '';
    try {
      loadConfig({});
    } catch (error) {
      message = (error as Error).message;
    }
    for (const name of [
      'POSTGRES_URL',
      'CosmosConnection',
      'StorageConnection',
      'AUTH_ISSUER',
      'AUTH_AUDIENCE',
      'AUTH_JWKS_URL',
    ]) {
      expect(message).toContain(name);
    }
    expect(message).toMatch(/AUTH_ISSUER: required/);
  });

  it('names an invalid value', () => {
    expect(problemsOf({ ...local, POSTGRES_URL: 'mysql://x' })).toEqual(['POSTGRES_URL']);
    expect(problemsOf({ ...local, TENANT_POOL_MAX: 'many' })).toEqual(['TENANT_POOL_MAX']);
    expect(problemsOf({ ...local, AUTH_DEV_SECRET: 'short' })).toEqual(['AUTH_DEV_SECRET']);
    expect(problemsOf({ ...local, LOG_LEVEL: 'loud' })).toEqual(['LOG_LEVEL']);
  });

  it('refuses the development secret in Azure', () => {
    expect(problemsOf({ ...azure, AUTH_JWKS_URL: undefined, AUTH_DEV_SECRET: 'x'.repeat(32) })).toContain(
      'AUTH_DEV_SECRET',
    );
  });

  it('refuses both or neither of JWKS and development secret', () => {
    expect(problemsOf({ ...local, AUTH_JWKS_URL: 'https://idp.example/keys' })).toContain('AUTH_JWKS_URL');
    expect(problemsOf({ ...local, AUTH_DEV_SECRET: undefined })).toContain('AUTH_JWKS_URL');
  });

  it('needs a Service Bus connection with the servicebus driver, and refuses the local queue in Azure', () => {
    expect(problemsOf({ ...local, QUEUE_DRIVER: 'servicebus' })).toEqual(['ServiceBusConnection']);
    expect(problemsOf({ ...azure, QUEUE_DRIVER: 'local' })).toEqual(['QUEUE_DRIVER']);
  });

  it('allows browser origins (CORS): locally every localhost port by default, a list, none; in Azure Bicep decides', () => {
    expect(loadConfig(local).cors.allowedOrigins).toEqual([
      'http://localhost:*',
      'http://127.0.0.1:*',
      'http://[::1]:*',
    ]);
    expect(
      loadConfig({ ...local, CORS_ALLOWED_ORIGINS: ' https://app.example.com , http://localhost:3000 ' })
        .cors,
    ).toEqual({ allowedOrigins: ['https://app.example.com', 'http://localhost:3000'] });
    expect(loadConfig({ ...local, CORS_ALLOWED_ORIGINS: '*' }).cors.allowedOrigins).toEqual(['*']);
    expect(loadConfig({ ...local, CORS_ALLOWED_ORIGINS: 'none' }).cors.allowedOrigins).toEqual([]);
    expect(loadConfig({ ...local, CORS_ALLOWED_ORIGINS: '' }).cors.allowedOrigins).toHaveLength(3);
    for (const bad of [
      'https://app.example.com/',
      'https://app.example.com/path',
      'https://*.example.com',
      'ftp://files.example.com',
      'app.example.com',
      'https://a.example.com,https://b.example.com?x=1',
    ]) {
      expect(problemsOf({ ...local, CORS_ALLOWED_ORIGINS: bad }), bad).toEqual(['CORS_ALLOWED_ORIGINS']);
    }
    expect(loadConfig(azure).cors.allowedOrigins).toEqual([]);
    expect(problemsOf({ ...azure, CORS_ALLOWED_ORIGINS: 'https://app.example.com' })).toEqual([
      'CORS_ALLOWED_ORIGINS',
    ]);
  });

  it('lists the tenant servers: the control server by default, more from POSTGRES_SERVERS (issue 17 item 6)', () => {
    // Prepare: one server (the default), two by connection string, two by host (Entra ID login).
    const second = 'postgres://postgres:pw@127.0.0.1:5434/postgres';
    // Act / assess
    expect(loadConfig(local).postgresServers).toEqual([
      { name: 'primary', postgres: { kind: 'url', url: local.POSTGRES_URL } },
    ]);
    expect(
      loadConfig({ ...local, POSTGRES_SERVERS: JSON.stringify([{ name: 'second', url: second }]) })
        .postgresServers,
    ).toEqual([
      { name: 'primary', postgres: { kind: 'url', url: local.POSTGRES_URL } },
      { name: 'second', postgres: { kind: 'url', url: second } },
    ]);
    const entra = loadConfig({
      ...azure,
      POSTGRES_SERVER_NAME: 'pg-1',
      POSTGRES_SERVERS: JSON.stringify([{ name: 'pg-2', host: 'pg2.postgres.database.azure.com' }]),
    }).postgresServers;
    expect(entra.map((s) => s.name)).toEqual(['pg-1', 'pg-2']);
    expect(entra[1]?.postgres).toMatchObject({
      kind: 'entra',
      host: 'pg2.postgres.database.azure.com',
      user: 'id-fieldsync',
      database: 'postgres',
    });
  });

  it('refuses a bad server list: not JSON, a bad or repeated name, the wrong kind of entry', () => {
    const servers = (list: unknown) => ({ ...local, POSTGRES_SERVERS: JSON.stringify(list) });
    expect(problemsOf({ ...local, POSTGRES_SERVERS: '[{name:' })).toEqual(['POSTGRES_SERVERS']);
    expect(problemsOf(servers([{ name: 'Second!', url: 'postgres://h/postgres' }]))).toEqual([
      'POSTGRES_SERVERS.0.name',
    ]);
    expect(
      problemsOf(
        servers([
          { name: 'b', url: 'postgres://h/postgres' },
          { name: 'b', url: 'postgres://i/postgres' },
        ]),
      ),
    ).toEqual(['POSTGRES_SERVERS']);
    expect(problemsOf(servers([{ name: 'primary', url: 'postgres://h/postgres' }]))).toEqual([
      'POSTGRES_SERVERS',
    ]);
    // A host entry needs Entra ID login (POSTGRES_HOST); a url entry the connection-string form.
    expect(problemsOf(servers([{ name: 'b', host: 'h.postgres.database.azure.com' }]))).toEqual([
      'POSTGRES_SERVERS',
    ]);
    expect(
      problemsOf({ ...azure, POSTGRES_SERVERS: JSON.stringify([{ name: 'b', url: 'postgres://h/x' }]) }),
    ).toEqual(['POSTGRES_SERVERS']);
  });

  it('treats an empty value as absent', () => {
    expect(problemsOf({ ...local, AUTH_JWKS_URL: '' })).toEqual([]);
    expect(problemsOf({ ...local, StorageConnection: '  ' })).toEqual(['StorageConnection']);
  });
});
