// CPU time of the bench's Postgres server, read from Linux /proc: the postmaster's own time, the time of the
// backends it has reaped (cutime/cstime) and of the backends still running. Differences between two readings
// give the CPU-seconds Postgres spent in between, whoever's connection it was. Undefined where /proc is
// missing (not Linux): the bench then prints no CPU figure.
import { readdirSync, readFileSync } from 'node:fs';
import type pg from 'pg';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ: 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** The fields after `(comm)` of /proc/<pid>/stat: [0] state, [1] ppid, [11] utime … [14] cstime. */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The server's postmaster pid (the parent of this pool's backend), or undefined without /proc. */
export async function postmasterPid(pool: pg.Pool): Promise<number | undefined> {
  const { rows } = await pool.query<{ pid: number }>('select pg_backend_pid() as pid');
  const fields = rows[0] ? statFields(rows[0].pid) : undefined;
  return fields ? Number(fields[1]) : undefined;
}

/** CPU-seconds the Postgres server has used so far (postmaster + reaped and running backends). */
export function postgresCpuSeconds(postmaster: number | undefined): number | undefined {
  if (postmaster === undefined) return undefined;
  const own = statFields(postmaster);
  if (!own) return undefined;
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(entry);
    if (fields && Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/** A running V8 CPU profile of this process (node:inspector); stop() writes it as a .cpuprofile file. */
export interface RunningProfile {
  stop(file: string): Promise<void>;
}

/** Starts profiling this process (all its threads' JS on the main isolate) until stop(file). */
export async function startProfile(): Promise<RunningProfile> {
  const { Session } = await import('node:inspector/promises');
  const { writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  // 500 µs between samples: finer than the default 1 ms, coarse enough to cost little.
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
