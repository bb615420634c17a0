import { z } from 'zod';
import { isoDateSchema, isoDateTimeSchema } from './common.js';
import { deviceIdSchema } from './events.js';
import { equipmentSchema, wellSchema } from './reference-data.js';

export const pullQuerySchema = z.object({
  deviceId: deviceIdSchema,
  cursor: z.string().max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(500),
});

export const userEntitySchema = z.object({
  id: z.string(),
  displayName: z.string(),
  email: z.string().nullable(),
  role: z.enum(['OPERATOR', 'MANAGER', 'ADMIN']),
  updatedAt: isoDateTimeSchema,
});
export type UserEntity = z.infer<typeof userEntitySchema>;

export const productionEntitySchema = z.object({
  id: z.uuid(),
  wellId: z.string(),
  productionDate: isoDateSchema,
  oilVolume: z.number().nullable(),
  gasVolume: z.number().nullable(),
  waterVolume: z.number().nullable(),
  tubingPressure: z.number().nullable(),
  casingPressure: z.number().nullable(),
  chokeSize: z.number().nullable(),
  runtime: z.number().nullable(),
  notes: z.string().nullable(),
  updatedAt: isoDateTimeSchema,
});
export type ProductionEntity = z.infer<typeof productionEntitySchema>;

export const ENTITY_TYPES = ['well', 'equipment', 'user', 'production'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

export const pullResponseSchema = z.object({
  tenantId: z.string(),
  wells: z.array(wellSchema),
  equipment: z.array(equipmentSchema),
  users: z.array(userEntitySchema),
  production: z.array(productionEntitySchema),
  deleted: z.array(z.object({ type: z.enum(ENTITY_TYPES), id: z.string() })),
  nextCursor: z.string(),
  hasMore: z.boolean(),
  serverTime: isoDateTimeSchema,
  pendingEvents: z.number().int(),
});
export type PullResponse = z.infer<typeof pullResponseSchema>;
