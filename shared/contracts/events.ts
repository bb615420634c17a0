import { z } from 'zod';
import { entityIdSchema, isoDateSchema, isoDateTimeSchema } from './common.js';
import { EQUIPMENT_STATUSES } from './reference-data.js';

/** Photos: what SPEC allows to be uploaded. */
export const PHOTO_CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/heic', 'image/webp'] as const;
export const MAX_PHOTO_BYTES = 10 * 1024 * 1024;

export const EVENT_TYPES = [
  'PRODUCTION_LOGGED',
  'WELL_READING_RECORDED',
  'EQUIPMENT_INSPECTED',
  'MAINTENANCE_LOGGED',
  'EQUIPMENT_UPDATED',
  'PHOTO_ATTACHED',
  'NOTES_ADDED',
  'RECORD_CREATED',
  'RECORD_UPDATED',
  'RECORD_DELETED',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const TARGET_TYPES = [
  'WELL',
  'EQUIPMENT',
  'INSPECTION',
  'MAINTENANCE',
  'PRODUCTION',
  'RECORD',
] as const;

/** The v1.1 record events (SPEC "Record events"): their data is checked against the collection's schema. */
export const RECORD_EVENT_TYPES = ['RECORD_CREATED', 'RECORD_UPDATED', 'RECORD_DELETED'] as const;

/** A collection's name (SPEC v1.1 "Collections"): lower-case, `[a-z][a-z0-9_]{0,62}`. */
export const collectionNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,62}$/,
    'must be a lower-case name: a letter, then up to 62 letters, digits or "_"',
  );

/** A record's client-made id: 1–128 characters, no control characters, no surrounding spaces. */
export const recordIdSchema = z
  .string()
  .min(1)
  .max(128)
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  .refine((id) => id === id.trim() && !/[\u0000-\u001f\u007f]/.test(id), {
    message: 'must have no control characters and no leading or trailing spaces',
  });

export const deviceIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'must be 1–128 letters, digits, ".", "_", ":" or "-"');

const text = (max: number) => z.string().trim().max(max);
const nonNegative = z.number().finite().min(0);

/** What a note or photo is attached to; a RECORD target names its collection too (SPEC v1.1). */
const targetSchema = z
  .object({
    type: z.enum(TARGET_TYPES),
    id: z.string().min(1).max(128),
    collection: collectionNameSchema.optional(),
  })
  .superRefine((t, ctx) => {
    if (t.type === 'RECORD' && t.collection === undefined)
      ctx.addIssue({ code: 'custom', path: ['collection'], message: 'a RECORD target names its collection' });
    if (t.type !== 'RECORD' && t.collection !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['collection'],
        message: 'only a RECORD target has a collection',
      });
  });

/** The fields of a production record that events write and the merge engine merges field by field. */
export const PRODUCTION_FIELDS = [
  'oilVolume',
  'gasVolume',
  'waterVolume',
  'tubingPressure',
  'casingPressure',
  'chokeSize',
  'runtime',
  'notes',
] as const;

export const productionLoggedSchema = z
  .object({
    wellId: entityIdSchema,
    productionDate: isoDateSchema,
    oilVolume: nonNegative.optional(),
    gasVolume: nonNegative.optional(),
    waterVolume: nonNegative.optional(),
    tubingPressure: nonNegative.optional(),
    casingPressure: nonNegative.optional(),
    /** Choke size in 64ths of an inch. */
    chokeSize: z.number().int().min(0).max(512).optional(),
    /** Hours produced that day. */
    runtime: z.number().finite().min(0).max(24).optional(),
    notes: text(4000).optional(),
  })
  .refine((p) => PRODUCTION_FIELDS.some((f) => p[f] !== undefined), {
    message: `needs at least one of ${PRODUCTION_FIELDS.join(', ')}`,
  });

export const wellReadingRecordedSchema = z.object({
  wellId: entityIdSchema,
  readingType: z.enum(['PRODUCTION', 'PRESSURE', 'TEMPERATURE']),
  value: z.number().finite(),
  unit: text(32).min(1),
  recordedAt: isoDateTimeSchema,
});

export const equipmentInspectedSchema = z.object({
  wellId: entityIdSchema,
  equipmentId: entityIdSchema.optional(),
  inspectionType: z.enum(['ROUTINE', 'SAFETY', 'REPAIR', 'DETAILED', 'EMERGENCY']),
  status: z.enum(['PASS', 'FAIL', 'NEEDS_ATTENTION']),
  equipmentStatus: z.enum(EQUIPMENT_STATUSES).optional(),
  leaksDetected: z.boolean().optional(),
  safetyHazards: z.union([text(2000), z.array(text(500)).max(50)]).optional(),
  visualCondition: text(2000).optional(),
  correctiveActions: text(4000).optional(),
  nextInspectionDate: isoDateSchema.optional(),
  notes: text(4000).optional(),
  inspectedAt: isoDateTimeSchema,
});

export const maintenanceLoggedSchema = z.object({
  equipmentId: entityIdSchema,
  maintenanceType: z.enum(['PREVENTIVE', 'CORRECTIVE', 'EMERGENCY', 'ROUTINE', 'REPAIR', 'INSPECTION']),
  description: text(4000).min(1),
  workPerformed: text(4000).optional(),
  partsReplaced: z.union([text(2000), z.array(text(200)).max(100)]).optional(),
  downtimeHours: nonNegative.optional(),
  cost: nonNegative.optional(),
  vendorName: text(200).optional(),
  nextMaintenanceDate: isoDateSchema.optional(),
  performedAt: isoDateTimeSchema,
});

export const EQUIPMENT_UPDATE_FIELDS = ['status', 'serialNumber', 'manufacturer', 'model', 'notes'] as const;

export const equipmentUpdatedSchema = z.object({
  equipmentId: entityIdSchema,
  baseVersion: z.number().int().min(1),
  changes: z
    .object({
      status: z.enum(EQUIPMENT_STATUSES).optional(),
      serialNumber: text(100).min(1).optional(),
      manufacturer: text(200).nullable().optional(),
      model: text(200).nullable().optional(),
      notes: text(2000).nullable().optional(),
    })
    .refine((c) => EQUIPMENT_UPDATE_FIELDS.some((f) => c[f] !== undefined), {
      message: `needs at least one of ${EQUIPMENT_UPDATE_FIELDS.join(', ')}`,
    }),
});

export const photoAttachedSchema = z.object({
  photoId: z.uuid(),
  blobName: z.string().min(1).max(256),
  contentType: z.enum(PHOTO_CONTENT_TYPES),
  sizeBytes: z.number().int().min(1).max(MAX_PHOTO_BYTES),
  sha256: z
    .string()
    .regex(/^[a-f0-9]{64}$/i)
    .optional(),
  target: targetSchema,
  takenAt: isoDateTimeSchema,
});

export const notesAddedSchema = z.object({
  target: targetSchema,
  text: text(8000).min(1),
});

/** A record's fields as sent: checked here for shape only, then against the collection's JSON Schema. */
const recordDataSchema = z.record(z.string(), z.unknown());

export const recordCreatedSchema = z.object({
  collection: collectionNameSchema,
  recordId: recordIdSchema,
  data: recordDataSchema,
});

export const recordUpdatedSchema = z.object({
  collection: collectionNameSchema,
  recordId: recordIdSchema,
  baseVersion: z.number().int().min(0),
  /** A subset of the fields; `null` clears an optional field. */
  changes: recordDataSchema.refine((c) => Object.keys(c).length > 0, { message: 'needs at least one field' }),
});

export const recordDeletedSchema = z.object({
  collection: collectionNameSchema,
  recordId: recordIdSchema,
  baseVersion: z.number().int().min(0),
});

export const PAYLOAD_SCHEMAS = {
  PRODUCTION_LOGGED: productionLoggedSchema,
  WELL_READING_RECORDED: wellReadingRecordedSchema,
  EQUIPMENT_INSPECTED: equipmentInspectedSchema,
  MAINTENANCE_LOGGED: maintenanceLoggedSchema,
  EQUIPMENT_UPDATED: equipmentUpdatedSchema,
  PHOTO_ATTACHED: photoAttachedSchema,
  NOTES_ADDED: notesAddedSchema,
  RECORD_CREATED: recordCreatedSchema,
  RECORD_UPDATED: recordUpdatedSchema,
  RECORD_DELETED: recordDeletedSchema,
} as const satisfies Record<EventType, z.ZodType>;

export type PayloadOf<T extends EventType> = z.output<(typeof PAYLOAD_SCHEMAS)[T]>;

export const locationSchema = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  accuracy: z.number().finite().min(0).optional(),
});

/** The common envelope of every event; the payload is checked against its type's schema after this. */
export const eventEnvelopeSchema = z.object({
  id: z.uuid(),
  type: z.enum(EVENT_TYPES),
  occurredAt: isoDateTimeSchema,
  payload: z.record(z.string(), z.unknown()),
  location: locationSchema.optional(),
});

/** A validated event, as the processor and the domain see it. */
export type SyncEvent = {
  [T in EventType]: {
    id: string;
    type: T;
    occurredAt: string;
    payload: PayloadOf<T>;
    location?: z.output<typeof locationSchema>;
  };
}[EventType];

/** Body of POST /v1/sync/batches: the envelope; events are validated one by one afterwards. */
export const MAX_EVENTS_PER_BATCH = 1000;
export const pushBodySchema = z.object({
  deviceId: deviceIdSchema,
  deviceInfo: z
    .object({
      platform: z.enum(['electron', 'ios', 'android', 'web']),
      appVersion: z.string().regex(/^[\x20-\x7e]{1,64}$/, 'must be 1–64 printable ASCII characters'),
    })
    .optional(),
  events: z.array(z.unknown()).min(1, 'must hold at least one event'),
});
export type PushBody = z.infer<typeof pushBodySchema>;

/** Documentation shape of one event (the OpenAPI document lists every payload). */
export const eventDocSchema = z.discriminatedUnion('type', [
  ...EVENT_TYPES.map((type) =>
    eventEnvelopeSchema.extend({ type: z.literal(type), payload: PAYLOAD_SCHEMAS[type] }),
  ),
] as unknown as [z.ZodObject, ...z.ZodObject[]]);
