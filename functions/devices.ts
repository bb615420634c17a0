import { app } from '@azure/functions';
import { listDevicesRoute } from '../shared/contracts/manager.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { listDevices } from '../shared/usecases/devices.js';

export const getDevices = endpoint(listDevicesRoute, async ({ app: fieldsync, tenant, query }) => ({
  status: 200,
  body: await listDevices(fieldsync, tenant, { staleAfterHours: query.staleAfterHours }),
}));

app.http(listDevicesRoute.name, httpOptions(listDevicesRoute, getDevices));
