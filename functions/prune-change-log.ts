import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { pruneChangeLogs } from '../shared/usecases/prune.js';

/** Daily: drops change-log rows (and tombstones) older than TOMBSTONE_RETENTION_DAYS in every tenant. */
export async function pruneChangeLog(_timer: Timer, context: InvocationContext): Promise<void> {
  const fieldsync = getApp();
  await pruneChangeLogs({ ...fieldsync, log: fieldsync.log.child({ invocationId: context.invocationId }) });
}

app.timer('pruneChangeLog', { schedule: '0 30 3 * * *', handler: pruneChangeLog });
