import { app } from '@azure/functions';
import { putCollectionRoute } from '../shared/contracts/routes.js';
import { endpoint, httpOptions } from '../shared/http/endpoint.js';
import { putCollection } from '../shared/usecases/schema.js';

export const putSchemaCollection = endpoint(
  putCollectionRoute,
  async ({ app: fieldsync, tenant, principal, params, body }) => {
    const outcome = await putCollection(fieldsync, tenant, params.name, body, principal.userId);
    return { status: outcome.created ? 201 : 200, body: outcome.collection };
  },
);

app.http(putCollectionRoute.name, httpOptions(putCollectionRoute, putSchemaCollection));
