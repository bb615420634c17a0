import { app } from '@azure/functions';
import { getStrategiesRoute, putStrategiesRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';

export const getConflictStrategies = endpoint(getStrategiesRoute, async ({ app: fieldsync, tenant }) => ({
  status: 200,
  body: { strategies: await fieldsync.conflicts.strategies(tenant) },
}));

export const putConflictStrategies = endpoint(
  putStrategiesRoute,
  async ({ app: fieldsync, tenant, principal, body }) => {
    await fieldsync.conflicts.setStrategies(tenant, body.strategies, principal.userId);
    return { status: 200, body: { strategies: await fieldsync.conflicts.strategies(tenant) } };
  },
);

app.http(getStrategiesRoute.name, httpOptions(getStrategiesRoute, getConflictStrategies));
app.http(putStrategiesRoute.name, httpOptions(putStrategiesRoute, putConflictStrategies));
