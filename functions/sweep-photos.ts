import { app, type InvocationContext, type Timer } from '@azure/functions';
import { getApp } from '../shared/app.js';
import { photoDeps, sweepUnattachedPhotos } from '../shared/usecases/photos.js';

/** Hourly: uploads never attached are tagged for the storage lifecycle rule that deletes them. */
export async function sweepPhotos(_timer: Timer, context: InvocationContext): Promise<void> {
  const fieldsync = getApp();
  await sweepUnattachedPhotos({
    ...photoDeps(fieldsync),
    tenants: fieldsync.tenants,
    log: fieldsync.log.child({ invocationId: context.invocationId }),
  });
}

app.timer('sweepPhotos', { schedule: '0 15 * * * *', handler: sweepPhotos });
