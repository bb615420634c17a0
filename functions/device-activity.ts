import { app } from '@azure/functions';
import { deviceActivityRoute } from '../shared/contracts/activity.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { deviceActivity } from '../shared/usecases/activity.js';

export const getDeviceActivity = endpoint(
  deviceActivityRoute,
  async ({ app: fieldsync, tenant, params, query }) => ({
    status: 200,
    body: await deviceActivity(fieldsync, tenant, params.deviceId, query.limit),
  }),
);

app.http(deviceActivityRoute.name, httpOptions(deviceActivityRoute, getDeviceActivity));
