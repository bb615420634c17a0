import { configureApi } from './api.js';
import { signIn } from './auth.js';
import { h, mount, say } from './dom.js';
import { renderConflict } from './pages/conflict.js';
import { renderConflicts } from './pages/conflicts.js';
import { renderDevice } from './pages/device.js';
import { renderFleet } from './pages/fleet.js';
import { renderHealth } from './pages/health.js';
import type { ConsoleConfig } from './types.js';

/**
 * The console's entry point: reads config.json, signs in, then shows the page the URL fragment names
 * (`#/fleet`, `#/devices/<id>`, `#/health`, `#/conflicts`, `#/conflicts/<id>`). Hash routes keep every page
 * on the one URL the server serves, and the fragment never reaches the server.
 */

let generation = 0;

async function route(view: HTMLElement, moveFocus: boolean): Promise<void> {
  const mine = ++generation;
  const isCurrent = () => mine === generation;
  const [, page = 'fleet', id] = /^#\/([a-z]+)(?:\/(.+))?$/.exec(location.hash) ?? [];
  for (const link of document.querySelectorAll<HTMLAnchorElement>('[data-nav]')) {
    if (link.dataset.nav === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const param = id ? decodeURIComponent(id) : undefined;
  try {
    if (page === 'devices' && param) await renderDevice(view, param);
    else if (page === 'health') await renderHealth(view);
    else if (page === 'conflicts' && param) await renderConflict(view, param);
    else if (page === 'conflicts') await renderConflicts(view);
    else await renderFleet(view, isCurrent);
  } catch (error) {
    if (!isCurrent()) return;
    say(error instanceof Error ? error.message : String(error), 'error');
  }
  // After a navigation, focus moves to the new content so keyboard and screen-reader users start there (not
  // on the first load: there the first Tab reaches the skip link, as on any page).
  if (moveFocus && isCurrent()) view.focus();
}

async function start(): Promise<void> {
  const view = document.getElementById('view') as HTMLElement;
  const config = (await (
    await fetch('config.json', { headers: { accept: 'application/json' } })
  ).json()) as ConsoleConfig;
  const session = await signIn(config);
  if (!session) {
    mount(
      view,
      h('h1', {}, 'Sign in'),
      h(
        'p',
        {},
        config.signIn === 'dev'
          ? 'Open the console URL that `npm start` prints (it signs you in as the demo manager), or add #token=<a manager token from `npm run token`>.'
          : config.signIn === 'entra'
            ? 'Redirecting to Microsoft Entra ID…'
            : 'No sign-in is configured for this console (set CONSOLE_CLIENT_ID, CONSOLE_AUTHORITY and CONSOLE_API_SCOPE).',
      ),
    );
    return;
  }
  configureApi(config.apiBase, session);
  const who = document.getElementById('who');
  if (who) who.textContent = `Signed in: ${session.who}`;
  const signOut = document.getElementById('sign-out') as HTMLButtonElement | null;
  if (signOut) {
    signOut.hidden = false;
    signOut.addEventListener('click', () => {
      void session.signOut().then(() => location.reload());
    });
  }
  if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/fleet');
  window.addEventListener('hashchange', () => void route(view, true));
  await route(view, false);
}

void start().catch((error: unknown) => say(`The console could not start: ${String(error)}`, 'error'));
