import { randomUUID } from 'node:crypto';

/** Clinics the bench's clinicians work in: device d works in clinic d % CLINICS. */
export const CLINICS = 4;
export const clinicOf = (device: number) => `clinic-${device % CLINICS}`;
/** One encounter per clinic that every clinician of that clinic edits: cross-device merges and conflicts. */
export const sharedEncounterId = (clinic: string) => `enc-shared-${clinic}`;

/**
 * A clinic shift for one device (SPEC v1.1 record events over the `clinic` pack): a patient registered
 * (RECORD_CREATED patients), an encounter recorded for them (RECORD_CREATED encounters), then the encounter
 * completed (RECORD_UPDATED, baseVersion 1), and one event in ten edits the clinic's shared encounter (another
 * device's record: field merges and LWW conflicts across chunks). `count` events, occurredAt one second apart.
 */
export function clinicShiftEvents(device: number, count: number): unknown[] {
  const now = Date.now();
  const clinicId = clinicOf(device);
  const at = (i: number) => new Date(now - (count - i) * 1000 - device).toISOString();
  const events: unknown[] = [];
  for (let i = 0; events.length < count; i += 1) {
    const patientId = `pat-${device}-${i}`;
    const encounterId = `enc-${device}-${i}`;
    const occurredAt = at(events.length);
    if (i % 10 === 9) {
      events.push({
        id: randomUUID(),
        type: 'RECORD_UPDATED',
        occurredAt,
        payload: {
          collection: 'encounters',
          recordId: sharedEncounterId(clinicId),
          baseVersion: 1,
          changes: { notes: `reviewed by device ${device} at ${i}`, clinician: `clinician-${device}` },
        },
      });
      continue;
    }
    events.push({
      id: randomUUID(),
      type: 'RECORD_CREATED',
      occurredAt,
      payload: {
        collection: 'patients',
        recordId: patientId,
        data: { clinicId, name: `Patient ${device}-${i}`, sex: 'UNKNOWN', village: 'Kumasi' },
      },
    });
    if (events.length >= count) break;
    events.push({
      id: randomUUID(),
      type: 'RECORD_CREATED',
      occurredAt: at(events.length),
      payload: {
        collection: 'encounters',
        recordId: encounterId,
        data: {
          clinicId,
          patientId,
          encounteredAt: occurredAt,
          diagnosis: 'fever',
          clinician: `clinician-${device}`,
        },
      },
    });
    if (events.length >= count) break;
    events.push({
      id: randomUUID(),
      type: 'RECORD_UPDATED',
      occurredAt: at(events.length),
      payload: {
        collection: 'encounters',
        recordId: encounterId,
        baseVersion: 1,
        changes: { diagnosis: 'malaria', prescription: 'artemether-lumefantrine', notes: 'RDT positive' },
      },
    });
  }
  return events;
}
