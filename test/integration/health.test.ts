import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { health } from '../../functions/health.js';
import { putWell } from '../../functions/wells-put.js';
import { type RunningStack, startLocalStack } from '../../local/stack.js';
import { closeApp } from '../../shared/app.js';
import { tokenFor } from '../support/auth.js';
import { wellInput } from '../support/fixtures.js';
import { call } from '../support/http.js';
import { freePort } from '../support/ports.js';

// This file gets a Postgres server of its own, so stopping it cannot disturb other tests.
let stack: RunningStack;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'fieldsync-health-'));
  stack = await startLocalStack({
    dataDir,
    ports: { postgres: await freePort(), blob: 0, cosmos: 0 },
    given: {},
    services: ['postgres'],
  });
  process.env.POSTGRES_URL = stack.settings.POSTGRES_URL;
});

afterAll(async () => {
  await closeApp();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('GET /api/health', () => {
  it('answers 200 while every dependency answers, 503 naming Postgres when it stops, 200 again after', async () => {
    const up = await call(health);
    expect(up.status).toBe(200);
    expect(up.body).toMatchObject({
      status: 'ok',
      checks: { postgres: { status: 'up' }, cosmos: { status: 'up' }, blob: { status: 'up' } },
    });

    await stack.stopPostgres();
    const down = await call(health);
    expect(down.status).toBe(503);
    expect(down.headers['retry-after']).toBeDefined();
    expect(down.body).toMatchObject({
      status: 'unavailable',
      checks: {
        postgres: { status: 'down', error: expect.any(String) },
        cosmos: { status: 'up' },
        blob: { status: 'up' },
      },
    });
    expect(down.text).not.toContain(stack.settings.POSTGRES_URL ?? 'never');

    // A route that needs the database answers 503 with Retry-After too: never a 500 for an outage.
    const write = await call(putWell, {
      method: 'PUT',
      params: { id: 'w-1' },
      json: wellInput(),
      token: await tokenFor('acme', ['MANAGER']),
    });
    expect(write.status).toBe(503);
    expect(write.headers['retry-after']).toBeDefined();
    expect(write.body).toMatchObject({ code: 'DEPENDENCY_UNAVAILABLE' });

    await stack.startPostgres();
    expect((await call(health)).status).toBe(200);
  });
});
