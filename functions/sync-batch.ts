import { app } from '@azure/functions';
import { getBatchRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { getBatchOutcome } from '../shared/usecases/sync-status.js';

export const getSyncBatch = endpoint(
  getBatchRoute,
  async ({ app: fieldsync, tenant, principal, params }) => ({
    status: 200,
    body: await getBatchOutcome(fieldsync, tenant, principal, params.batchId),
  }),
);

app.http(getBatchRoute.name, httpOptions(getBatchRoute, getSyncBatch));
