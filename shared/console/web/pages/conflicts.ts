import { api, query } from '../api.js';
import { h, mount, plural, say, show, title, when } from '../dom.js';
import { type Conflict, type ConflictStatus } from '../types.js';

/**
 * Conflict inbox: GET /v1/conflicts?status=OPEN — every conflict no manager has handled, held by MANUAL
 * (PENDING_REVIEW) or settled by a strategy and not reviewed yet — oldest first.
 */
let status: ConflictStatus = 'OPEN';

/** A conflict's state in words: held, settled automatically and unreviewed, decided or acknowledged by whom. */
export const describeResolution = (c: Conflict): string =>
  c.status === 'OPEN'
    ? c.automaticResolution === null
      ? 'Held for review (MANUAL)'
      : `Settled automatically: ${c.automaticResolution}, not reviewed`
    : c.status === 'ACKNOWLEDGED'
      ? `${c.automaticResolution ?? c.resolution} acknowledged by ${c.reviewedBy ?? '?'}`
      : `${c.resolution} by ${c.reviewedBy ?? c.resolvedBy ?? '?'}${
          c.automaticResolution ? ` (overriding ${c.automaticResolution})` : ''
        }`;

export async function renderConflicts(view: HTMLElement): Promise<void> {
  say('Loading conflicts…');
  const list = await api<{ conflicts: Conflict[]; nextAfter: string | null }>(
    'GET',
    `v1/conflicts${query({ status, limit: 200 })}`,
  );
  const table = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id: 'conflict-table' },
      h(
        'caption',
        { class: 'muted' },
        `${list.conflicts.length}${list.nextAfter ? '+' : ''} ${status.toLowerCase()} conflicts`,
      ),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Record', 'Fields', 'Server', 'Client', 'State', 'Raised'].map((c) =>
            h('th', { scope: 'col' }, c),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        list.conflicts.map((c) =>
          h(
            'tr',
            { 'data-conflict': c.id },
            h(
              'th',
              { scope: 'row' },
              h('a', { href: `#/conflicts/${c.id}` }, `${c.recordType} ${c.recordKey}`),
            ),
            h('td', {}, c.fields.join(', ')),
            h('td', {}, c.fields.map((f) => `${f}: ${show(c.serverValue[f])}`).join('; ')),
            h('td', {}, c.fields.map((f) => `${f}: ${show(c.clientValue[f])}`).join('; ')),
            h(
              'td',
              {},
              h(
                'span',
                {
                  class: `badge ${c.status === 'OPEN' ? 'warn' : 'ok'}`,
                },
                describeResolution(c),
              ),
            ),
            h('td', {}, when(c.createdAt)),
          ),
        ),
      ),
    ),
  );
  mount(
    view,
    title('Conflict inbox'),
    h(
      'form',
      { class: 'filters', 'aria-label': 'Conflict filter', onsubmit: (e: Event) => e.preventDefault() },
      h(
        'label',
        {},
        'Show',
        h(
          'select',
          {
            id: 'conflict-status',
            onchange: (e: Event) => {
              const chosen = (e.target as HTMLSelectElement).value;
              status = chosen === 'RESOLVED' || chosen === 'ACKNOWLEDGED' ? chosen : 'OPEN';
              void renderConflicts(view).catch((error: unknown) => say(String(error), 'error'));
            },
          },
          h('option', { value: 'OPEN', selected: status === 'OPEN' }, 'Open: not handled by a manager'),
          h(
            'option',
            { value: 'RESOLVED', selected: status === 'RESOLVED' },
            'Resolved: a manager set the values',
          ),
          h(
            'option',
            { value: 'ACKNOWLEDGED', selected: status === 'ACKNOWLEDGED' },
            'Acknowledged: automatic result kept',
          ),
        ),
      ),
      h('button', { type: 'button', onclick: () => void renderConflicts(view) }, 'Refresh'),
    ),
    list.conflicts.length > 0 ? table : h('p', { id: 'conflicts-empty' }, 'Nothing to review.'),
  );
  say(plural(list.conflicts.length, `${status.toLowerCase()} conflict`));
}
