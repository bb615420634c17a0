/** Options of {@link waitFor}. */
export interface WaitOptions {
  /** What is awaited, for the error message: "batch b1 settled". */
  what: string;
  /** Give up after this long (default 30 s: a busy shared stack can be slow, never wrong). */
  timeoutMs?: number;
  /** Pause between two checks (default 50 ms). */
  intervalMs?: number;
}

/**
 * Checks `condition` until it returns a truthy value and returns that value; throws
 * `timed out after N ms waiting for <what>` (with the last value or error seen) once `timeoutMs` has passed.
 * A condition that throws counts as "not yet". Tests wait on what they need to be true, never on a fixed
 * sleep: the suite runs files in parallel against one shared stack, where nothing happens in a fixed time.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  { what, timeoutMs = 30_000, intervalMs = 50 }: WaitOptions,
): Promise<Exclude<T, false | 0 | '' | null | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as Exclude<T, false | 0 | '' | null | undefined>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const seen = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${seen?.slice(0, 500)})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Waits until the clock has passed `epochMillis` (e.g. a SAS expiry), checking the clock, not sleeping blind. */
export const clockPasses = (epochMillis: number, what: string): Promise<true> =>
  waitFor(() => Date.now() > epochMillis, {
    what,
    timeoutMs: Math.max(0, epochMillis - Date.now()) + 30_000,
  });

/**
 * Waits until every transaction of the Postgres server that began before this call has ended, so that a
 * pull sees every change committed so far. A pull only sends changes below the visibility horizon
 * (`pg_snapshot_xmin`, shared/adapters/postgres/pull-store.ts); transaction ids are server-wide, so a
 * transaction of another test file, in another database, can hold a change back for a while — later,
 * never skipped. `pool` is any pool of the server (the tenant's: `getApp().tenantPool(tenant)`).
 */
export async function pullHorizonPassed(
  pool: { query: (sql: string, values?: unknown[]) => Promise<{ rows: unknown[] }> },
  timeoutMs = 60_000,
): Promise<void> {
  const { rows } = await pool.query('select pg_current_xact_id()::text as xid');
  const xid = (rows[0] as { xid: string }).xid;
  await waitFor(
    async () => {
      const result = await pool.query('select pg_snapshot_xmin(pg_current_snapshot()) > $1::xid8 as passed', [
        xid,
      ]);
      return (result.rows[0] as { passed: boolean }).passed;
    },
    { what: `every transaction up to ${xid} to end (the pull horizon)`, timeoutMs },
  );
}
