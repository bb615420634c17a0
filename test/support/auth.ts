import { inject } from 'vitest';
import { signDevToken } from '../../shared/auth/dev-token.js';
import type { Role } from '../../shared/auth/principal.js';

/** A token the test stack accepts: signed with the run's development secret. */
export function tokenFor(tenantId: string, roles: Role[] = ['OPERATOR'], userId = 'u-test'): Promise<string> {
  const settings = inject('settings');
  return signDevToken({
    secret: settings.AUTH_DEV_SECRET ?? '',
    issuer: settings.AUTH_ISSUER ?? '',
    audience: settings.AUTH_AUDIENCE ?? '',
    tenantId,
    userId,
    roles,
  });
}
