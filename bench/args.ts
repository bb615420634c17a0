// `npm run bench` flags, parsed and checked in one place (a unit test covers them).
import { parseArgs } from 'node:util';

/** What `npm run bench -- …` asks for. */
export interface BenchArgs {
  /** Devices pushing at once (--devices, default 20). */
  devices: number;
  /** Events per device push (--events, default 1000). */
  events: number;
  /** oil-gas: the v1 events; clinic: v1.1 record events over the clinic pack (--domain). */
  domain: 'oil-gas' | 'clinic';
  /**
   * Scaling mode (--workers 1,2,4): for each N, the pushes are accepted first with no processor running,
   * then N processor worker processes drain the queue. Undefined: the default bench.
   */
  workers: number[] | undefined;
  /** Scaling mode: how many times the list of N is run (interleaved: 1,2,4,1,2,4 …), --repeat, default 2. */
  repeat: number;
  /** Unloaded single pushes timed one after another for the p50 (--unloaded, default 7). */
  unloaded: number;
  /**
   * --statements: load pg_stat_statements into the bench's Postgres and print the tenant database's
   * statements of the loaded run by total time (per 1,000 events): where Postgres spends its time.
   */
  statements: boolean;
  /**
   * --cpu-profile FILE: write a V8 CPU profile (.cpuprofile, open in Chrome DevTools) of this process during
   * the loaded run only, from the first push to the last event settled. Undefined: no profile.
   */
  cpuProfile: string | undefined;
}

function positiveInt(name: string, text: string, max: number): number {
  if (!/^\d+$/.test(text)) throw new Error(`--${name} is a whole number, not "${text}"`);
  const n = Number(text);
  if (n < 1 || n > max) throw new Error(`--${name} is between 1 and ${max}, not ${n}`);
  return n;
}

/** Parses the bench's argv (without node and the script); throws an Error naming the bad flag. */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      devices: { type: 'string', default: '20' },
      events: { type: 'string', default: '1000' },
      domain: { type: 'string', default: 'oil-gas' },
      workers: { type: 'string' },
      unloaded: { type: 'string', default: '7' },
      repeat: { type: 'string', default: '2' },
      statements: { type: 'boolean', default: false },
      'cpu-profile': { type: 'string' },
    },
    strict: true,
  });
  const domain = values.domain;
  if (domain !== 'oil-gas' && domain !== 'clinic') throw new Error('--domain is oil-gas or clinic');
  let workers: number[] | undefined;
  if (values.workers !== undefined) {
    if (domain !== 'oil-gas') throw new Error('--workers runs the oil-gas events only');
    workers = values.workers.split(',').map((w) => positiveInt('workers', w.trim(), 16));
  }
  return {
    devices: positiveInt('devices', values.devices, 1000),
    // 1000 events is the push limit (SPEC): a bigger device push would be refused.
    events: positiveInt('events', values.events, 1000),
    domain,
    workers,
    unloaded: positiveInt('unloaded', values.unloaded, 100),
    repeat: positiveInt('repeat', values.repeat, 20),
    statements: values.statements,
    cpuProfile: values['cpu-profile'],
  };
}
