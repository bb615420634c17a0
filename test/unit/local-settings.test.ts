import { describe, expect, it } from 'vitest';
import { loadLocalSettings, parseExtraServers } from '../../local/settings.js';

// LOCAL_EXTRA_SERVERS (README "Local data and ports", docs/deploy.md "Tenant servers"): the extra embedded
// Postgres servers `npm start` runs for tenant databases.
describe('LOCAL_EXTRA_SERVERS', () => {
  it('is none when unset or empty', () => {
    expect(loadLocalSettings({}).extraServers).toEqual([]);
    expect(loadLocalSettings({ LOCAL_EXTRA_SERVERS: ' ' }).extraServers).toEqual([]);
  });

  it('takes names with or without ports; a name alone takes the control port plus its position', () => {
    expect(
      loadLocalSettings({ LOCAL_POSTGRES_PORT: '6000', LOCAL_EXTRA_SERVERS: 'second, third:15434,fourth' })
        .extraServers,
    ).toEqual([
      { name: 'second', port: 6001 },
      { name: 'third', port: 15434 },
      { name: 'fourth', port: 6003 },
    ]);
  });

  it('names each bad entry', () => {
    expect(parseExtraServers('Second,ok:70000,ok:,a:1:2', 5433).problems).toEqual([
      expect.stringContaining('"Second"'),
      expect.stringContaining('"ok:70000": the port'),
      expect.stringContaining('"ok:": the port'),
      expect.stringContaining('"a:1:2"'),
      'server names must be unique',
    ]);
    expect(() => loadLocalSettings({ LOCAL_EXTRA_SERVERS: 'a,a' })).toThrow(
      /LOCAL_EXTRA_SERVERS: server names/,
    );
  });
});
