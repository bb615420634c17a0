import { app } from '@azure/functions';
import { syncStatusRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { getDeviceStatus } from '../shared/usecases/sync-status.js';

export const getSyncStatus = endpoint(
  syncStatusRoute,
  async ({ app: fieldsync, tenant, principal, query }) => ({
    status: 200,
    body: await getDeviceStatus(fieldsync, tenant, principal, query.deviceId),
  }),
);

app.http(syncStatusRoute.name, httpOptions(syncStatusRoute, getSyncStatus));
