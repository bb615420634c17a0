/**
 * The capability in a dialect-003 upload URL (`PUT /api/compat/fieldops/uploads/{token}`): like a SAS, the URL
 * alone lets its holder write one blob until it expires. The token names the tenant, the photo, its blob and
 * its content type and the expiry, signed with HMAC-SHA256 under a key derived from the tenant's pull-cursor
 * key (the product's signing secret, shared/sync/cursor.ts), so a token altered in any byte, or carried to
 * another tenant, is refused. docs/compat/fieldops.md ("Upload URL").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { PHOTO_CONTENT_TYPES } from '../../contracts/events.js';

/** What an upload token carries: tenant `t`, photo id `p`, blob name `b`, content type `c`, expiry `e` (epoch ms). */
export const uploadTokenSchema = z.object({
  v: z.literal(1),
  t: z.string().min(1).max(128),
  p: z.uuid(),
  b: z.string().min(1).max(512),
  c: z.enum(PHOTO_CONTENT_TYPES),
  e: z.number().int().positive(),
});
export type UploadToken = z.infer<typeof uploadTokenSchema>;

// A key of its own, derived from the tenant's signing key: a pull cursor's signature never signs an upload token.
const tokenKey = (tenantKey: string) =>
  createHmac('sha256', tenantKey).update('fieldsync/compat/fieldops/upload-token/v1').digest();
const sign = (tenantKey: string, body: string) =>
  createHmac('sha256', tokenKey(tenantKey)).update(body).digest('base64url');

/** The token text: base64url(JSON).base64url(HMAC). */
export function encodeUploadToken(token: UploadToken, tenantKey: string): string {
  const body = Buffer.from(JSON.stringify(token)).toString('base64url');
  return `${body}.${sign(tenantKey, body)}`;
}

/**
 * The token's claims WITHOUT checking the signature: only to learn which tenant's key to check it with.
 * Undefined when the text is not a token at all.
 */
export function peekUploadToken(text: string): UploadToken | undefined {
  const [body, signature, extra] = text.split('.');
  if (!body || !signature || extra !== undefined) return undefined;
  try {
    const parsed = uploadTokenSchema.safeParse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The verified token, 'expired' when it is genuine but past its expiry (`now` epoch ms), or undefined when it
 * is malformed, altered, or signed with another tenant's key.
 */
export function verifyUploadToken(
  text: string,
  tenantKey: string,
  now = Date.now(),
): UploadToken | 'expired' | undefined {
  const token = peekUploadToken(text);
  if (!token) return undefined;
  const [body = '', signature = ''] = text.split('.');
  const expected = Buffer.from(sign(tenantKey, body));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
  return token.e <= now ? 'expired' : token;
}
