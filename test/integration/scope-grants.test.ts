import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteScopeMember } from '../../functions/scope-member-delete.js';
import { putScopeMember } from '../../functions/scope-member-put.js';
import { listScopeGrants } from '../../functions/scopes.js';
import { closeApp, getApp } from '../../shared/app.js';
import type { ScopeGrant } from '../../shared/contracts/scopes.js';
import type { Tenant } from '../../shared/usecases/ports/tenancy.js';
import { tokenFor } from '../support/auth.js';
import { call } from '../support/http.js';
import { freshTenant } from '../support/tenants.js';

// Scope grants (SPEC v1.1 "Scopes"): managers and admins grant and revoke, operators may not; PUT answers
// 201 then 200 (idempotent), DELETE 204 then 404; GET lists by scope then user.
let tenant: Tenant;
let manager: string;
let admin: string;
let operator: string;

beforeAll(async () => {
  tenant = await freshTenant('grants');
  manager = await tokenFor(tenant.id, ['MANAGER'], 'boss');
  admin = await tokenFor(tenant.id, ['ADMIN'], 'root');
  operator = await tokenFor(tenant.id, ['OPERATOR'], 'op-1');
});
afterAll(() => closeApp());

const put = (scope: string, userId: string, token: string) =>
  call(putScopeMember, { method: 'PUT', params: { scope, userId }, token });
const del = (scope: string, userId: string, token: string) =>
  call(deleteScopeMember, { method: 'DELETE', params: { scope, userId }, token });
const list = async (token: string, userId?: string) => {
  const query = userId ? `?userId=${encodeURIComponent(userId)}` : '';
  return call(listScopeGrants, { url: `http://localhost/api/v1/scopes${query}`, token });
};

describe('scope grant routes', () => {
  it('grant: 201 with the grant, then 200 with the same grant; revoke: 204, then 404', async () => {
    const first = await put('clinic-a', 'op-1', manager);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ scope: 'clinic-a', userId: 'op-1', grantedBy: 'boss' });
    const again = await put('clinic-a', 'op-1', admin);
    expect(again.status).toBe(200);
    // Unchanged: still granted by the first manager, at the first time.
    expect(again.body).toEqual(first.body);
    expect(await getApp().scopes.scopesOf(tenant, 'op-1')).toEqual(['clinic-a']);

    expect((await del('clinic-a', 'op-1', admin)).status).toBe(204);
    expect(await getApp().scopes.scopesOf(tenant, 'op-1')).toEqual([]);
    const missing = await del('clinic-a', 'op-1', manager);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.body).toMatchObject({ status: 404, detail: expect.stringContaining('clinic-a') });
  });

  it('list: every grant by scope then user, or one user’s', async () => {
    await put('b-2', 'op-2', manager);
    await put('b-1', 'op-2', manager);
    await put('b-1', 'op-3', admin);
    const all = await list(manager);
    expect(all.status).toBe(200);
    const pairs = (all.body as { grants: ScopeGrant[] }).grants.map((g) => `${g.scope}/${g.userId}`);
    expect(pairs).toEqual(['b-1/op-2', 'b-1/op-3', 'b-2/op-2']);
    const mine = await list(admin, 'op-2');
    expect((mine.body as { grants: ScopeGrant[] }).grants.map((g) => g.scope)).toEqual(['b-1', 'b-2']);
  });

  it('an OPERATOR gets 403 on every grant route and changes nothing', async () => {
    await put('keep', 'op-4', manager);
    expect((await put('sneak', 'op-1', operator)).status).toBe(403);
    expect((await del('keep', 'op-4', operator)).status).toBe(403);
    expect((await list(operator)).status).toBe(403);
    expect(await getApp().scopes.scopesOf(tenant, 'op-1')).toEqual([]);
    expect(await getApp().scopes.scopesOf(tenant, 'op-4')).toEqual(['keep']);
  });

  it('a scope with "/" or "," is a 400 naming the parameter, never a 500', async () => {
    const bad = await put('a,b', 'op-1', manager);
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('scope');
  });
});
