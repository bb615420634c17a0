import { app } from '@azure/functions';
import { ARXOS_MAX_OPERATIONS, arxosSyncBatchRoute } from '../../../shared/compat/arxos/routes.js';
import { deviceIdOf } from '../../../shared/compat/arxos/mapping.js';
import { batchResponse, checkOperation } from '../../../shared/compat/arxos/responses.js';
import { type OperationInput, runOperations } from '../../../shared/compat/arxos/service.js';
import { PayloadTooLargeError } from '../../../shared/errors.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** Seed 002 `POST /api/v1/mobile/sync/batch`: the operations as record events, answered once processed. */
export const arxosSyncBatch = endpoint(
  arxosSyncBatchRoute,
  async ({ app: fieldsync, tenant, principal, body, request }) => {
    if (body.operations.length > ARXOS_MAX_OPERATIONS) {
      throw new PayloadTooLargeError(
        `a batch holds at most ${ARXOS_MAX_OPERATIONS} operations; this one has ${body.operations.length}`,
      );
    }
    const inputs: { index: number; input: OperationInput }[] = [];
    const refused: Parameters<typeof batchResponse>[2] = [];
    body.operations.forEach((raw, index) => {
      const checked = checkOperation(raw, index);
      if (checked.ok) inputs.push({ index, input: checked.input });
      else refused.push(checked.error);
    });
    const deviceId = deviceIdOf(request.headers.get('x-device-id'), principal.userId);
    const results = inputs.length
      ? await runOperations(
          fieldsync,
          tenant,
          principal,
          deviceId,
          inputs.map((i) => i.input),
          25_000,
        )
      : [];
    return { status: 200, body: batchResponse(inputs, results, refused) };
  },
);

app.http(arxosSyncBatchRoute.name, httpOptions(arxosSyncBatchRoute, arxosSyncBatch));
