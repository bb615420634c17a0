import { api, query } from '../api.js';
import { h, mount, plural, say, title, when } from '../dom.js';
import { EVENT_TYPES, type StatsBucket, type SyncStats } from '../types.js';

/**
 * Sync health over time: GET /v1/sync/stats?bucket=hour|day (SPEC "Managers' console and review states")
 * drawn with uPlot — events by outcome, sync rate, latency p50/p95 — filtered by user, device, event type
 * or collection. Each chart has a text alternative (a table of the same numbers) for screen readers.
 */

const OUTCOMES = ['applied', 'duplicate', 'conflict', 'rejected', 'failed', 'pending'] as const;
const COLORS: Record<string, string> = {
  applied: '#1e6b34',
  duplicate: '#5b6473',
  conflict: '#8a5a00',
  rejected: '#b3261e',
  failed: '#6a1b9a',
  pending: '#0b5cad',
};

const RANGES: Record<string, { hours: number; bucket: 'hour' | 'day' }> = {
  '24h': { hours: 24, bucket: 'hour' },
  '7d': { hours: 24 * 7, bucket: 'hour' },
  '30d': { hours: 24 * 30, bucket: 'day' },
  '90d': { hours: 24 * 90, bucket: 'day' },
};

const filters = { range: '24h', bucket: 'hour', userId: '', deviceId: '', eventType: '', collection: '' };

let charts: InstanceType<typeof uPlot>[] = [];

/** The width a chart fits in its card: the card's content box (its padding left out). */
function chartWidth(host: HTMLElement): number {
  const style = getComputedStyle(host);
  const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  return Math.max(260, Math.floor((host.clientWidth || 600) - padding));
}

// Charts follow the window (a tablet turned from landscape to portrait).
window.addEventListener('resize', () => {
  for (const plot of charts) {
    const host = plot.root.parentElement;
    if (host) plot.setSize({ width: chartWidth(host), height: 220 });
  }
});

function chart(
  host: HTMLElement,
  name: string,
  xs: number[],
  series: { label: string; values: (number | null)[]; color: string }[],
  unit: string,
): void {
  const width = chartWidth(host);
  const plot = new uPlot(
    {
      title: name,
      width,
      height: 220,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false }))],
      axes: [{}, { label: unit, size: 60 }],
      scales: { x: { time: true } },
    },
    [xs, ...series.map((s) => s.values)],
    host,
  );
  charts.push(plot);
}

function dataTable(caption: string, buckets: StatsBucket[]): HTMLElement {
  return h(
    'details',
    {},
    h('summary', {}, `${caption} as a table`),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Start', ...OUTCOMES, 'Sync rate', 'p50 ms', 'p95 ms'].map((c) => h('th', { scope: 'col' }, c)),
          ),
        ),
        h(
          'tbody',
          {},
          buckets.map((b) =>
            h(
              'tr',
              {},
              h('td', {}, when(b.start)),
              ...OUTCOMES.map((o) => h('td', { class: 'num' }, b.counts[o])),
              h('td', { class: 'num' }, b.syncRate === null ? '—' : `${(b.syncRate * 100).toFixed(1)} %`),
              h('td', { class: 'num' }, b.latencyMs.p50 === null ? '—' : Math.round(b.latencyMs.p50)),
              h('td', { class: 'num' }, b.latencyMs.p95 === null ? '—' : Math.round(b.latencyMs.p95)),
            ),
          ),
        ),
      ),
    ),
  );
}

export async function renderHealth(view: HTMLElement): Promise<void> {
  const results = h('div', { id: 'health-results' });
  const input = (key: 'userId' | 'deviceId' | 'collection', label: string) =>
    h(
      'label',
      {},
      label,
      h('input', {
        type: 'text',
        name: key,
        value: filters[key],
        onchange: (e: Event) => {
          filters[key] = (e.target as HTMLInputElement).value.trim();
        },
      }),
    );
  const select = (key: 'range' | 'bucket', label: string, options: [string, string][]) =>
    h(
      'label',
      {},
      label,
      h(
        'select',
        {
          name: key,
          onchange: (e: Event) => {
            filters[key] = (e.target as HTMLSelectElement).value;
          },
        },
        options.map(([value, text]) => h('option', { value, selected: filters[key] === value }, text)),
      ),
    );
  const form = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Sync health filters',
      onsubmit: (e: Event) => {
        e.preventDefault();
        void load().catch((error: unknown) =>
          say(error instanceof Error ? error.message : String(error), 'error'),
        );
      },
    },
    select('range', 'Range', [
      ['24h', 'Last 24 hours'],
      ['7d', 'Last 7 days'],
      ['30d', 'Last 30 days'],
      ['90d', 'Last 90 days'],
    ]),
    select('bucket', 'Bucket', [
      ['hour', 'Hour'],
      ['day', 'Day'],
    ]),
    input('userId', 'User'),
    input('deviceId', 'Device'),
    h(
      'label',
      {},
      'Event type',
      h(
        'select',
        {
          name: 'eventType',
          onchange: (e: Event) => {
            filters.eventType = (e.target as HTMLSelectElement).value;
          },
        },
        h('option', { value: '' }, 'Any'),
        EVENT_TYPES.map((type) => h('option', { value: type, selected: filters.eventType === type }, type)),
      ),
    ),
    input('collection', 'Collection'),
    h('button', { type: 'submit' }, 'Show'),
  );

  const load = async () => {
    say('Loading statistics…');
    const range = RANGES[filters.range] ?? { hours: 24, bucket: 'hour' };
    // Whole buckets: the range starts on a bucket boundary (UTC), so the first bucket is not a partial one.
    const bucketMs = filters.bucket === 'day' ? 86_400_000 : 3_600_000;
    const to = new Date();
    const from = new Date(Math.floor((to.getTime() - range.hours * 3_600_000) / bucketMs) * bucketMs);
    const stats = await api<SyncStats>(
      'GET',
      `v1/sync/stats${query({
        bucket: filters.bucket,
        from: from.toISOString(),
        to: to.toISOString(),
        userId: filters.userId,
        deviceId: filters.deviceId,
        eventType: filters.eventType,
        collection: filters.collection,
      })}`,
    );
    for (const plot of charts) plot.destroy();
    charts = [];
    const summary = h(
      'p',
      { id: 'health-summary' },
      `${plural(stats.total, 'event')} from ${when(stats.from)} to ${when(stats.to)}; sync rate ${
        stats.syncRate === null ? '—' : `${(stats.syncRate * 100).toFixed(1)} %`
      }.`,
    );
    if (!stats.series) {
      mount(
        results,
        summary,
        h('p', { class: 'muted' }, 'This API does not answer bucketed statistics yet.'),
      );
      say('Statistics loaded (no time series)');
      return;
    }
    const series = stats.series;
    const countsHost = h('div', {
      class: 'chart card',
      role: 'img',
      'aria-label': 'Events by outcome per bucket',
    });
    const rateHost = h('div', { class: 'chart card', role: 'img', 'aria-label': 'Sync rate per bucket' });
    const latencyHost = h('div', {
      class: 'chart card',
      role: 'img',
      'aria-label': 'Latency p50 and p95 per bucket',
    });
    mount(
      results,
      summary,
      h('div', { class: 'charts' }, countsHost, rateHost, latencyHost),
      dataTable('The same numbers', series),
    );
    const xs = series.map((b) => new Date(b.start).getTime() / 1000);
    chart(
      countsHost,
      'Events by outcome',
      xs,
      OUTCOMES.map((o) => ({ label: o, values: series.map((b) => b.counts[o]), color: COLORS[o] ?? '#000' })),
      'events',
    );
    chart(
      rateHost,
      'Sync rate',
      xs,
      [
        {
          label: 'sync rate %',
          values: series.map((b) => (b.syncRate === null ? null : b.syncRate * 100)),
          color: '#0b5cad',
        },
      ],
      '%',
    );
    chart(
      latencyHost,
      'Latency (received → applied)',
      xs,
      [
        { label: 'p50 ms', values: series.map((b) => b.latencyMs.p50), color: '#1e6b34' },
        { label: 'p95 ms', values: series.map((b) => b.latencyMs.p95), color: '#b3261e' },
      ],
      'ms',
    );
    say(`Statistics: ${plural(series.length, `${filters.bucket} bucket`)}`);
  };

  mount(view, title('Sync health'), form, results);
  await load();
}
