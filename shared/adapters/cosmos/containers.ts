/**
 * Cosmos DB containers the app uses. Infra (infra/modules/cosmos.bicep) creates the same names; a drift
 * test keeps the two in step.
 */
export const COSMOS_CONTAINERS = {
  /** Idempotency-Key records of pushes; items expire after a day. */
  idempotency: { name: 'idempotency', partitionKey: '/pk', defaultTtlSeconds: 86_400 },
  /** One document per (tenant, device): sync status. */
  devices: { name: 'devices', partitionKey: '/tenantId', defaultTtlSeconds: undefined },
  /** Rate-limit counters shared by every instance; windows expire on their own. */
  rateLimits: { name: 'rate-limits', partitionKey: '/pk', defaultTtlSeconds: 600 },
} as const;
