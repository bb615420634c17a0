import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, settingsSchema } from '../../shared/config.js';
import { projectRoot } from '../../shared/project-root.js';
import { localAppSettings } from '../../local/settings.js';

/**
 * `local.settings.sample.json` is the one file that lists every setting with a local value (README,
 * "Configuration"), and `npm run stack` copies it into `local.settings.json` for Core Tools. The setting
 * names come from the zod schema itself (`settingsSchema.shape`), never from a list kept here, so a setting
 * added to shared/config.ts without a line in the sample (or a sample line the app no longer reads) fails.
 */

const root = projectRoot();
const sample = JSON.parse(readFileSync(join(root, 'local.settings.sample.json'), 'utf8')) as {
  IsEncrypted: boolean;
  Values: Record<string, string>;
};
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const schemaNames = Object.keys(settingsSchema.shape);

/** Settings the Azure Functions host reads itself (not the app): Core Tools needs them in the sample. */
const hostSetting = (name: string) => /^(FUNCTIONS_|AzureWebJobs)/.test(name);

/** What `npm run stack` puts in place of the sample's placeholders (a password, a 32+ character secret). */
const PLACEHOLDER = 'GENERATED_BY_NPM_RUN_STACK';
const filled = (values: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      name === 'AUTH_DEV_SECRET' ? 'x'.repeat(32) : value.replace(PLACEHOLDER, 'local-password'),
    ]),
  );

/** The local defaults `npm start` and `npm run stack` fill in; a secret is given so no file is written. */
const localDefaults = () => localAppSettings('/nonexistent', { AUTH_DEV_SECRET: 'y'.repeat(32) });

describe('local.settings.sample.json against the config schema (shared/config.ts)', () => {
  it('reads the names from the schema (the checks below have something to compare)', () => {
    expect(schemaNames.length).toBeGreaterThan(30);
    expect(schemaNames).toContain('CORS_ALLOWED_ORIGINS');
  });

  it('lists every setting of the schema', () => {
    const missing = schemaNames.filter((name) => !(name in sample.Values));
    expect(missing).toEqual([]);
  });

  it('lists no setting the schema does not know, besides the Functions host’s own', () => {
    const unknown = Object.keys(sample.Values).filter(
      (name) => !schemaNames.includes(name) && !hostSetting(name),
    );
    expect(unknown).toEqual([]);
  });

  it('holds only string values, as local.settings.json requires', () => {
    expect(sample.IsEncrypted).toBe(false);
    for (const [name, value] of Object.entries(sample.Values)) expect(typeof value, name).toBe('string');
  });

  it('is a valid local configuration once the generated values are filled in', () => {
    const config = loadConfig(filled(sample.Values));
    expect(config.inAzure).toBe(false);
    expect(config.auth.mode).toBe('dev');
    expect(config.queue.driver).toBe('local');
    expect(config.postgres.kind).toBe('url');
  });

  it('keeps the placeholders invalid, so the sample copied by hand does not start with a known secret', () => {
    expect(() => loadConfig(sample.Values)).toThrow(/AUTH_DEV_SECRET/);
  });

  it('says what npm start and npm run stack use (pool size, queue, issuer, audience)', () => {
    const defaults = localDefaults();
    expect(Object.keys(defaults)).toContain('TENANT_POOL_MAX');
    for (const [name, value] of Object.entries(defaults)) {
      if (name !== 'AUTH_DEV_SECRET') expect(sample.Values[name], name).toBe(value);
    }
  });
});

describe('README "Configuration" against the config schema', () => {
  const section = readme.slice(
    readme.indexOf('## Configuration'),
    readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
  );

  it('names every setting of the schema', () => {
    expect(section.length).toBeGreaterThan(100);
    const missing = schemaNames.filter((name) => !section.includes(`\`${name}\``));
    expect(missing).toEqual([]);
  });

  it('states the pool size of the schema (Azure) and the one npm start uses', () => {
    const schemaDefault = String(settingsSchema.shape.TENANT_POOL_MAX.parse(undefined));
    expect(section).toContain(`default ${schemaDefault}`);
    expect(section).toContain(`\`TENANT_POOL_MAX=${localDefaults().TENANT_POOL_MAX}\``);
  });
});
