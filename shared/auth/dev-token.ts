import { SignJWT } from 'jose';
import type { Role } from './principal.js';

export interface DevTokenRequest {
  secret: string;
  issuer: string;
  audience: string;
  tenantId: string;
  userId: string;
  roles: Role[];
  /** Lifetime, e.g. '8h'. */
  expiresIn?: string;
}

/** Signs an HS256 development token with the local secret; only the local stack accepts these. */
export async function signDevToken(request: DevTokenRequest): Promise<string> {
  return new SignJWT({ tid: request.tenantId, roles: request.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(request.userId)
    .setIssuer(request.issuer)
    .setAudience(request.audience)
    .setIssuedAt()
    .setExpirationTime(request.expiresIn ?? '12h')
    .sign(new TextEncoder().encode(request.secret));
}
