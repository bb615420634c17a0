import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteEquipment } from '../../functions/equipment-delete.js';
import { putEquipment } from '../../functions/equipment-put.js';
import { putWell } from '../../functions/wells-put.js';
import { closeApp } from '../../shared/app.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { tokenFor } from '../support/auth.js';
import { equipmentInput, wellInput } from '../support/fixtures.js';
import { call } from '../support/http.js';
import { freshTenant } from '../support/tenants.js';

let tenant: Tenant;
let manager: string;

beforeAll(async () => {
  tenant = await freshTenant('ref');
  manager = await tokenFor(tenant.id, ['MANAGER']);
});
afterAll(() => closeApp());

const put = (handler: typeof putWell, id: string, json: unknown, token = manager) =>
  call(handler, { method: 'PUT', params: { id }, json, token });

describe('PUT /v1/wells/{id}', () => {
  it('creates (201) then replaces (200) by id', async () => {
    const input = wellInput({ lease: 'North Lease' });
    const created = await put(putWell, 'well-a', input);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'well-a', ...input, field: null });
    const replaced = await put(putWell, 'well-a', { ...input, status: 'INACTIVE', lease: null });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ id: 'well-a', status: 'INACTIVE', lease: null });
  });

  it('answers 409 when another well has the API number', async () => {
    const input = wellInput();
    expect((await put(putWell, 'well-b', input)).status).toBe(201);
    const clash = await put(putWell, 'well-c', { ...wellInput(), apiNumber: input.apiNumber });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ code: 'API_NUMBER_TAKEN' });
  });

  it('answers 400 with JSON paths for a bad body or id', async () => {
    const bad = await put(putWell, 'well-d', { ...wellInput(), latitude: 91, status: 'DRILLING' });
    expect(bad.status).toBe(400);
    expect((bad.body as { errors: { path: string }[] }).errors.map((e) => e.path).sort()).toEqual([
      'latitude',
      'status',
    ]);
    const badId = await put(putWell, 'no spaces allowed', wellInput());
    expect(badId.status).toBe(400);
    expect((badId.body as { errors: { path: string }[] }).errors[0]?.path).toBe('id');
  });

  it('answers 400, not 500, for text the database cannot store (NUL, a lone surrogate)', async () => {
    for (const name of ['a\u0000b', 'broken \ud800 pair']) {
      const response = await put(putWell, 'well-text', wellInput({ name }));
      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ errors: [{ path: 'name' }] });
    }
  });

  it('answers 415 for a body that is not JSON, 401 without a token, 403 for an operator', async () => {
    const form = await call(putWell, {
      method: 'PUT',
      params: { id: 'w' },
      token: manager,
      body: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect((await call(putWell, { method: 'PUT', params: { id: 'w' }, json: wellInput() })).status).toBe(401);
    expect((await put(putWell, 'w', wellInput(), await tokenFor(tenant.id, ['OPERATOR']))).status).toBe(403);
  });
});

describe('PUT and DELETE /v1/equipment/{id}', () => {
  it('creates, bumps the version on replace, soft-deletes, and restores on PUT', async () => {
    await put(putWell, 'well-eq', wellInput());
    const created = await put(putEquipment, 'pump-1', equipmentInput('well-eq', { manufacturer: 'Lufkin' }));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'pump-1', version: 1, deletedAt: null, manufacturer: 'Lufkin' });

    const replaced = await put(putEquipment, 'pump-1', equipmentInput('well-eq', { status: 'MAINTENANCE' }));
    expect(replaced.body).toMatchObject({ version: 2, status: 'MAINTENANCE', manufacturer: null });

    const del = (token = manager) =>
      call(deleteEquipment, { method: 'DELETE', params: { id: 'pump-1' }, token });
    expect((await del()).status).toBe(204);
    expect((await del()).status).toBe(204);

    const restored = await put(putEquipment, 'pump-1', equipmentInput('well-eq'));
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ version: 4, deletedAt: null });
  });

  it('answers 404 for deleting unknown equipment and 400 for a missing well', async () => {
    expect(
      (await call(deleteEquipment, { method: 'DELETE', params: { id: 'nope' }, token: manager })).status,
    ).toBe(404);
    const orphan = await put(putEquipment, 'orphan', equipmentInput('no-such-well'));
    expect(orphan.status).toBe(400);
    expect(orphan.body).toMatchObject({ errors: [{ path: 'wellId' }] });
  });
});

describe('tenancy on every request', () => {
  it('refuses a token for a tenant that is not provisioned (403)', async () => {
    const response = await put(putWell, 'w', wellInput(), await tokenFor('not-provisioned', ['MANAGER']));
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ detail: expect.stringMatching(/not provisioned/) });
  });

  it('refuses an X-Tenant-Id that differs from the token (403) and accepts one that matches', async () => {
    const mismatch = await call(putWell, {
      method: 'PUT',
      params: { id: 'w-x' },
      json: wellInput(),
      token: manager,
      headers: { 'x-tenant-id': 'acme' },
    });
    expect(mismatch.status).toBe(403);
    const match = await call(putWell, {
      method: 'PUT',
      params: { id: 'w-x' },
      json: wellInput(),
      token: manager,
      headers: { 'x-tenant-id': tenant.id },
    });
    expect(match.status).toBe(201);
  });

  it('sets x-request-id on every response, keeping a sane one the client sent', async () => {
    const given = await call(putWell, {
      method: 'PUT',
      params: { id: 'w' },
      headers: { 'x-request-id': 'client-req-0001' },
    });
    expect(given.headers['x-request-id']).toBe('client-req-0001');
    const hostile = await call(putWell, {
      method: 'PUT',
      params: { id: 'w' },
      headers: { 'x-request-id': '<script>alert(1)</script>' },
    });
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
