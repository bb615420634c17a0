import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../shared/project-root.js';

/**
 * One section of a tenant migration file (shared/adapters/postgres/migrations/tenant/<file>): its Up section
 * (from `-- Up Migration` to `-- Down Migration`) or its Down section (from `-- Down Migration` on), to run by
 * hand against a tenant put back in the state before the migration.
 */
export function tenantMigrationSection(file: string, section: 'Up' | 'Down'): string {
  const text = readFileSync(join(projectRoot(), 'shared/adapters/postgres/migrations/tenant', file), 'utf8');
  const up = text.indexOf('-- Up Migration');
  const down = text.indexOf('-- Down Migration');
  return section === 'Up' ? text.slice(up, down) : text.slice(down);
}
