import { app } from '@azure/functions';
import { deviceIdOf } from '../../../shared/compat/arxos/mapping.js';
import { entityResponse } from '../../../shared/compat/arxos/responses.js';
import { arxosUpdateEquipmentRoute } from '../../../shared/compat/arxos/routes.js';
import { runOperations } from '../../../shared/compat/arxos/service.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** Seed 002 client's `api.updateEquipment(id, payload)`: a RECORD_UPDATED; 409 + serverVersion; `force`. */
export const arxosUpdateEquipment = endpoint(
  arxosUpdateEquipmentRoute,
  async ({ app: fieldsync, tenant, principal, params, body, request, requestId }) => {
    const deviceId = deviceIdOf(request.headers.get('x-device-id'), principal.userId);
    const [result] = await runOperations(
      fieldsync,
      tenant,
      principal,
      deviceId,
      [{ entity: 'equipment', entityId: params.id, operation: 'update', payload: body, path: '' }],
      25_000,
    );
    return entityResponse('equipment', 'update', result ?? { kind: 'pending' }, 200, requestId);
  },
);

app.http(arxosUpdateEquipmentRoute.name, httpOptions(arxosUpdateEquipmentRoute, arxosUpdateEquipment));
