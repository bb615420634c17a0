import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeApp, getApp } from '../../shared/app.js';
import { api, pushSettled } from '../support/api.js';
import { tokenFor } from '../support/auth.js';
import { runFieldSim, serverRecordOf } from '../support/field-sim.js';
import { freshTenant, type SeededTenant, seededTenant } from '../support/tenants.js';

// Issue 15 item 7: `npm run field-sim` plays a shift through the real @fieldsync/client (SQLite store)
// against the local host, run as npm runs it (scripts/run.mjs, the built entry) in a child process, and is
// judged by exit code, output and what the tenant database holds.
let t: SeededTenant;
const folder = mkdtempSync(join(tmpdir(), 'field-sim-test-'));

beforeAll(async () => {
  t = await seededTenant('fsim');
});
afterAll(async () => {
  rmSync(folder, { recursive: true, force: true });
  await closeApp();
});

describe('npm run field-sim', { timeout: 180_000 }, () => {
  it('plays a shift of 40 events and 4 photos: every event applied once, every photo attached, exit 0', async () => {
    // Prepare
    const store = join(folder, 'tablet-7');
    const args = ['--tenant', t.tenant.id, '--device', 'tablet-7', '--events', '40', '--photos', '4'];
    // Act: small batches, so the shift takes several pushes.
    const run = await runFieldSim([...args, '--batch-size', '15', '--store', store]);
    // Assess: the printed outcome counts, and the server's own record of the device.
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/recorded 40 events and 4 photos/);
    expect(run.stdout).toMatch(/applied \d+ · duplicate 0 · conflict \d+ · rejected 0 · failed 0/);
    expect(run.stdout).toMatch(/photos uploaded 4 .* attached on the server 4 · awaiting upload 0/);
    expect(run.stdout).toMatch(/nothing lost/);
    // A pipe is not a terminal: progress comes as lines, not carriage-return redraws.
    expect(run.stderr).toMatch(/^push: \d+\/44$/m);
    expect(run.stderr).not.toMatch(/\r/);
    const server = await serverRecordOf(t.tenant, 'tablet-7');
    expect(server.events).toHaveLength(44);
    expect(server.events.every((e) => e.status === 'APPLIED' || e.status === 'CONFLICT')).toBe(true);
    const appended = server.events.filter((e) =>
      ['WELL_READING_RECORDED', 'EQUIPMENT_INSPECTED', 'MAINTENANCE_LOGGED', 'NOTES_ADDED'].includes(e.type),
    );
    expect(server.effects.sort()).toEqual(appended.map((e) => e.id).sort());
    const attaches = server.events.filter((e) => e.type === 'PHOTO_ATTACHED');
    expect(attaches).toHaveLength(4);
    expect(server.photos).toHaveLength(4);
    expect(server.photos.every((p) => p.status === 'ATTACHED')).toBe(true);
    expect(server.photos.map((p) => p.event_id).sort()).toEqual(attaches.map((e) => e.id).sort());

    // Act again on the same store: the shift is complete, nothing is sent twice.
    const again = await runFieldSim([...args, '--store', store]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/resuming the shift/);
    expect(again.stdout).toMatch(/nothing lost/);
    expect((await serverRecordOf(t.tenant, 'tablet-7')).events).toHaveLength(44);
  });

  it('on a clinic tenant (no wells) writes notes and photos on the records the operator may read', async () => {
    // Prepare: two clinic-a patients (one clinic-b one the simulator's user may not read), and a grant.
    const tenant = await freshTenant('fsimc', ['clinic']);
    const manager = await tokenFor(tenant.id, ['MANAGER'], 'u-manager');
    const patient = (id: string, clinicId: string) => ({
      id: crypto.randomUUID(),
      type: 'RECORD_CREATED',
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      payload: { collection: 'patients', recordId: id, data: { clinicId, name: `Patient ${id}` } },
    });
    const created = await pushSettled(manager, 'front-desk', [
      patient('pat-a1', 'clinic-a'),
      patient('pat-a2', 'clinic-a'),
      patient('pat-b1', 'clinic-b'),
    ]);
    expect(created.events.map((e) => e.status)).toEqual(['APPLIED', 'APPLIED', 'APPLIED']);
    expect((await api(manager, 'PUT', 'v1/scopes/clinic-a/members/field-sim')).status).toBeLessThan(300);
    // Act
    const run = await runFieldSim(
      ['--tenant', tenant.id, '--device', 'tab-c', '--events', '12', '--photos', '2', '--json'],
      { viaLauncher: false },
    );
    // Assess: every event and photo is on a clinic-a patient, applied once.
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.lines.find((l) => l.type === 'summary')).toMatchObject({ lost: 0, rejected: 0 });
    const server = await serverRecordOf(tenant, 'tab-c');
    expect(server.events).toHaveLength(14);
    expect(server.events.every((e) => e.status === 'APPLIED')).toBe(true);
    const notes = await getApp()
      .tenantPool(tenant)
      .query<{ target: string }>(
        `select target_type || ':' || target_id as target from notes where device_id = 'tab-c'`,
      );
    expect(notes.rows).toHaveLength(12);
    expect(new Set(notes.rows.map((r) => r.target))).toEqual(
      new Set(['RECORD:patients/pat-a1', 'RECORD:patients/pat-a2']),
    );
    expect(server.photos.map((p) => p.status)).toEqual(['ATTACHED', 'ATTACHED']);
  });

  it('refuses bad arguments with the usage and exit 2, and a backend that is not there with exit 1', async () => {
    const missing = await runFieldSim(['--device', 'd'], { viaLauncher: false });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/usage: npm run field-sim/);
    const down = await runFieldSim(
      ['--tenant', t.tenant.id, '--device', 'd', '--timeout', '2', '--base-url', 'http://127.0.0.1:9/api'],
      { viaLauncher: false },
    );
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/field-sim: /);
  });

  it('stops at once on a token the host refuses after a refresh, with a hint about the data folder', async () => {
    // Act: field-sim signs with another secret than the host's (as when FIELDSYNC_DATA_DIR differs).
    const run = await runFieldSim(['--tenant', t.tenant.id, '--device', 'd401', '--timeout', '120'], {
      viaLauncher: false,
      env: { AUTH_DEV_SECRET: 'not-the-secret-the-host-checks-tokens-with' },
    });
    // Assess: exit 1 with the hint, no "trying again" loop, well before the timeout.
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/field-sim: the host refused the token \(401/);
    expect(run.stderr).toMatch(/FIELDSYNC_DATA_DIR .* same as for npm start/);
    expect(run.stderr).not.toMatch(/trying again/);
    expect(run.ms).toBeLessThan(30_000);
  });
});
