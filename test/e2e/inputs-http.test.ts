import { randomUUID } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import type { PushAccepted } from '../../shared/contracts/sync.js';
import { tokenFor } from '../support/auth.js';
import { note } from '../support/events.js';

// The input rules over real HTTP through the local Functions host (`node dist/local/start.js`): the bytes
// reach the handler as sent, so a charset, bytes that are not UTF-8 and deep JSON are judged as in-process.
const base = inject('hostUrl');
const WELL = 'well-spraberry-1a'; // a demo well of tenant acme

const pushBytes = async (body: string | Buffer, contentType = 'application/json') => {
  const token = await tokenFor('acme', ['OPERATOR'], 'u-e2e-inputs');
  const response = await fetch(`${base}/v1/sync/batches`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    body,
  });
  return { status: response.status, type: response.headers.get('content-type'), body: await response.json() };
};

describe('input rules over HTTP', () => {
  it('answers 415 for a Latin-1 charset and 400 for Latin-1 bytes; stores UTF-8 text intact', async () => {
    const text = JSON.stringify({ deviceId: 'e2e-inputs', events: [note(WELL, 'Café Señor')] });
    const declared = await pushBytes(Buffer.from(text, 'latin1'), 'application/json; charset=iso-8859-1');
    expect(declared.status).toBe(415);
    expect(declared.type).toBe('application/problem+json');
    const undeclared = await pushBytes(Buffer.from(text, 'latin1'));
    expect(undeclared.status).toBe(400);
    expect((undeclared.body as { detail: string }).detail).toMatch(/not valid UTF-8/);
    const utf8 = await pushBytes(Buffer.from(text, 'utf8'), 'application/json; charset=UTF-8');
    expect(utf8.status).toBe(202);
    expect((utf8.body as PushAccepted).accepted).toBe(1);
  });

  it('rejects a year-0 and a too-deep event alone, accepting the one between them', async () => {
    const good = note(WELL, `between ${randomUUID()}`);
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const body = JSON.stringify({
      deviceId: 'e2e-inputs',
      events: [{ ...note(WELL, 'year 0'), occurredAt: '0000-01-01T00:00:00Z' }, good, note(WELL, 'deep')],
    }).replace(/"deep"\}\}\]\}$/, `"deep","extra":${deep}}}]}`);
    const response = await pushBytes(body);
    expect(response.status).toBe(202);
    const accepted = response.body as PushAccepted;
    expect(accepted.accepted).toBe(1);
    expect(accepted.rejected.map((r) => [r.index, r.code, r.errors?.[0]?.path])).toEqual([
      [0, 'INVALID_PAYLOAD', 'events[0].occurredAt'],
      [2, 'INVALID_PAYLOAD', 'events[2].payload.extra'],
    ]);
  });
});
