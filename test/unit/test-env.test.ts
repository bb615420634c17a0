import { describe, expect, inject, it } from 'vitest';
import { settingsSchema } from '../../shared/config.js';
import { appSettingNames } from '../support/env.js';

describe('test/setup/env.ts: no outside setting reaches a test', () => {
  it('names every key of the config schema found in the environment, whatever its value', () => {
    const keys = Object.keys(settingsSchema.shape);
    expect(keys).toContain('LOCAL_QUEUE_URL');
    const env = Object.fromEntries(keys.map((k) => [k, 'exported by a developer']));
    expect(appSettingNames(env).sort()).toEqual([...keys].sort());
  });

  it('names the connection forms of schema keys and the libpq variables, and nothing else', () => {
    const env = {
      LOCAL_QUEUE_URL: 'postgres://elsewhere/queue',
      CosmosConnection__clientId: 'x', // a property of a connection the schema knows
      ServiceBusConnection__credential: 'managedidentity',
      PGPASSWORD: 'secret',
      PGHOST: 'db.example.com',
      PATH: '/usr/bin',
      HOME: '/home/me',
      TEST_LOG_LEVEL: 'info',
      OtherConnection__clientId: 'not ours',
      POSTGRES_URL_EXTRA: 'not a setting',
    };
    expect(appSettingNames(env).sort()).toEqual([
      'CosmosConnection__clientId',
      'LOCAL_QUEUE_URL',
      'PGHOST',
      'PGPASSWORD',
      'ServiceBusConnection__credential',
    ]);
  });

  it('follows the schema: a setting added there is cleared without editing the setup', () => {
    expect(appSettingNames({ NEW_SETTING: 'x' }, ['NEW_SETTING'])).toEqual(['NEW_SETTING']);
    expect(appSettingNames({ NEW_SETTING: 'x' }, [])).toEqual([]);
  });

  it('in this process, every app setting is the run’s own or absent', () => {
    const own = inject('settings');
    for (const name of appSettingNames(process.env)) expect(process.env[name], name).toBe(own[name]);
  });
});
