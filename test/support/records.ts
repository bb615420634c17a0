import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { api } from './api.js';

/** A record as a pull sends it (SPEC v1.1 "Scopes": `records`). */
export interface PulledRecord {
  collection: string;
  id: string;
  version: number;
  data: Record<string, unknown>;
}

/** What following a pull to its end gave: records, deletions, the last cursor, and every page's text. */
export interface PulledAll {
  records: PulledRecord[];
  deleted: { type: string; collection?: string; id: string }[];
  cursor: string;
  text: string;
}

/**
 * Pulls over HTTP from `cursor` (none: a first sync) following nextCursor until hasMore is false, `limit` per
 * page; `query` is appended as it is (e.g. `&collections=patients&scopes=clinic-a`). Fails the test on a
 * status other than 200.
 */
export async function pullAll(
  token: string,
  deviceId: string,
  query = '',
  cursor?: string,
  limit = 100,
): Promise<PulledAll> {
  const out: PulledAll = { records: [], deleted: [], cursor: cursor ?? '', text: '' };
  const texts: string[] = [];
  for (;;) {
    const response = await api(
      token,
      'GET',
      `v1/sync/pull?deviceId=${deviceId}&limit=${limit}${query}${out.cursor ? `&cursor=${encodeURIComponent(out.cursor)}` : ''}`,
    );
    expect(response.status, response.text).toBe(200);
    texts.push(response.text);
    const page = response.body as Omit<PulledAll, 'cursor' | 'text'> & {
      nextCursor: string;
      hasMore: boolean;
    };
    out.records.push(...page.records);
    out.deleted.push(...page.deleted);
    out.cursor = page.nextCursor;
    if (!page.hasMore) return { ...out, text: texts.join('\n') };
  }
}

/** A client-made event (a new UUID) of `type` at `occurredAt` with `payload`. */
export const recordEvent = (type: string, occurredAt: string, payload: Record<string, unknown>) => ({
  id: randomUUID(),
  type,
  occurredAt,
  payload,
});
