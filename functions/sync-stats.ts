import { app } from '@azure/functions';
import { syncStatsRoute } from '../shared/contracts/manager.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { getSyncStats } from '../shared/usecases/stats.js';

export const getStats = endpoint(syncStatsRoute, async ({ app: fieldsync, tenant, query }) => ({
  status: 200,
  body: await getSyncStats(fieldsync, tenant, query),
}));

app.http(syncStatsRoute.name, httpOptions(syncStatsRoute, getStats));
