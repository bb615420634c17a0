import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../bench/args.js';
import { emptySnapshot, formatCosts, mergeSnapshots } from '../../bench/counters.js';

// `npm run bench`'s flags and the shape of its cost lines (bench/args.ts, bench/counters.ts). No timing here:
// the bench's figures are read by people, never asserted (HELPERS-S5).

describe('bench arguments', () => {
  it('defaults to the bench that issue 17 measures: 20 devices × 1000 events, no scaling mode', () => {
    expect(parseBenchArgs([])).toEqual({
      devices: 20,
      events: 1000,
      domain: 'oil-gas',
      workers: undefined,
      unloaded: 7,
      repeat: 2,
      statements: false,
      cpuProfile: undefined,
    });
  });

  it('profiles the loaded run into the file --cpu-profile names', () => {
    expect(parseBenchArgs(['--cpu-profile', '/tmp/loaded.cpuprofile'])).toMatchObject({
      cpuProfile: '/tmp/loaded.cpuprofile',
    });
  });

  it('asks for per-statement timings with --statements', () => {
    expect(parseBenchArgs(['--statements'])).toMatchObject({ statements: true, workers: undefined });
  });

  it('reads a worker list for the scaling mode', () => {
    const args = parseBenchArgs(['--workers', '1, 2,4', '--devices', '4', '--events', '500']);
    expect(args).toMatchObject({ workers: [1, 2, 4], devices: 4, events: 500 });
  });

  it.each([
    [['--workers', '0'], /--workers/],
    [['--workers', '1,x'], /--workers/],
    [['--events', '1001'], /--events/],
    [['--devices', '-3'], /--devices/],
    [['--domain', 'mining'], /--domain/],
    [['--domain', 'clinic', '--workers', '2'], /oil-gas/],
    [['--repeat', '0'], /--repeat/],
    [['--unknown'], /unknown/i],
  ])('refuses %j, naming the flag', (argv, message) => {
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});

describe('bench cost lines', () => {
  it('adds snapshots and prints each figure per 1,000 events', () => {
    const a = emptySnapshot();
    a.postgres.t1 = { statements: 30, transactionControl: 8, queueTables: 0 };
    a.queue = { sendCalls: 2, messagesSent: 2, scheduled: 0, received: 2, completed: 2, abandoned: 0 };
    a.cosmos['item.read 200'] = { requests: 4, requestCharge: 4 };
    const b = emptySnapshot();
    b.postgres.t1 = { statements: 10, transactionControl: 0, queueTables: 0 };
    b.postgres.control = { statements: 6, transactionControl: 0, queueTables: 6 };
    b.cosmos['item.read 200'] = { requests: 4, requestCharge: 6 };

    const lines = formatCosts(mergeSnapshots([a, b]), 2000, { t1: 'tenant db' }, 'test');

    expect(lines).toEqual([
      'cost per 1,000 events, test (2,000 events counted):',
      "  postgres control: 3 statements (3 on the queue's tables) + 0 BEGIN/COMMIT",
      '  postgres tenant db: 20 statements + 4 BEGIN/COMMIT',
      '  queue: 1 messages sent in 1 send calls, 0 scheduled, 1 received, 1 completed, 0 abandoned',
      '  cosmos: 4 requests, 5 RU reported — item.read 200 ×4',
    ]);
  });
});
