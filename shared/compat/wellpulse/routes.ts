import { z } from 'zod';
import { FIELD_ROLES } from '../../auth/principal.js';
import { defineRoute, type ResponseContract } from '../../contracts/route.js';
import {
  errorBodySchema,
  pullQuerySchema,
  pullResponseSchema,
  pushBodySchema,
  pushResponseSchema,
  statusQuerySchema,
  statusResponseSchema,
} from './wire.js';

/*
 * Route contracts of seed document 001 ("Offline Sync API") under /api/compat/wellpulse: the document's paths,
 * shapes and error body (SPEC "The seed APIs, served unchanged"). docs/compat/wellpulse.md.
 */

const errorBody = { schema: errorBodySchema, contentType: 'application/json' };
const error = (description: string): ResponseContract => ({ description, ...errorBody });
const headers = z.object({
  'X-Tenant-Subdomain': z
    .string()
    .optional()
    .describe("Optional; when sent it must be the token's tenant id (case-insensitive), else 403"),
});
const FORBIDDEN =
  'The role may not call this route, X-Tenant-Subdomain or X-Tenant-Id names another tenant than the ' +
  'token, the device is another user’s, or the tenant is not provisioned';

export const wellpulsePullRoute = defineRoute({
  name: 'wellpulsePull',
  method: 'GET',
  route: 'compat/wellpulse/sync/pull',
  // Document 001 ("Rate Limiting"): its pull spends the pull budget.
  rateClass: 'pull',
  summary:
    'Document 001 pull: ACTIVE wells and the users, with `lastSyncTimestamp`; with `lastSync` (a ' +
    '`lastSyncTimestamp` sent back) only what changed since, nothing skipped',
  tags: ['compat', 'wellpulse'],
  access: FIELD_ROLES,
  query: pullQuerySchema,
  headers,
  errorBody,
  responses: {
    200: { description: 'Wells and users', schema: pullResponseSchema },
    403: error(FORBIDDEN),
  },
});

export const wellpulsePushRoute = defineRoute({
  name: 'wellpulsePush',
  method: 'POST',
  route: 'compat/wellpulse/sync/push',
  // Document 001 ("Rate Limiting"): its push spends the push budget.
  rateClass: 'push',
  summary:
    'Document 001 push: field entries recorded offline; answers once they are processed (up to 30 s). ' +
    'A re-sent entry is a duplicate, counted as succeeded and never stored twice',
  tags: ['compat', 'wellpulse'],
  access: FIELD_ROLES,
  body: pushBodySchema,
  headers,
  errorBody,
  responses: {
    200: { description: 'What became of the entries', schema: pushResponseSchema },
    403: error(FORBIDDEN),
    413: error('More than 1000 entries, or a body over 4 MiB'),
  },
});

export const wellpulseStatusRoute = defineRoute({
  name: 'wellpulseStatus',
  method: 'GET',
  route: 'compat/wellpulse/sync/status',
  summary:
    "Document 001 status: a device's last sync and the changes it has not pulled yet (its own device, or " +
    'any for a manager)',
  tags: ['compat', 'wellpulse'],
  access: FIELD_ROLES,
  query: statusQuerySchema,
  headers,
  errorBody,
  responses: {
    200: { description: 'The device status', schema: statusResponseSchema },
    403: error(FORBIDDEN),
  },
});

/** The document 001 routes, in the order the OpenAPI document lists them. */
export const WELLPULSE_ROUTES = [wellpulsePullRoute, wellpulsePushRoute, wellpulseStatusRoute] as const;
