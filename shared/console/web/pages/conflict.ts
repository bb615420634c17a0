import { api, ApiError } from '../api.js';
import { facts, h, mount, say, show, title, when } from '../dom.js';
import { thumbnails } from '../photos.js';
import type { ConflictDetail } from '../types.js';
import { describeResolution } from './conflicts.js';

/**
 * One conflict: the two sides field by field, the events behind them (device, user, times, payload), the
 * record's photos, and the manager's decision — SERVER_WINS, CLIENT_WINS, ACKNOWLEDGED (keep an automatic
 * result) or MERGED with a value per field (POST /v1/conflicts/{id}/resolve).
 */

/** A merge editor's text as the field's value: empty is null; JSON when it parses (numbers, booleans); else text. */
export function parseValue(text: string, example: unknown): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  if (typeof example === 'string') return text;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return text;
  }
}

/**
 * Asks before a decision that changes the record: a modal <dialog> (focus moves into it, Escape cancels,
 * the page behind is inert), naming the decision and each field's value before → after. Resolves true
 * only for the confirm button. Why: a decision is one click otherwise, and it reaches every device.
 */
export function confirmDecision(
  view: HTMLElement,
  heading: string,
  changes: [field: string, before: unknown, after: unknown][],
  confirmLabel: string,
): Promise<boolean> {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { class: 'confirm', id: 'confirm-decision', 'aria-labelledby': 'confirm-heading' },
      h('h2', { id: 'confirm-heading' }, heading),
      h(
        'ul',
        {},
        changes.map(([field, before, after]) =>
          h(
            'li',
            {},
            `${field}: ${show(before)} → ${show(after)}${show(before) === show(after) ? ' (unchanged)' : ''}`,
          ),
        ),
      ),
      h('p', { class: 'muted' }, 'Every device gets the decided values with its next pull.'),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', value: 'cancel', autofocus: true }, 'Cancel'),
        h('button', { type: 'button', value: 'confirm' }, confirmLabel),
      ),
    );
    let answered = false;
    const finish = (answer: boolean) => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    dialog.addEventListener('click', (event) => {
      const button = (event.target as HTMLElement).closest('button');
      if (button) finish(button.value === 'confirm');
    });
    dialog.addEventListener('close', () => finish(false));
    view.append(dialog);
    dialog.showModal();
  });
}

const editText = (value: unknown): string =>
  value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value);

export async function renderConflict(view: HTMLElement, id: string): Promise<void> {
  say('Loading conflict…');
  const detail = await api<ConflictDetail>('GET', `v1/conflicts/${id}`);
  const c = detail.conflict;
  const automatic = c.automaticResolution !== null;

  const resolve = async (body: { resolution: string; merged?: Record<string, unknown> }) => {
    if (body.resolution !== 'ACKNOWLEDGED') {
      // ACKNOWLEDGED keeps the record as it is; the other three change it, so they ask first.
      const after = (f: string) =>
        body.resolution === 'SERVER_WINS'
          ? c.serverValue[f]
          : body.resolution === 'CLIENT_WINS'
            ? c.clientValue[f]
            : body.merged?.[f];
      const ok = await confirmDecision(
        view,
        `${body.resolution} on ${c.recordType} ${c.recordKey}?`,
        c.fields.map((f) => [f, c.serverValue[f], after(f)]),
        `Confirm ${body.resolution}`,
      );
      if (!ok) {
        say('Nothing changed: the decision was cancelled');
        return;
      }
    }
    for (const button of view.querySelectorAll('button')) button.disabled = true;
    say(`Resolving ${body.resolution}…`);
    try {
      await api('POST', `v1/conflicts/${id}/resolve`, body);
      await renderConflict(view, id);
      say(`Resolved: ${body.resolution}`);
    } catch (error) {
      for (const button of view.querySelectorAll('button')) button.disabled = false;
      const paths =
        error instanceof ApiError && error.errors.length > 0
          ? ` (${error.errors.map((e) => `${e.path}: ${e.message}`).join('; ')})`
          : '';
      say(`${error instanceof Error ? error.message : String(error)}${paths}`, 'error');
    }
  };

  const sides = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id: 'conflict-fields' },
      h('caption', { class: 'muted' }, 'The two sides, field by field'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          // Columns named by role and state: "Server (kept)" read wrong once the client's value had won.
          [
            'Field',
            'Server value (before this event)',
            'Client value (this event)',
            c.status === 'RESOLVED'
              ? `Decided value: ${c.resolution} by ${c.resolvedBy ?? '?'} at ${when(c.resolvedAt, { seconds: true })}`
              : null,
          ]
            .filter(Boolean)
            .map((t) => h('th', { scope: 'col' }, t as string)),
        ),
      ),
      h(
        'tbody',
        {},
        c.fields.map((f) =>
          h(
            'tr',
            { 'data-field': f },
            h('th', { scope: 'row' }, f),
            h('td', { 'data-side': 'server' }, show(c.serverValue[f])),
            h('td', { 'data-side': 'client' }, show(c.clientValue[f])),
            c.status === 'RESOLVED' ? h('td', { 'data-side': 'resolved' }, show(c.resolvedValue?.[f])) : null,
          ),
        ),
      ),
    ),
  );

  const eventCards = h(
    'div',
    { class: 'sides' },
    (['SERVER', 'CLIENT'] as const).map((side) => {
      const event = detail.events.find((e) => e.side === side);
      return h(
        'section',
        { class: 'card', 'aria-label': `${side === 'SERVER' ? 'Server' : 'Client'} side event` },
        h('h2', {}, side === 'SERVER' ? 'Server side' : 'Client side'),
        event
          ? [
              facts([
                ['Event', h('code', {}, event.eventId)],
                ['Type', event.type],
                [
                  'Device',
                  h('a', { href: `#/devices/${encodeURIComponent(event.deviceId)}` }, event.deviceId),
                ],
                ['User', event.userId],
                ['Occurred', when(event.occurredAt, { seconds: true })],
                ['Received', when(event.receivedAt, { seconds: true })],
                ['Outcome', event.status],
              ]),
              h('pre', { class: 'payload', 'aria-label': 'Payload' }, JSON.stringify(event.payload, null, 2)),
            ]
          : h(
              'p',
              { class: 'muted' },
              side === 'SERVER'
                ? 'The server value came from an earlier state (no event recorded).'
                : 'Event not found.',
            ),
      );
    }),
  );

  const mergeForm = h(
    'form',
    {
      class: 'card merge',
      id: 'merge-form',
      'aria-label': 'Merge editor',
      onsubmit: (e: Event) => {
        e.preventDefault();
        const merged: Record<string, unknown> = {};
        for (const field of c.fields) {
          const input = (e.target as HTMLFormElement).elements.namedItem(
            `merge-${field}`,
          ) as HTMLInputElement | null;
          merged[field] = parseValue(input?.value ?? '', c.clientValue[field] ?? c.serverValue[field]);
        }
        void resolve({ resolution: 'MERGED', merged });
      },
    },
    h('h2', {}, 'Merge: a value for each field'),
    c.fields.map((f) =>
      h(
        'label',
        {},
        `${f} (server ${show(c.serverValue[f])}, client ${show(c.clientValue[f])})`,
        h('input', { type: 'text', name: `merge-${f}`, value: editText(c.clientValue[f]) }),
      ),
    ),
    h('button', { type: 'submit' }, 'Save merged values (MERGED)'),
  );

  const actions =
    c.status === 'OPEN'
      ? [
          h(
            'div',
            { class: 'actions', role: 'group', 'aria-label': 'Decision' },
            h(
              'button',
              { type: 'button', onclick: () => void resolve({ resolution: 'SERVER_WINS' }) },
              'Server wins (SERVER_WINS)',
            ),
            h(
              'button',
              { type: 'button', onclick: () => void resolve({ resolution: 'CLIENT_WINS' }) },
              'Client wins (CLIENT_WINS)',
            ),
            automatic
              ? h(
                  'button',
                  {
                    type: 'button',
                    class: 'secondary',
                    onclick: () => void resolve({ resolution: 'ACKNOWLEDGED' }),
                  },
                  `Acknowledge (keep ${c.automaticResolution ?? c.resolution})`,
                )
              : null,
          ),
          mergeForm,
        ]
      : [];

  mount(
    view,
    title(`Conflict on ${c.recordType} ${c.recordKey}`),
    h(
      'section',
      { class: 'card', 'aria-label': 'Conflict' },
      facts([
        ['Record', `${c.recordType} ${c.recordKey}`],
        ['State', h('span', { id: 'conflict-state' }, `${c.status} · ${describeResolution(c)}`)],
        ['Raised', when(c.createdAt)],
        ['Reviewed', c.reviewedAt ? `${when(c.reviewedAt)} by ${c.reviewedBy ?? '?'}` : 'not yet'],
      ]),
    ),
    sides,
    ...actions,
    eventCards,
    h('h2', {}, 'Photos of this record'),
    thumbnails(detail.photos, `Photos of ${c.recordType} ${c.recordKey}`),
  );
  say(`Conflict ${c.status === 'OPEN' ? 'open' : 'resolved'}: ${c.fields.join(', ')}`);
}
