import { api, query } from '../api.js';
import { h, mount, plural, say, title, when } from '../dom.js';
import type { DeviceList, DeviceListItem } from '../types.js';

/** Fleet: every device's sync status (GET /v1/devices), filtered and sorted in the page. */

type Key =
  | keyof Pick<
      DeviceListItem,
      | 'deviceId'
      | 'userId'
      | 'platform'
      | 'appVersion'
      | 'schemaVersion'
      | 'lastPushAt'
      | 'lastPullAt'
      | 'lastSyncAt'
      | 'pendingEvents'
      | 'failedEvents'
      | 'openConflicts'
      | 'stale'
    >
  | 'photosAwaiting';

/**
 * The table's columns; `minor` ones are hidden on narrow screens (≤ 900 px, console.css), where the device
 * page still shows them: the columns a manager scans for trouble stay visible on a portrait tablet.
 */
const COLUMNS: { key: Key; label: string; numeric?: boolean; minor?: boolean }[] = [
  { key: 'deviceId', label: 'Device' },
  { key: 'userId', label: 'User' },
  { key: 'platform', label: 'Platform', minor: true },
  { key: 'appVersion', label: 'App', minor: true },
  { key: 'schemaVersion', label: 'Schema', numeric: true, minor: true },
  { key: 'lastPushAt', label: 'Last push' },
  { key: 'lastPullAt', label: 'Last pull', minor: true },
  { key: 'lastSyncAt', label: 'Last sync' },
  { key: 'pendingEvents', label: 'Pending', numeric: true },
  { key: 'failedEvents', label: 'Failed', numeric: true },
  { key: 'openConflicts', label: 'Open conflicts', numeric: true },
  { key: 'photosAwaiting', label: 'Photos awaiting upload', numeric: true },
  { key: 'stale', label: 'Stale' },
];

const valueOf = (device: DeviceListItem, key: Key): string | number | boolean | null =>
  key === 'photosAwaiting' ? device.photos.awaitingUpload : device[key];

const state = { text: '', show: 'all', sort: 'lastPushAt' as Key, descending: true, staleAfterHours: 24 };

export async function renderFleet(view: HTMLElement, isCurrent: () => boolean): Promise<void> {
  const tableHost = h('div', { class: 'table-wrap' });
  let devices: DeviceListItem[] = [];

  const draw = () => {
    const text = state.text.trim().toLowerCase();
    const shown = devices
      .filter(
        (d) =>
          !text ||
          [d.deviceId, d.userId, d.platform, d.appVersion].some((v) =>
            (v ?? '').toLowerCase().includes(text),
          ),
      )
      .filter((d) =>
        state.show === 'stale'
          ? d.stale
          : state.show === 'failed'
            ? d.failedEvents > 0
            : state.show === 'conflicts'
              ? d.openConflicts > 0
              : state.show === 'pending'
                ? d.pendingEvents > 0 || d.photos.awaitingUpload > 0
                : true,
      )
      .sort((a, b) => {
        const x = valueOf(a, state.sort);
        const y = valueOf(b, state.sort);
        const order = x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1;
        return state.descending ? -order : order;
      });
    const header = h(
      'tr',
      {},
      COLUMNS.map((column) =>
        h(
          'th',
          {
            scope: 'col',
            class: [column.numeric ? 'num' : '', column.minor ? 'minor' : ''].join(' ').trim() || undefined,
            'aria-sort': state.sort === column.key ? (state.descending ? 'descending' : 'ascending') : 'none',
          },
          h(
            'button',
            {
              type: 'button',
              class: 'sort',
              'aria-label': `Sort by ${column.label}`,
              onclick: () => {
                state.descending = state.sort === column.key ? !state.descending : column.numeric === true;
                state.sort = column.key;
                draw();
              },
            },
            column.label,
          ),
        ),
      ),
    );
    const rows = shown.map((d) =>
      h(
        'tr',
        { 'data-device': d.deviceId },
        h(
          'th',
          { scope: 'row' },
          h('a', { href: `#/devices/${encodeURIComponent(d.deviceId)}` }, d.deviceId),
        ),
        h('td', {}, d.userId ?? '—'),
        h('td', { class: 'minor' }, d.platform ?? '—'),
        h('td', { class: 'minor' }, d.appVersion ?? '—'),
        h('td', { class: 'num minor' }, d.schemaVersion ?? '—'),
        h('td', {}, when(d.lastPushAt)),
        h('td', { class: 'minor' }, when(d.lastPullAt)),
        h('td', {}, when(d.lastSyncAt)),
        h('td', { class: 'num' }, d.pendingEvents),
        h('td', { class: 'num' }, d.failedEvents > 0 ? h('span', { class: 'badge bad' }, d.failedEvents) : 0),
        h(
          'td',
          { class: 'num' },
          d.openConflicts > 0 ? h('span', { class: 'badge warn' }, d.openConflicts) : 0,
        ),
        h('td', { class: 'num' }, d.photos.awaitingUpload),
        h(
          'td',
          {},
          d.stale ? h('span', { class: 'badge warn' }, 'stale') : h('span', { class: 'badge ok' }, 'fresh'),
        ),
      ),
    );
    mount(
      tableHost,
      h(
        'table',
        { id: 'fleet-table' },
        h('caption', { class: 'muted' }, `${shown.length} of ${plural(devices.length, 'device')}`),
        h('thead', {}, header),
        h('tbody', {}, rows),
      ),
    );
  };

  const load = async () => {
    say('Loading devices…');
    const list = await api<DeviceList>(
      'GET',
      `v1/devices${query({ staleAfterHours: state.staleAfterHours })}`,
    );
    devices = list.devices;
    draw();
    say(`${plural(devices.length, 'device')}, as of ${when(list.generatedAt, { seconds: true })}`);
  };

  const filters = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      'aria-label': 'Filter devices',
      onsubmit: (e: Event) => e.preventDefault(),
    },
    h(
      'label',
      {},
      'Search device, user, platform or app',
      h('input', {
        type: 'search',
        id: 'fleet-search',
        value: state.text,
        oninput: (e: Event) => {
          state.text = (e.target as HTMLInputElement).value;
          draw();
        },
      }),
    ),
    h(
      'label',
      {},
      'Show',
      h(
        'select',
        {
          id: 'fleet-show',
          onchange: (e: Event) => {
            state.show = (e.target as HTMLSelectElement).value;
            draw();
          },
        },
        [
          ['all', 'All devices'],
          ['stale', 'Stale only'],
          ['failed', 'With failed events'],
          ['conflicts', 'With open conflicts'],
          ['pending', 'With pending events or photos'],
        ].map(([value, label]) => h('option', { value, selected: value === state.show }, label)),
      ),
    ),
    h(
      'label',
      {},
      'Stale after (hours)',
      h('input', {
        type: 'number',
        min: 1,
        max: 8760,
        value: state.staleAfterHours,
        onchange: (e: Event) => {
          const hours = Number((e.target as HTMLInputElement).value);
          if (hours > 0) {
            state.staleAfterHours = hours;
            void load().catch(failed);
          }
        },
      }),
    ),
    h('button', { type: 'button', id: 'fleet-refresh', onclick: () => void load().catch(failed) }, 'Refresh'),
  );
  const failed = (error: unknown) => say(error instanceof Error ? error.message : String(error), 'error');

  mount(view, title('Fleet'), filters, tableHost);
  await load();
  // Keep the list current while the page is open (a push shows up without a click).
  const timer = setInterval(() => {
    if (!isCurrent()) return clearInterval(timer);
    void load().catch(failed);
  }, 15_000);
}
