import { app } from '@azure/functions';
import { deviceIdOf, parseSince } from '../../../shared/compat/arxos/mapping.js';
import { arxosEquipmentUpdatesRoute } from '../../../shared/compat/arxos/routes.js';
import { equipmentUpdates } from '../../../shared/compat/arxos/service.js';
import { ValidationError } from '../../../shared/errors.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';

/** Seed 002 `GET /api/v1/mobile/equipment/building/{id}/updates?since=`: the v1.1 pull of one building. */
export const arxosEquipmentUpdates = endpoint(
  arxosEquipmentUpdatesRoute,
  async ({ app: fieldsync, tenant, principal, params, query, request, log }) => {
    const since = parseSince(query.since);
    if (!since) {
      throw new ValidationError('since is not valid', [
        { path: 'since', message: 'a last_sync this server gave, a Unix time, an RFC 3339 time, or 0' },
      ]);
    }
    const deviceId = deviceIdOf(request.headers.get('x-device-id'), principal.userId);
    return {
      status: 200,
      body: await equipmentUpdates({ ...fieldsync, log }, tenant, principal, params.id, since, deviceId),
    };
  },
);

app.http(arxosEquipmentUpdatesRoute.name, httpOptions(arxosEquipmentUpdatesRoute, arxosEquipmentUpdates));
