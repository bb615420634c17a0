import { app } from '@azure/functions';
import { documentStats, renderClinicError } from '../../../shared/compat/clinic/mapping.js';
import { clinicStatsRoute } from '../../../shared/compat/clinic/routes.js';
import { MAX_STATS_RANGE_DAYS } from '../../../shared/contracts/manager.js';
import { endpoint, httpOptions } from '../../../shared/http/endpoint.js';
import { getSyncStats } from '../../../shared/usecases/stats.js';

const DAY_MS = 86_400_000;

/** Document 004 §6: sync statistics through the stats use case; by default over its longest range. */
export const clinicStats = endpoint(
  clinicStatsRoute,
  async ({ app: fieldsync, tenant, query }) => {
    const to = query.to ?? new Date().toISOString();
    const from = query.from ?? new Date(Date.parse(to) - MAX_STATS_RANGE_DAYS * DAY_MS).toISOString();
    const stats = await getSyncStats(fieldsync, tenant, { ...query, from, to });
    return { status: 200, body: documentStats(stats) };
  },
  { renderError: renderClinicError },
);

app.http(clinicStatsRoute.name, httpOptions(clinicStatsRoute, clinicStats));
