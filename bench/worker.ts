// One processor worker of the bench's scaling mode (`npm run bench -- --workers 1,2,4`): a separate Node
// process, forked by bench/run.ts with the same environment, that builds the app and runs the real function
// registrations in the local Functions host with the local queue as its trigger source — as `npm start`
// does, and as one Functions instance does in Azure. Its queue subscription waits for the parent's "go", so
// that start-up is not timed. Messages: parent → worker `{ type: 'go' }`, `{ type: 'stop' }`;
// worker → parent `{ type: 'ready' }`, `{ type: 'counts', snapshot }`, `{ type: 'failed', error }`.
import { join } from 'node:path';
import { closeApp, getApp } from '../shared/app.js';
import { projectRoot } from '../shared/project-root.js';
import { startFunctionsHost, type QueueSubscriber } from '../local/host.js';
import { installCounters, takeSnapshot } from './counters.js';

/** Parent → worker. */
export type ToWorker = { type: 'go' } | { type: 'stop' };
/** Worker → parent. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'counts'; snapshot: ReturnType<typeof takeSnapshot>; cpuSeconds: number }
  | { type: 'failed'; error: string };

const send = (message: FromWorker) =>
  new Promise<void>((resolve) => {
    if (process.send) process.send(message, () => resolve());
    else resolve();
  });

async function main(): Promise<void> {
  installCounters();
  const app = getApp();
  const localQueue = app.localQueue;
  if (!localQueue) throw new Error('the bench worker needs QUEUE_DRIVER=local');
  const tenantId = process.env.BENCH_TENANT ?? 'bench';
  const tenant = await app.tenants.find(tenantId);
  if (!tenant) throw new Error(`tenant ${tenantId} is not registered`);
  // Warm: the queue's schema check and one tenant connection, so the timed part is processing only.
  await localQueue.start();
  await app.tenantPool(tenant).query('select 1');

  let go: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (go = resolve));
  let stopRequested: () => void = () => undefined;
  const stopping = new Promise<void>((resolve) => (stopRequested = resolve));
  process.on('message', (message: ToWorker) => {
    if (message.type === 'go') go();
    if (message.type === 'stop') stopRequested();
  });
  // The bench is gone (killed, or it stopped its stack): nothing is left to work for.
  process.once('disconnect', () => process.exit(0));
  const syncQueue = process.env.SYNC_QUEUE_NAME ?? 'sync-events';
  let cpuAtGo: NodeJS.CpuUsage | undefined;
  const gated: QueueSubscriber = {
    async subscribe(queueName, onMessage) {
      if (queueName === syncQueue) {
        await send({ type: 'ready' });
        await started;
        takeSnapshot(); // count from "go" on
        cpuAtGo = process.cpuUsage();
      }
      return localQueue.subscribe(queueName, onMessage as Parameters<typeof localQueue.subscribe>[1]);
    },
  };
  const host = await startFunctionsHost({
    port: 0,
    functionsEntry: join(projectRoot(), 'dist', 'functions', 'index.js'),
    settings: process.env,
    queue: gated,
    log: (entry) => {
      if (entry.level === 'error' || entry.status === 'failed' || process.env.BENCH_VERBOSE)
        process.stderr.write(`worker ${process.pid}: ${JSON.stringify(entry)}\n`);
    },
  });
  await stopping;
  const cpu = process.cpuUsage(cpuAtGo);
  await host.stop();
  await send({ type: 'counts', snapshot: takeSnapshot(), cpuSeconds: (cpu.user + cpu.system) / 1e6 });
  await closeApp();
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    await send({
      type: 'failed',
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
    process.exit(1);
  },
);
