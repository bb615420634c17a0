import { app } from '@azure/functions';
import { deviceIdOf } from '../../../shared/compat/arxos/mapping.js';
import { entityResponse } from '../../../shared/compat/arxos/responses.js';
import { arxosDeleteEquipmentRoute } from '../../../shared/compat/arxos/routes.js';
import { runOperations } from '../../../shared/compat/arxos/service.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** Seed 002 client's `api.deleteEquipment(id)`: a RECORD_DELETED from the current version (soft delete). */
export const arxosDeleteEquipment = endpoint(
  arxosDeleteEquipmentRoute,
  async ({ app: fieldsync, tenant, principal, params, request, requestId }) => {
    const deviceId = deviceIdOf(request.headers.get('x-device-id'), principal.userId);
    const [result] = await runOperations(
      fieldsync,
      tenant,
      principal,
      deviceId,
      [{ entity: 'equipment', entityId: params.id, operation: 'delete', payload: {}, path: '' }],
      25_000,
    );
    return entityResponse('equipment', 'delete', result ?? { kind: 'pending' }, 204, requestId);
  },
);

app.http(arxosDeleteEquipmentRoute.name, httpOptions(arxosDeleteEquipmentRoute, arxosDeleteEquipment));
