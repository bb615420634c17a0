import { app } from '@azure/functions';
import { runFieldopsBatch } from '../../../shared/compat/fieldops/batch.js';
import { fieldopsSyncBatchRoute } from '../../../shared/compat/fieldops/routes.js';
import { renderFieldopsError } from '../../../shared/compat/fieldops/wire.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** Document 003 `POST /sync/batch`: events and inline photos, answered once processed (shared/compat/fieldops). */
export const fieldopsSyncBatch = endpoint(
  fieldopsSyncBatchRoute,
  async ({ app: fieldsync, tenant, principal, body, request }) => ({
    status: 200,
    body: await runFieldopsBatch(fieldsync, {
      tenant,
      principal,
      body,
      deviceHeader: request.headers.get('x-device-id'),
      idempotencyKey: request.headers.get('idempotency-key') ?? undefined,
    }),
  }),
  { renderError: renderFieldopsError },
);

app.http(fieldopsSyncBatchRoute.name, httpOptions(fieldopsSyncBatchRoute, fieldopsSyncBatch));
