import type { ConsoleConfig } from './types.js';

/**
 * Sign-in (docs/console.md). In Azure: Microsoft Entra ID through MSAL (redirect flow, tokens for the API
 * scope from config.json). Locally: the development token `npm start` puts in the console URL's fragment
 * (`#token=…`): fragments never reach a server or its logs; the page moves it into sessionStorage (gone
 * when the tab closes) and removes it from the address bar. A fragment token is ignored unless the server
 * says its development issuer is configured (config.json `signIn: "dev"`).
 */

const TOKEN_KEY = 'fieldsync.console.token';

export interface Session {
  /** A Bearer token for the API, fresh for the next call. */
  token(): Promise<string>;
  /** Who is signed in, for the header. */
  who: string;
  signOut(): Promise<void>;
}

/** The claims the console shows (read, not verified: the API verifies every call). */
function claims(token: string): {
  sub?: string;
  tid?: string;
  roles?: string[];
  name?: string;
  exp?: number;
} {
  try {
    const part = token.split('.')[1] ?? '';
    return JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/'))) as ReturnType<typeof claims>;
  } catch {
    return {};
  }
}

const describe = (token: string): string => {
  const c = claims(token);
  return `${c.name ?? c.sub ?? 'unknown'} · ${c.tid ?? '?'} · ${(c.roles ?? []).join(', ')}`;
};

/** Takes `#token=…` out of the address bar (keeping the route, if any, after `&route=`). */
function takeFragmentToken(): string | undefined {
  const match = /^#token=([A-Za-z0-9._-]+)(?:&route=(#\/[^&]*))?$/.exec(location.hash);
  if (!match) return undefined;
  history.replaceState(null, '', `${location.pathname}${location.search}${match[2] ?? '#/fleet'}`);
  return match[1];
}

function devSession(): Session | undefined {
  const given = takeFragmentToken();
  if (given) sessionStorage.setItem(TOKEN_KEY, given);
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return undefined;
  const exp = claims(token).exp;
  if (exp !== undefined && exp * 1000 < Date.now()) {
    sessionStorage.removeItem(TOKEN_KEY);
    return undefined;
  }
  return {
    token: () => Promise.resolve(token),
    who: describe(token),
    signOut: () => {
      sessionStorage.removeItem(TOKEN_KEY);
      return Promise.resolve();
    },
  };
}

async function entraSession(entra: NonNullable<ConsoleConfig['entra']>): Promise<Session | undefined> {
  const redirectUri = `${location.origin}${location.pathname}`;
  const client = new msal.PublicClientApplication({
    auth: { clientId: entra.clientId, authority: entra.authority, redirectUri },
    cache: { cacheLocation: 'sessionStorage' },
  });
  await client.initialize();
  const result = await client.handleRedirectPromise();
  const account = result?.account ?? client.getAllAccounts()[0];
  if (!account) {
    await client.loginRedirect({ scopes: entra.scopes, redirectStartPage: location.href });
    return undefined; // the browser is leaving for the sign-in page
  }
  client.setActiveAccount(account);
  const token = async () => {
    try {
      return (await client.acquireTokenSilent({ scopes: entra.scopes, account })).accessToken;
    } catch (error) {
      if (error instanceof msal.InteractionRequiredAuthError) {
        await client.acquireTokenRedirect({ scopes: entra.scopes, account });
      }
      throw error;
    }
  };
  return {
    token,
    who: `${account.name ?? account.username} · ${account.tenantId}`,
    signOut: () => client.logoutRedirect({ account }),
  };
}

/** Signs in as config.json says; undefined when there is no session (the page explains what to do). */
export async function signIn(config: ConsoleConfig): Promise<Session | undefined> {
  if (config.signIn === 'entra' && config.entra) return entraSession(config.entra);
  if (config.signIn === 'dev') return devSession();
  // No sign-in configured: never take a token from the URL.
  if (takeFragmentToken()) sessionStorage.removeItem(TOKEN_KEY);
  return undefined;
}
