// `npm run stack`: only the embedded services, for people who run the functions with Core Tools (`func start`).
// Writes local.settings.json from local.settings.sample.json with this machine's generated values.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../shared/project-root.js';
import { loadLocalSettings, localAppSettings } from './settings.js';
import { startLocalStack } from './stack.js';

async function main(): Promise<void> {
  const local = loadLocalSettings();
  const stack = await startLocalStack({ dataDir: local.dataDir, ports: local.ports, given: process.env });
  const values = { ...localAppSettings(local.dataDir, process.env), ...stack.settings };
  const target = join(projectRoot(), 'local.settings.json');
  if (!existsSync(target)) {
    const sample = JSON.parse(readFileSync(join(projectRoot(), 'local.settings.sample.json'), 'utf8')) as {
      Values: Record<string, string>;
    };
    sample.Values = { ...sample.Values, ...values };
    writeFileSync(target, `${JSON.stringify(sample, null, 2)}\n`, { mode: 0o600 });
    process.stdout.write(`wrote ${target}\n`);
  }
  process.stdout.write(`embedded services: ${stack.started.join(', ') || 'none (all given)'}\nsettings:\n`);
  for (const [name, value] of Object.entries(values)) process.stdout.write(`  ${name}=${value}\n`);
  process.stdout.write('Ctrl-C stops them\n');
  const stop = () => void stack.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
