import { z } from 'zod';
import { FIELD_ROLES } from '../../auth/principal.js';
import { defineRoute } from '../../contracts/route.js';
import {
  WELLOS_MAX_EVENTS,
  WELLOS_MAX_WAIT_SECONDS,
  wellosErrorBodySchema,
  wellosEventDocSchema,
  wellosSyncBodySchema,
  wellosSyncResponseSchema,
} from './mapping.js';

const errorBody = { schema: wellosErrorBodySchema, contentType: 'application/json' };

/**
 * `POST /api/compat/wellos/field-data/sync` (document 000, "Batch Sync Endpoint"): the shift's events in, a
 * synchronous `{syncedEventIds, conflicts, errors}` out, through the v1 push and its processor.
 */
export const wellosFieldDataSyncRoute = defineRoute({
  name: 'compatWellosFieldDataSync',
  method: 'POST',
  route: 'compat/wellos/field-data/sync',
  summary:
    "WellOS (document 000): push the device's unsynced events and answer once they are processed (up to " +
    `${WELLOS_MAX_WAIT_SECONDS} s): syncedEventIds (applied or duplicates), conflicts, errors; an event not ` +
    `processed in time is in none of the lists (send it again). At most ${WELLOS_MAX_EVENTS} events are ` +
    'processed per request. docs/compat/wellos.md',
  tags: ['compat', 'wellos'],
  access: FIELD_ROLES,
  body: wellosSyncBodySchema,
  checksItemsItself: true,
  rateClass: 'push',
  documentedBody: wellosSyncBodySchema.extend({ events: z.array(wellosEventDocSchema) }),
  headers: z.object({
    'X-Device-Id': z
      .string()
      .optional()
      .describe("The device (or deviceInfo.deviceId, or the events' deviceId); must agree with deviceInfo"),
    Prefer: z
      .string()
      .optional()
      .describe(
        `\`wait=N\`: wait at most N seconds (N < ${WELLOS_MAX_WAIT_SECONDS}) instead of ${WELLOS_MAX_WAIT_SECONDS}`,
      ),
  }),
  errorBody,
  responses: {
    200: { description: 'The outcome of every event processed in time', schema: wellosSyncResponseSchema },
  },
});

/** The WellOS dialect's routes, in the order the OpenAPI document lists them. */
export const WELLOS_ROUTES = [wellosFieldDataSyncRoute] as const;
