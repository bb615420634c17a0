import { app } from '@azure/functions';
import { getConflictRoute } from '../shared/contracts/activity.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { conflictDetail } from '../shared/usecases/activity.js';

export const getConflict = endpoint(getConflictRoute, async ({ app: fieldsync, tenant, params }) => ({
  status: 200,
  body: await conflictDetail(fieldsync, tenant, params.id),
}));

app.http(getConflictRoute.name, httpOptions(getConflictRoute, getConflict));
