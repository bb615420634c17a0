import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  EVENT_ERROR_CODES,
  EVENT_ERRORS,
  eventErrorCodeSchema,
} from '../../shared/contracts/event-errors.js';
import { projectRoot } from '../../shared/project-root.js';
import { execFileSync } from 'node:child_process';

// One catalogue of event error codes (shared/contracts/event-errors.ts), its prose (docs/outcomes.md "Codes"),
// and the codes the code base writes, kept in step. The code scan is a plain text search: it finds the code
// literals where an outcome's error is built (`code: 'X'`, `rejected('X'`, `reject('X'`, `code ?? 'X'`,
// `code === 'X'`, SQL `error->>'code' = 'X'`), the way a reviewer would grep for them.

const root = projectRoot();
const read = (path: string) => readFileSync(join(root, path), 'utf8');

/** The rows of the "## Codes" table of docs/outcomes.md: code → retryable. */
function documentedCodes(): Map<string, boolean> {
  const text = read('docs/outcomes.md');
  const start = text.indexOf('## Codes');
  const section = text.slice(start, text.indexOf('\n## ', start + 1));
  const rows = new Map<string, boolean>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const code = /^`([A-Z][A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!code) continue;
    expect(rows.has(code), `${code} is listed twice in docs/outcomes.md`).toBe(false);
    rows.set(code, (cells[3] ?? '').includes('yes'));
  }
  return rows;
}

/** Where event outcomes are built or read (server, compat dialects, the client library). */
const SCANNED = [
  'shared/sync',
  'shared/schema',
  'shared/usecases',
  'shared/adapters',
  'shared/compat',
  'functions',
  'client/src',
];
const PATTERN =
  /(?:\bcode\s*(?::|\?\?|===|!==)\s*|\b(?:rejected|reject)\(\s*|->>\s*'code'\s*=\s*)'([A-Z][A-Z0-9_]+)'/g;

/**
 * Codes found by the scan that are not event outcome codes, each with where and why: a dialect's own wire
 * code, or a refusal the client library decides before anything is sent.
 */
const NOT_EVENT_CODES: Record<string, string> = {
  UNKNOWN_EVENT_TYPE:
    'shared/compat/fieldops/mapping.ts: the fieldops wire code of an eventType v1 has no event for',
  VERSION_CONFLICT: 'shared/compat/arxos/responses.ts: the arxos problem code of a stale-version write (409)',
  FAILED: 'shared/compat/clinic/mapping.ts: a clinic item error falls back to the outcome status',
  INVALID_EVENT: 'client/src/client.ts: the client library refuses an event before sending it',
  IDEMPOTENCY_IN_FLIGHT: 'client/src/http.ts: an HTTP problem code, not an event outcome',
};

function emittedCodes(): Map<string, Set<string>> {
  const files = execFileSync('git', ['ls-files', '--', ...SCANNED], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.tsx?$/.test(f) && !f.endsWith('.d.ts'));
  const found = new Map<string, Set<string>>();
  for (const file of files) {
    for (const match of read(file).matchAll(PATTERN)) {
      const code = match[1] as string;
      if (!found.has(code)) found.set(code, new Set());
      found.get(code)?.add(file);
    }
  }
  return found;
}

describe('event error codes (shared/contracts/event-errors.ts)', () => {
  it('docs/outcomes.md lists every catalogued code, and only those, with the same retryable', () => {
    const documented = documentedCodes();
    expect([...documented.keys()].sort()).toEqual([...EVENT_ERROR_CODES].sort());
    for (const code of EVENT_ERROR_CODES)
      expect({ code, retryable: documented.get(code) }).toEqual({
        code,
        retryable: EVENT_ERRORS[code].retryable,
      });
  });

  it('the catalogue has every code the code base writes or reads, and each catalogued code is written', () => {
    const emitted = emittedCodes();
    const unknown = [...emitted.keys()].filter(
      (code) => !eventErrorCodeSchema.safeParse(code).success && !(code in NOT_EVENT_CODES),
    );
    expect(unknown.map((code) => `${code} (${[...(emitted.get(code) ?? [])].join(', ')})`)).toEqual([]);
    // Honest in the other direction: a catalogued code nothing writes is dead, and the scan would be blind.
    expect(EVENT_ERROR_CODES.filter((code) => !emitted.has(code))).toEqual([]);
    // Each exception is still found (else it is stale and must go).
    expect(Object.keys(NOT_EVENT_CODES).filter((code) => !emitted.has(code))).toEqual([]);
  });

  it('has one name per failure: PROCESSING_ERROR is gone (renamed by tenant migration 0016)', () => {
    expect(eventErrorCodeSchema.safeParse('PROCESSING_ERROR').success).toBe(false);
    expect(emittedCodes().has('PROCESSING_ERROR')).toBe(false);
    expect(EVENT_ERRORS.PROCESSING_FAILED.retryable).toBe(true);
  });
});
