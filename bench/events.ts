import { randomUUID } from 'node:crypto';

/** A realistic shift's worth of events for one device: production, readings, maintenance, inspections, notes. */
export function shiftEvents(
  device: number,
  count: number,
  wellIds: string[],
  equipmentId: string,
): unknown[] {
  const now = Date.now();
  const at = (i: number) => new Date(now - (count - i) * 1000 - device).toISOString();
  // A crew works its own route of wells; one event in ten is on a well another crew also visits.
  const route = wellIds.slice((device * 5) % wellIds.length, ((device * 5) % wellIds.length) + 5);
  return Array.from({ length: count }, (_, i) => {
    const wellId = (i % 10 === 0 ? wellIds[i % wellIds.length] : route[i % route.length]) as string;
    const occurredAt = at(i);
    switch (i % 5) {
      case 0:
        return {
          id: randomUUID(),
          type: 'PRODUCTION_LOGGED',
          occurredAt,
          payload: {
            wellId,
            productionDate: new Date(now - (1 + ((device * 7 + i) % 90)) * 86_400_000)
              .toISOString()
              .slice(0, 10),
            oilVolume: (i % 300) + 0.5,
            gasVolume: (i % 700) + 1,
          },
        };
      case 1:
        return {
          id: randomUUID(),
          type: 'WELL_READING_RECORDED',
          occurredAt,
          payload: {
            wellId,
            readingType: 'PRESSURE',
            value: 800 + (i % 100),
            unit: 'psi',
            recordedAt: occurredAt,
          },
        };
      case 2:
        return {
          id: randomUUID(),
          type: 'MAINTENANCE_LOGGED',
          occurredAt,
          payload: {
            equipmentId,
            maintenanceType: 'ROUTINE',
            description: `greased bearings ${device}-${i}`,
            performedAt: occurredAt,
          },
        };
      case 3:
        return {
          id: randomUUID(),
          type: 'EQUIPMENT_INSPECTED',
          occurredAt,
          payload: {
            wellId,
            equipmentId,
            inspectionType: 'ROUTINE',
            status: 'PASS',
            inspectedAt: occurredAt,
          },
        };
      default:
        return {
          id: randomUUID(),
          type: 'NOTES_ADDED',
          occurredAt,
          payload: { target: { type: 'WELL', id: wellId }, text: `checked gauges ${device}-${i}` },
        };
    }
  });
}
