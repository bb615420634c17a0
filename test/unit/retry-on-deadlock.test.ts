import { describe, expect, it } from 'vitest';
import { retryOnDeadlock } from '../../shared/adapters/local-queue/pg-boss-queue.js';

// The local queue creates its queues again when Postgres picked it as a deadlock victim (two processes running
// pg-boss's DDL at once), and only then.
const failing = (errors: unknown[]) => {
  let calls = 0;
  return {
    work: async () => {
      calls += 1;
      const error = errors.shift();
      if (error) throw error;
      return 'done';
    },
    calls: () => calls,
  };
};

describe('retryOnDeadlock', () => {
  it('runs the work again after a deadlock and returns its result', async () => {
    const w = failing([{ code: '40P01' }, { code: '40P01' }]);
    await expect(retryOnDeadlock(w.work)).resolves.toBe('done');
    expect(w.calls()).toBe(3);
  });

  it('throws any other error at once', async () => {
    const w = failing([{ code: '42P01', message: 'no such table' }]);
    await expect(retryOnDeadlock(w.work)).rejects.toMatchObject({ code: '42P01' });
    expect(w.calls()).toBe(1);
  });

  it('gives up after the last attempt with the deadlock', async () => {
    const w = failing([{ code: '40P01' }, { code: '40P01' }, { code: '40P01' }]);
    await expect(retryOnDeadlock(w.work, 3)).rejects.toMatchObject({ code: '40P01' });
    expect(w.calls()).toBe(3);
  });
});
