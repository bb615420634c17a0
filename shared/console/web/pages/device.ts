import { api, ApiError, query } from '../api.js';
import { facts, h, mount, plural, say, title, when } from '../dom.js';
import { thumbnails } from '../photos.js';
import type { DeviceActivity, DeviceListItem } from '../types.js';

/** One device: its status, recent batches, failed events (retry from here) and photos. */
export async function renderDevice(view: HTMLElement, deviceId: string): Promise<void> {
  say(`Loading device ${deviceId}…`);
  const [status, activity] = await Promise.all([
    api<Omit<DeviceListItem, 'stale'>>('GET', `v1/sync/status${query({ deviceId })}`).catch(
      (error: unknown) => {
        if (error instanceof ApiError && error.status === 404) return undefined;
        throw error;
      },
    ),
    api<DeviceActivity>('GET', `v1/devices/${encodeURIComponent(deviceId)}/activity${query({ limit: 25 })}`),
  ]);

  const retry = async (body: { deviceId: string; eventIds?: string[] }) => {
    try {
      const result = await api<{ retried: number }>('POST', 'v1/sync/retry', body);
      say(`${plural(result.retried, 'event')} queued again`);
      await renderDevice(view, deviceId);
    } catch (error) {
      say(error instanceof Error ? error.message : String(error), 'error');
    }
  };

  const batches = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id: 'device-batches' },
      h('caption', { class: 'muted' }, `Newest ${plural(activity.batches.length, 'batch', 'batches')}`),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          [
            'Received',
            'Batch',
            'User',
            'Total',
            'Applied',
            'Duplicate',
            'Conflict',
            'Rejected',
            'Failed',
            'Pending',
          ].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        {},
        activity.batches.map((b) =>
          h(
            'tr',
            {},
            h('td', {}, when(b.receivedAt, { seconds: true })),
            h('td', {}, h('code', {}, b.batchId)),
            h('td', {}, b.userId),
            ...[
              b.counts.total,
              b.counts.applied,
              b.counts.duplicate,
              b.counts.conflict,
              b.counts.rejected,
              b.counts.failed,
              b.counts.pending,
            ].map((n) => h('td', { class: 'num' }, n)),
          ),
        ),
      ),
    ),
  );

  const failed =
    activity.failedEvents.length === 0
      ? h('p', { class: 'muted' }, 'No failed events.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { id: 'device-failed' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Event', 'Type', 'Occurred', 'Status', 'Error', 'Attempts', ''].map((c) =>
                  h('th', { scope: 'col' }, c),
                ),
              ),
            ),
            h(
              'tbody',
              {},
              activity.failedEvents.map((e) =>
                h(
                  'tr',
                  {},
                  h('td', {}, h('code', {}, e.eventId)),
                  h('td', {}, e.type),
                  h('td', {}, when(e.occurredAt, { seconds: true })),
                  h('td', {}, h('span', { class: 'badge bad' }, e.status)),
                  h('td', {}, e.error ? `${e.error.code}: ${e.error.message}` : '—'),
                  h('td', { class: 'num' }, e.attempts),
                  h(
                    'td',
                    {},
                    h(
                      'button',
                      {
                        type: 'button',
                        class: 'secondary',
                        'aria-label': `Retry event ${e.eventId}`,
                        onclick: () => void retry({ deviceId, eventIds: [e.eventId] }),
                      },
                      'Retry',
                    ),
                  ),
                ),
              ),
            ),
          ),
        );

  mount(
    view,
    title(`Device ${deviceId}`),
    h(
      'section',
      { class: 'card', 'aria-label': 'Status' },
      status
        ? facts([
            ['User', status.userId ?? '—'],
            [
              'Platform',
              `${status.platform ?? '—'} · app ${status.appVersion ?? '—'} · schema ${status.schemaVersion ?? '—'}`,
            ],
            ['Last push', when(status.lastPushAt)],
            ['Last pull', when(status.lastPullAt)],
            ['Last sync', when(status.lastSyncAt)],
            ['Pending / failed', `${status.pendingEvents} / ${status.failedEvents}`],
            ['Open conflicts', String(status.openConflicts)],
            ['Changes not pulled yet', status.pendingPull === null ? '—' : String(status.pendingPull)],
            ['Photos', `${status.photos.awaitingUpload} awaiting upload, ${status.photos.attached} attached`],
          ])
        : h('p', { class: 'muted' }, 'This device has no status yet.'),
    ),
    h('h2', {}, 'Recent batches'),
    batches,
    h('h2', {}, 'Failed events'),
    h(
      'div',
      {},
      activity.failedEvents.length > 0
        ? h(
            'button',
            { type: 'button', id: 'retry-all', onclick: () => void retry({ deviceId }) },
            'Retry all failed events',
          )
        : null,
      failed,
    ),
    h('h2', {}, 'Photos'),
    thumbnails(activity.photos, `Photos of device ${deviceId}`),
  );
  say(
    `Device ${deviceId}: ${plural(activity.batches.length, 'recent batch', 'recent batches')}, ${plural(activity.failedEvents.length, 'failed event')}, ${plural(activity.photos.filter((p) => p.status === 'ATTACHED').length, 'photo')}`,
  );
}
