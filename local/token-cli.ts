// `npm run -s token -- --tenant acme --user u1 --role OPERATOR`: prints a development token and nothing else.
import { parseArgs } from 'node:util';
import { signDevToken } from '../shared/auth/dev-token.js';
import { roleSchema } from '../shared/auth/principal.js';
import { devSecret, LOCAL_AUDIENCE, LOCAL_ISSUER, loadLocalSettings } from './settings.js';

const usage = `usage: npm run -s token -- --tenant <id> --user <id> --role <OPERATOR|MANAGER|ADMIN> [--role …] [--expires 12h]
Signs an HS256 token with the local development secret (the one \`npm start\` accepts). Any tenant id is
allowed, provisioned or not, so the 403 for unknown tenants can be tried.`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      user: { type: 'string' },
      role: { type: 'string', multiple: true },
      expires: { type: 'string', default: '12h' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const roles = (values.role ?? []).map((r) => roleSchema.safeParse(r.toUpperCase()));
  if (!values.tenant || !values.user || roles.length === 0 || roles.some((r) => !r.success)) {
    process.stderr.write(`${usage}\n`);
    process.exit(2);
  }
  const { dataDir } = loadLocalSettings();
  const token = await signDevToken({
    secret: devSecret(dataDir),
    issuer: process.env.AUTH_ISSUER ?? LOCAL_ISSUER,
    audience: process.env.AUTH_AUDIENCE ?? LOCAL_AUDIENCE,
    tenantId: values.tenant,
    userId: values.user,
    roles: roles.flatMap((r) => (r.success ? [r.data] : [])),
    expiresIn: values.expires,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
