import { app } from '@azure/functions';
import { healthRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { checkHealth } from '../shared/usecases/health.js';

export const health = endpoint(healthRoute, async ({ app: fieldsync }) => {
  const result = await checkHealth(fieldsync.checks, fieldsync.version);
  if (result.status === 'ok') return { status: 200, body: result };
  return { status: 503, body: result, headers: { 'retry-after': '5' } };
});

app.http(healthRoute.name, httpOptions(healthRoute, health));
