import { randomUUID } from 'node:crypto';
import { app } from '@azure/functions';
import { deviceIdOf } from '../../../shared/compat/arxos/mapping.js';
import { entityResponse } from '../../../shared/compat/arxos/responses.js';
import { arxosCreateEquipmentRoute } from '../../../shared/compat/arxos/routes.js';
import { runOperations } from '../../../shared/compat/arxos/service.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** Seed 002 client's `api.createEquipment(payload)`: a RECORD_CREATED, answered once processed. */
export const arxosCreateEquipment = endpoint(
  arxosCreateEquipmentRoute,
  async ({ app: fieldsync, tenant, principal, body, request, requestId }) => {
    const entityId = body.id ?? randomUUID();
    const deviceId = deviceIdOf(request.headers.get('x-device-id'), principal.userId);
    const [result] = await runOperations(
      fieldsync,
      tenant,
      principal,
      deviceId,
      [{ entity: 'equipment', entityId, operation: 'create', payload: body, path: '' }],
      25_000,
    );
    return entityResponse('equipment', 'create', result ?? { kind: 'pending' }, 201, requestId);
  },
);

app.http(arxosCreateEquipmentRoute.name, httpOptions(arxosCreateEquipmentRoute, arxosCreateEquipment));
