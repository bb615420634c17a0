import type { Health } from '../contracts/health.js';
import type { DependencyCheck } from './ports/tenancy.js';
import { describeError } from '../redact.js';

/** Runs every dependency check at once; the service is ok only when all answer. */
export async function checkHealth(checks: DependencyCheck[], version: string): Promise<Health> {
  const results = await Promise.all(
    checks.map(async (dependency) => {
      const started = performance.now();
      try {
        await dependency.check();
        return [
          dependency.name,
          { status: 'up' as const, latencyMs: Math.round(performance.now() - started) },
        ] as const;
      } catch (error) {
        const { code, message } = describeError(error);
        return [
          dependency.name,
          {
            status: 'down' as const,
            latencyMs: Math.round(performance.now() - started),
            // The error's code (ECONNREFUSED…) says enough; messages may name hosts.
            error: code ?? message.slice(0, 120),
          },
        ] as const;
      }
    }),
  );
  return {
    status: results.every(([, r]) => r.status === 'up') ? 'ok' : 'unavailable',
    version,
    time: new Date().toISOString(),
    checks: Object.fromEntries(results),
  };
}
