import { app } from '@azure/functions';
import { getSchemaRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { getSchema } from '../shared/usecases/schema.js';

export const getTenantSchema = endpoint(getSchemaRoute, async ({ app: fieldsync, tenant }) => ({
  status: 200,
  body: await getSchema(fieldsync, tenant),
}));

app.http(getSchemaRoute.name, httpOptions(getSchemaRoute, getTenantSchema));
