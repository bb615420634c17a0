// The operator's shift that `npm run field-sim` plays (issue 15, item 7): what is recorded, against which
// pulled wells, equipment or records, and the photos taken. Every step is a pure function of the plan and
// its index, so a simulator restarted after a crash records exactly the same event (same id, same body)
// again, and the outbox keeps the first (see docs/field-sim.md).
import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib';
import { uuidV5 } from '../shared/sync/uuid.js';

/** What a shift works on, taken from the first pull; kept in the plan so a resumed shift sees the same. */
export interface ShiftTargets {
  /** ACTIVE wells (v1, oil-gas). */
  wells: string[];
  /** Equipment not deleted, with its well. */
  equipment: { id: string; wellId: string | null }[];
  /** Records of the tenant's collections (v1.1 packs such as clinic and facilities). */
  records: { collection: string; id: string }[];
}

/** A shift: fixed when it starts and stored in the client's store (meta `app.field-sim.plan`). */
export interface ShiftPlan {
  /** Seeds every step's choices and ids. */
  seed: string;
  events: number;
  photos: number;
  /** ISO time of the first step; steps follow each other `stepMs` apart, all in the past. */
  startsAt: string;
  stepMs: number;
  targets: ShiftTargets;
}

/** One step of a shift: an event to record, or a photo to attach. */
export type ShiftStep =
  | { kind: 'event'; id: string; type: string; occurredAt: string; payload: Record<string, unknown> }
  | {
      kind: 'photo';
      photoId: string;
      takenAt: string;
      bytes: Uint8Array;
      target: { type: 'WELL' | 'EQUIPMENT'; id: string } | { type: 'RECORD'; collection: string; id: string };
    };

// Ids made here are UUIDv5 under this namespace (a fixed random UUID of the simulator's own).
const NAMESPACE = '5c0f3e36-5d3c-4a5e-9a57-9d0a3b1f2c11';
const DAY_MS = 86_400_000;

/**
 * A new plan for `events` events and `photos` photos, the steps `stepMs` apart (at most a minute, so a
 * 500-event shift spans about 8 hours) and ending now.
 *
 * @throws Error when the tenant gives the shift nothing to work on (no ACTIVE well and no record)
 */
export function newShiftPlan(
  seed: string,
  events: number,
  photos: number,
  targets: ShiftTargets,
  now: Date,
): ShiftPlan {
  if (targets.wells.length === 0 && targets.records.length === 0) {
    throw new Error(
      'the tenant has no ACTIVE well and no record to work on: seed it first (npm start loads the demo tenants)',
    );
  }
  const steps = Math.max(1, events + photos);
  const stepMs = Math.min(60_000, Math.floor((8 * 3_600_000) / steps));
  const startsAt = new Date(now.getTime() - steps * stepMs - 60_000).toISOString();
  return { seed, events, photos, startsAt, stepMs, targets };
}

/** How many steps the plan has (events and photos). */
export const stepCount = (plan: ShiftPlan): number => plan.events + plan.photos;

/**
 * Step `index` (0 ≤ index < stepCount) of a plan. Photos are spread evenly among the events. Production is
 * logged per (well, day) with one day per step, so a shift never writes the same production day twice.
 */
export function shiftStep(plan: ShiftPlan, index: number): ShiftStep {
  const random = seeded(`${plan.seed}/${index}`);
  const at = new Date(Date.parse(plan.startsAt) + index * plan.stepMs);
  const occurredAt = at.toISOString();
  const { wells, equipment, records } = plan.targets;
  if (isPhotoStep(plan, index)) {
    const pick = random();
    const target =
      wells.length === 0
        ? { type: 'RECORD' as const, ...choose(records, random) }
        : equipment.length > 0 && pick < 0.4
          ? { type: 'EQUIPMENT' as const, id: choose(equipment, random).id }
          : { type: 'WELL' as const, id: choose(wells, random) };
    const bytes = index % 2 === 0 ? jpegImage(random) : pngImage(random);
    return {
      kind: 'photo',
      photoId: uuidV5(NAMESPACE, `${plan.seed}/photo/${index}`),
      takenAt: occurredAt,
      bytes,
      target,
    };
  }
  const id = uuidV5(NAMESPACE, `${plan.seed}/event/${index}`);
  const event = (type: string, payload: Record<string, unknown>): ShiftStep => ({
    kind: 'event',
    id,
    type,
    occurredAt,
    payload,
  });
  if (wells.length === 0) {
    const record = choose(records, random);
    return event('NOTES_ADDED', {
      target: { type: 'RECORD', collection: record.collection, id: record.id },
      text: `${choose(RECORD_NOTES, random)} (step ${index})`,
    });
  }
  const wellId = choose(wells, random);
  const onWell = equipment.filter((e) => e.wellId === wellId);
  const kind = random();
  if (kind < 0.35) {
    const type = choose(['PRESSURE', 'TEMPERATURE', 'PRODUCTION'] as const, random);
    const [value, unit] =
      type === 'PRESSURE'
        ? [round(80 + random() * 220, 1), 'psi']
        : type === 'TEMPERATURE'
          ? [round(60 + random() * 60, 1), 'degF']
          : [round(random() * 400, 1), 'bbl'];
    return event('WELL_READING_RECORDED', { wellId, readingType: type, value, unit, recordedAt: occurredAt });
  }
  if (kind < 0.55) {
    // One (well, day) per step: the well by index, the day going back from the day before the shift.
    const productionWell = wells[index % wells.length] ?? wellId;
    const day = new Date(Date.parse(plan.startsAt) - DAY_MS * (1 + Math.floor(index / wells.length)));
    return event('PRODUCTION_LOGGED', {
      wellId: productionWell,
      productionDate: day.toISOString().slice(0, 10),
      oilVolume: round(20 + random() * 300, 1),
      gasVolume: round(100 + random() * 900, 1),
      waterVolume: round(random() * 150, 1),
      runtime: round(18 + random() * 6, 1),
    });
  }
  if (kind < 0.7) {
    const status = random() < 0.85 ? 'PASS' : 'NEEDS_ATTENTION';
    return event('EQUIPMENT_INSPECTED', {
      wellId,
      ...(onWell.length > 0 ? { equipmentId: choose(onWell, random).id } : {}),
      inspectionType: choose(['ROUTINE', 'ROUTINE', 'SAFETY', 'DETAILED'] as const, random),
      status,
      leaksDetected: status !== 'PASS' && random() < 0.5,
      notes: status === 'PASS' ? 'All within limits' : 'Check again next round',
      inspectedAt: occurredAt,
    });
  }
  if (kind < 0.8 && equipment.length > 0) {
    return event('MAINTENANCE_LOGGED', {
      equipmentId: (onWell.length > 0 ? choose(onWell, random) : choose(equipment, random)).id,
      maintenanceType: choose(['PREVENTIVE', 'ROUTINE', 'CORRECTIVE'] as const, random),
      description: choose(MAINTENANCE, random),
      downtimeHours: round(random() * 3, 2),
      performedAt: occurredAt,
    });
  }
  return event('NOTES_ADDED', {
    target: { type: 'WELL', id: wellId },
    text: `${choose(WELL_NOTES, random)} (step ${index})`,
  });
}

/** Photos sit at evenly spread steps: photo k (0 ≤ k < photos) is step floor((k + ½) · steps / photos). */
function isPhotoStep(plan: ShiftPlan, index: number): boolean {
  if (plan.photos === 0) return false;
  const every = stepCount(plan) / plan.photos; // ≥ 1, so no two photos share a step
  const near = Math.floor(index / every);
  for (const k of [near - 1, near, near + 1]) {
    if (k >= 0 && k < plan.photos && Math.floor((k + 0.5) * every) === index) return true;
  }
  return false;
}

const WELL_NOTES = [
  'Gauge replaced at wellhead',
  'Lease road muddy after rain',
  'Stuffing box leaking slightly',
  'Tank battery fence repaired',
  'Pumper checked chemical injection',
];
const RECORD_NOTES = ['Seen on round', 'Follow-up needed', 'Checked, nothing to report', 'Photo taken'];
const MAINTENANCE = ['Greased bearings', 'Changed belts', 'Replaced pressure gauge', 'Cleaned strainer'];

const round = (value: number, digits: number) => Number(value.toFixed(digits));

function choose<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('nothing to choose from');
  return item;
}

/** A small deterministic PRNG (SHA-256 counter mode) from a string seed: values in [0, 1). */
export function seeded(seed: string): () => number {
  let counter = 0;
  let block = Buffer.alloc(0);
  let offset = 32;
  return () => {
    if (offset + 4 > block.length) {
      block = createHash('sha256').update(`${seed}#${counter++}`).digest();
      offset = 0;
    }
    const value = block.readUInt32BE(offset) / 2 ** 32;
    offset += 4;
    return value;
  };
}

// ------------------------------------------------------------------ images

/**
 * A real PNG (RGB, 8 bits, no interlace) of `width`×`height` pixels: a gradient with a random tint, so each
 * photo has its own bytes (and hash). Decodable by any viewer.
 */
export function pngImage(random: () => number, width = 96, height = 64): Uint8Array {
  const [r, g, b] = [random() * 255, random() * 255, random() * 255];
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y += 1) {
    const row = y * (width * 3 + 1); // filter byte 0 (None) first
    for (let x = 0; x < width; x += 1) {
      const p = row + 1 + x * 3;
      raw[p] = (r + (x * 255) / width) % 256;
      raw[p + 1] = (g + (y * 255) / height) % 256;
      raw[p + 2] = b;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, adaptive filters, no interlace
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', header),
      chunk('IDAT', deflateSync(raw)),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

/**
 * A real baseline JPEG (JFIF, greyscale) of `width`×`height` pixels (multiples of 8) made of flat 8×8 tiles:
 * each tile is one DC coefficient, so the entropy coder needs only DC categories and the end-of-block code,
 * with small Huffman tables of its own (ITU T.81 allows any). Decodable by any viewer.
 */
export function jpegImage(random: () => number, width = 64, height = 48): Uint8Array {
  const out: number[] = [];
  const u16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
  const segment = (marker: number, body: number[]) =>
    out.push(0xff, marker, ...u16(body.length + 2), ...body);
  out.push(0xff, 0xd8); // SOI
  segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]); // APP0 JFIF 1.1
  segment(0xdb, [0x00, ...new Array<number>(64).fill(1)]); // DQT 0: every step 1
  segment(0xc0, [8, ...u16(height), ...u16(width), 1, 1, 0x11, 0]); // SOF0: 1 component, 1×1, table 0
  // DHT DC 0: the 12 categories, each a 4-bit code (category k → code k).
  segment(0xc4, [
    0x00,
    0,
    0,
    0,
    12,
    ...new Array<number>(12).fill(0),
    ...Array.from({ length: 12 }, (_, k) => k),
  ]);
  // DHT AC 0: only end-of-block (0x00), code "0".
  segment(0xc4, [0x10, 1, ...new Array<number>(15).fill(0), 0x00]);
  segment(0xda, [1, 1, 0x00, 0, 63, 0]); // SOS: component 1, tables 0/0, spectral 0..63
  let bits = 0;
  let count = 0;
  const put = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i -= 1) {
      bits = (bits << 1) | ((value >> i) & 1);
      count += 1;
      if (count === 8) {
        out.push(bits);
        if (bits === 0xff) out.push(0x00); // byte stuffing
        bits = 0;
        count = 0;
      }
    }
  };
  const base = 40 + random() * 120;
  let previous = 0;
  for (let by = 0; by < height / 8; by += 1) {
    for (let bx = 0; bx < width / 8; bx += 1) {
      const level = Math.min(255, Math.max(0, base + bx * 9 + by * 7 + random() * 30));
      const dc = Math.round(8 * (level - 128)); // DC of a flat block: 8 × (level − 128), quantised by 1
      const diff = dc - previous;
      previous = dc;
      const category = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
      put(category, 4);
      if (category > 0) put(diff > 0 ? diff : diff + (1 << category) - 1, category);
      put(0, 1); // end of block: every AC coefficient is 0
    }
  }
  if (count > 0) put(0xff, 8 - count); // pad the last byte with 1 bits
  out.push(0xff, 0xd9); // EOI
  return new Uint8Array(out);
}
