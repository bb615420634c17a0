import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { sweepOutboxes } from '../shared/usecases/outbox.js';

/**
 * Every minute: delivers the outbox rows a crash or an outage left after their push or retry committed
 * (docs/architecture.md "Push pipeline"); the in-process relay delivers the rest at once.
 */
export async function sweepOutbox(_timer: Timer, context: InvocationContext): Promise<void> {
  const fieldsync = getApp();
  await sweepOutboxes({ ...fieldsync, log: fieldsync.log.child({ invocationId: context.invocationId }) });
}

app.timer('sweepOutbox', { schedule: '0 * * * * *', handler: sweepOutbox });
