import { randomUUID } from 'node:crypto';

export interface RawEvent {
  id: string;
  type: string;
  occurredAt: string;
  payload: Record<string, unknown>;
  location?: { latitude: number; longitude: number; accuracy?: number };
}

const minutesAgo = (n: number) => new Date(Date.now() - n * 60_000).toISOString();
export const today = () => new Date().toISOString().slice(0, 10);
export const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString().slice(0, 10);

export const production = (
  wellId: string,
  fields: Record<string, unknown> = { oilVolume: 100 },
  options: { productionDate?: string; occurredAt?: string; id?: string } = {},
): RawEvent => ({
  id: options.id ?? randomUUID(),
  type: 'PRODUCTION_LOGGED',
  occurredAt: options.occurredAt ?? minutesAgo(30),
  payload: { wellId, productionDate: options.productionDate ?? daysAgo(1), ...fields },
});

export const reading = (wellId: string, value = 850, recordedAt = minutesAgo(20)): RawEvent => ({
  id: randomUUID(),
  type: 'WELL_READING_RECORDED',
  occurredAt: recordedAt,
  payload: { wellId, readingType: 'PRESSURE', value, unit: 'psi', recordedAt },
});

export const maintenance = (equipmentId: string, description = 'replaced belt'): RawEvent => ({
  id: randomUUID(),
  type: 'MAINTENANCE_LOGGED',
  occurredAt: minutesAgo(15),
  payload: { equipmentId, maintenanceType: 'CORRECTIVE', description, performedAt: minutesAgo(16) },
});

export const inspection = (wellId: string, equipmentId?: string): RawEvent => ({
  id: randomUUID(),
  type: 'EQUIPMENT_INSPECTED',
  occurredAt: minutesAgo(10),
  payload: {
    wellId,
    ...(equipmentId ? { equipmentId } : {}),
    inspectionType: 'ROUTINE',
    status: 'PASS',
    leaksDetected: false,
    inspectedAt: minutesAgo(11),
  },
});

export const note = (targetId: string, text = 'gate left open'): RawEvent => ({
  id: randomUUID(),
  type: 'NOTES_ADDED',
  occurredAt: minutesAgo(5),
  payload: { target: { type: 'WELL', id: targetId }, text },
});

export const equipmentUpdate = (
  equipmentId: string,
  baseVersion: number,
  changes: Record<string, unknown>,
  occurredAt = minutesAgo(3),
): RawEvent => ({
  id: randomUUID(),
  type: 'EQUIPMENT_UPDATED',
  occurredAt,
  payload: { equipmentId, baseVersion, changes },
});

/** A valid event of a type chosen by index, all on one well and piece of equipment. */
export const mixedEvent = (i: number, wellId: string, equipmentId: string): RawEvent => {
  switch (i % 5) {
    case 0:
      return production(
        wellId,
        { oilVolume: i, gasVolume: i * 2 },
        { productionDate: daysAgo(1 + (i % 60)) },
      );
    case 1:
      return reading(wellId, i);
    case 2:
      return maintenance(equipmentId, `job ${i}`);
    case 3:
      return inspection(wellId, equipmentId);
    default:
      return note(wellId, `note ${i}`);
  }
};
