import { randomBytes, randomUUID } from 'node:crypto';
import azureFunctions, { type Timer } from '@azure/functions';
import {
  type Attributes,
  createNoopMeter,
  type Meter,
  type MeterProvider,
  metrics,
} from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pruneChangeLog } from '../../functions/prune-change-log.js';
import { sweepPhotos } from '../../functions/sweep-photos.js';
import { closeApp, getApp } from '../../shared/app.js';
import { createLogger } from '../../shared/logger.js';
import { TENANT_JOB_FAILURES_METRIC } from '../../shared/observability.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { issueUploadUrls, photoDeps, sweepUnattachedPhotos } from '../../shared/usecases/photos.js';
import { pruneChangeLogs } from '../../shared/usecases/prune.js';
import { tenantDatabaseName } from '../../shared/usecases/tenants.js';
import { freshTenant, onlyTenants, unregisterTenant } from '../support/tenants.js';

// Issue 10, item 9: a registered tenant whose database does not exist must not stop a timer that walks
// every tenant. The tenants are this file's own; ids are chosen so the broken one comes first (the
// registry lists by id) and the healthy one after it.
const { InvocationContext } = azureFunctions;
let broken: string;
let healthy: Tenant;
let photoId: string;

/** Counter additions, as an OpenTelemetry SDK would receive them through the API's global provider. */
const added: { name: string; value: number; attributes: Attributes | undefined }[] = [];
const provider: MeterProvider = {
  getMeter: (): Meter =>
    Object.assign(Object.create(createNoopMeter()) as Meter, {
      createCounter: (name: string) => ({
        add: (value: number, attributes?: Attributes) => added.push({ name, value, attributes }),
      }),
      createHistogram: () => ({ record: () => {} }),
    }),
};

/** A logger whose lines the test can read. */
function capturedLog() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('info', {
    write: (line: string) => {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { log, lines };
}

beforeAll(async () => {
  const app = getApp();
  broken = `aaa-broken-${randomBytes(4).toString('hex')}`;
  await app.tenants.register({ id: broken, databaseName: tenantDatabaseName(broken), server: 'primary' });
  healthy = await freshTenant('zzz-sweep');
  // One photo whose upload URL was asked for and never used: the sweep's work in the healthy tenant.
  photoId = randomUUID();
  await issueUploadUrls(
    photoDeps(app),
    healthy,
    { userId: 'u-sweep' },
    { deviceId: 'dev-sweep', photos: [{ photoId, contentType: 'image/jpeg', sizeBytes: 100 }] },
  );
  metrics.disable();
  metrics.setGlobalMeterProvider(provider);
});

afterAll(async () => {
  metrics.disable();
  // Unregister the broken tenant, so no other test file walks it.
  await unregisterTenant(broken);
  await closeApp();
});

const failuresOf = (job: string) =>
  added.filter(
    (a) =>
      a.name === TENANT_JOB_FAILURES_METRIC &&
      a.attributes?.job === job &&
      a.attributes['tenant.id'] === broken,
  );

describe('timers that walk every tenant', () => {
  it('sweepPhotos: a tenant without a database is reported, and the tenants after it are still swept', async () => {
    const app = getApp();
    const { log, lines } = capturedLog();
    const later = new Date(Date.now() + 25 * 3_600_000);
    // Walks this file's two tenants only: a sweep 25 h ahead would otherwise sweep every other test file's
    // fresh photos (and they ours) while they run in parallel.
    const result = await sweepUnattachedPhotos(
      { ...photoDeps(app), tenants: onlyTenants(app.tenants, [broken, healthy.id]), log },
      { now: later },
    );

    const ids = result.tenants.map((r) => r.tenantId);
    expect(ids).toEqual([broken, healthy.id]);
    expect(result.tenants.find((r) => r.tenantId === broken)).toMatchObject({
      ok: false,
      error: { message: expect.any(String) },
    });
    // The healthy tenant's never-uploaded photo was swept (its blob is missing, so nothing to tag).
    expect(result.tenants.find((r) => r.tenantId === healthy.id)).toEqual({
      tenantId: healthy.id,
      ok: true,
      value: { tagged: 0, missing: 1, attached: 0 },
    });
    expect(await app.photoRecords.staleAwaiting(healthy, later, 10)).toEqual([]);
    expect(result).toMatchObject({ tagged: 0, missing: 1, attached: 0 });

    // Reported: a warning naming the tenant and the job, a summary error, and the failure metric.
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', job: 'sweepPhotos', tenantId: broken }),
    );
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'error', failed: expect.arrayContaining([broken]) }),
    );
    expect(failuresOf('sweepPhotos')).toHaveLength(1);
  });

  it('pruneChangeLog: the same, through the same helper', async () => {
    const app = getApp();
    const { log, lines } = capturedLog();
    const result = await pruneChangeLogs({
      ...app,
      tenants: onlyTenants(app.tenants, [broken, healthy.id]),
      log,
    });
    expect(result.tenants.map((r) => r.tenantId)).toEqual([broken, healthy.id]);
    expect(result.tenants.find((r) => r.tenantId === broken)?.ok).toBe(false);
    expect(result.tenants.find((r) => r.tenantId === healthy.id)).toMatchObject({ ok: true, value: 0 });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', job: 'pruneChangeLog', tenantId: broken }),
    );
    expect(failuresOf('pruneChangeLog')).toHaveLength(1);
  });

  it('the timer functions themselves finish instead of throwing', async () => {
    const timer = { isPastDue: false } as Timer;
    const context = () => new InvocationContext({ invocationId: randomUUID(), functionName: 'timer' });
    await expect(sweepPhotos(timer, context())).resolves.toBeUndefined();
    await expect(pruneChangeLog(timer, context())).resolves.toBeUndefined();
    expect(failuresOf('sweepPhotos')).toHaveLength(2);
    expect(failuresOf('pruneChangeLog')).toHaveLength(2);
  });
});
