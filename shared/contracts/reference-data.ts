import { z } from 'zod';
import { entityIdSchema, isoDateSchema, isoDateTimeSchema, optionalText } from './common.js';

export const WELL_STATUSES = ['ACTIVE', 'INACTIVE', 'PLUGGED'] as const;
export const EQUIPMENT_TYPES = ['PUMP_JACK', 'TANK', 'SEPARATOR', 'COMPRESSOR', 'METER', 'OTHER'] as const;
export const EQUIPMENT_STATUSES = ['OPERATIONAL', 'MAINTENANCE', 'FAILED'] as const;

export const idParamsSchema = z.object({ id: entityIdSchema });

/** Body of PUT /v1/wells/{id}. */
export const wellInputSchema = z.object({
  name: z.string().trim().min(1).max(200),
  apiNumber: z.string().trim().min(1).max(32),
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  status: z.enum(WELL_STATUSES),
  lease: optionalText(200),
  field: optionalText(200),
  operator: optionalText(200),
});
export type WellInput = z.infer<typeof wellInputSchema>;

export const wellSchema = z.object({
  id: entityIdSchema,
  name: z.string(),
  apiNumber: z.string(),
  latitude: z.number(),
  longitude: z.number(),
  status: z.enum(WELL_STATUSES),
  lease: z.string().nullable(),
  field: z.string().nullable(),
  operator: z.string().nullable(),
  createdAt: isoDateTimeSchema,
  updatedAt: isoDateTimeSchema,
});
export type Well = z.infer<typeof wellSchema>;

/** Body of PUT /v1/equipment/{id}. */
export const equipmentInputSchema = z.object({
  wellId: entityIdSchema,
  equipmentType: z.enum(EQUIPMENT_TYPES),
  serialNumber: z.string().trim().min(1).max(100),
  manufacturer: optionalText(200),
  model: optionalText(200),
  installationDate: isoDateSchema.nullish(),
  status: z.enum(EQUIPMENT_STATUSES),
  notes: optionalText(2000),
});
export type EquipmentInput = z.infer<typeof equipmentInputSchema>;

export const equipmentSchema = z.object({
  id: entityIdSchema,
  wellId: entityIdSchema,
  equipmentType: z.enum(EQUIPMENT_TYPES),
  serialNumber: z.string(),
  manufacturer: z.string().nullable(),
  model: z.string().nullable(),
  installationDate: isoDateSchema.nullable(),
  status: z.enum(EQUIPMENT_STATUSES),
  notes: z.string().nullable(),
  version: z.number().int().positive(),
  deletedAt: isoDateTimeSchema.nullable(),
  createdAt: isoDateTimeSchema,
  updatedAt: isoDateTimeSchema,
});
export type Equipment = z.infer<typeof equipmentSchema>;
