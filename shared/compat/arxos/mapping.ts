import { createHash } from 'node:crypto';
import type { RecordEntity } from '../../contracts/pull.js';
import { canonicalJson } from '../../sync/canonical.js';
import type { FieldError } from '../../errors.js';
import { uuidFromHash } from '../../sync/uuid.js';

/*
 * The pure mapping of seed 002 ("Offline Sync Architecture for ArxOS Mobile") onto the facilities pack
 * (shared/packs/facilities.json): the document's snake_case entity fields (its "Local Storage Schema")
 * ↔ the pack's record fields. Nothing here does I/O; docs/compat/arxos.md has the table.
 */

/** The document's entity types (its sync_queue `entity_type`), each synced as one pack collection. */
export const ENTITY_TYPES = ['equipment', 'anchor', 'building'] as const;
export type EntityType = (typeof ENTITY_TYPES)[number];

/** The document's operations (its sync_queue `operation`). */
export const OPERATIONS = ['create', 'update', 'delete'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** The pack collection of each entity type. */
export const COLLECTION_OF: Record<EntityType, string> = {
  equipment: 'equipment',
  anchor: 'spatial_anchors',
  building: 'buildings',
};

/** A group of three document columns `<prefix>x/y/z` that is one pack point `{x, y, z}` (metres). */
interface PointField {
  doc: string;
  pack: string;
}

interface EntityFields {
  /** Document column → pack field, for plain values (copied as they are). */
  plain: Record<string, string>;
  points: PointField[];
  /**
   * Columns of the document's SQLite cache that a client sends back with its row but the server does not take
   * from it (`version`, `updated_at` and `force` are read separately): ignored, never refused.
   */
  cache: string[];
}

const FIELDS: Record<EntityType, EntityFields> = {
  equipment: {
    plain: { building_id: 'buildingId', name: 'name', type: 'type', status: 'status', metadata: 'metadata' },
    points: [{ doc: 'location_', pack: 'location' }],
    cache: ['id', 'created_at', 'synced_at', 'sync_status'],
  },
  anchor: {
    plain: {
      building_id: 'buildingId',
      equipment_id: 'equipmentId',
      confidence: 'confidence',
      anchor_type: 'anchorType',
    },
    points: [{ doc: 'position_', pack: 'position' }],
    cache: ['id', 'created_at', 'synced_at', 'sync_status'],
  },
  building: {
    plain: { name: 'name', address: 'address', status: 'status' },
    points: [],
    cache: ['id', 'created_at', 'synced_at', 'full_sync_at', 'sync_status'],
  },
};

const AXES = ['x', 'y', 'z'] as const;

/** A field's path under a prefix ('' for a body that is the payload itself). */
const at = (prefix: string, field: string) => (prefix ? `${prefix}.${field}` : field);

/** What a document payload asks for, in the pack's terms. */
export interface MappedPayload {
  /** Pack fields (create: the record's data; update: the changes, `null` clearing a field). */
  fields: Record<string, unknown>;
  /** `version`: the version the client's edit is based on (its cached row's version). */
  version?: number;
  /** `updated_at`: when the client made the edit (epoch milliseconds, as its cache stores it). */
  updatedAt?: number;
  /** `force: true`: apply over whatever the server has (docs/compat/arxos.md "force"). */
  force: boolean;
}

/**
 * Maps a document payload (an entity row as the client caches it) to pack fields. `path` prefixes the JSON
 * paths of errors (e.g. `operations[2].payload`). A point's three columns go together (all numbers, or all
 * null to clear it on an update); an unknown column is refused rather than dropped. Values are not
 * type-checked here: the collection's JSON Schema does that in the push use case (INVALID_PAYLOAD), and
 * `docPath` maps its paths back.
 */
export function fromDocument(
  entity: EntityType,
  payload: Record<string, unknown>,
  mode: 'create' | 'update',
  path = 'payload',
): { ok: true; value: MappedPayload } | { ok: false; errors: FieldError[] } {
  const table = FIELDS[entity];
  const errors: FieldError[] = [];
  const fields: Record<string, unknown> = {};
  const taken = new Set<string>(['version', 'updated_at', 'force', ...table.cache]);
  for (const [doc, pack] of Object.entries(table.plain)) {
    taken.add(doc);
    const value = payload[doc];
    if (value === undefined || (value === null && mode === 'create')) continue;
    fields[pack] = value;
  }
  for (const point of table.points) {
    const names = AXES.map((axis) => `${point.doc}${axis}`);
    names.forEach((n) => taken.add(n));
    const values = names.map((n) => payload[n]);
    if (values.every((v) => v === undefined)) continue;
    if (values.every((v) => v === null)) {
      if (mode === 'update') fields[point.pack] = null;
      continue;
    }
    if (values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      fields[point.pack] = Object.fromEntries(AXES.map((axis, i) => [axis, values[i]]));
      continue;
    }
    names.forEach((n, i) => {
      if (typeof values[i] !== 'number' || !Number.isFinite(values[i]))
        errors.push({
          path: at(path, n),
          message: `${names.join(', ')} go together: three numbers (metres), or all null to clear`,
        });
    });
  }
  for (const key of Object.keys(payload)) {
    if (!taken.has(key))
      errors.push({ path: at(path, key), message: `not a field of ${entity} (docs/compat/arxos.md)` });
  }
  const { version, updated_at: updatedAt, force } = payload;
  if (version !== undefined && version !== null && !(Number.isInteger(version) && (version as number) >= 0))
    errors.push({
      path: at(path, 'version'),
      message: 'must be an integer ≥ 0 (the version the edit is based on)',
    });
  if (updatedAt !== undefined && updatedAt !== null && !isEpochMillis(updatedAt))
    errors.push({ path: at(path, 'updated_at'), message: 'must be epoch milliseconds' });
  if (force !== undefined && force !== null && typeof force !== 'boolean')
    errors.push({ path: at(path, 'force'), message: 'must be a boolean' });
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    value: {
      fields,
      ...(typeof version === 'number' ? { version } : {}),
      ...(typeof updatedAt === 'number' ? { updatedAt } : {}),
      force: force === true,
    },
  };
}

const isEpochMillis = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 253_402_300_800_000;

/**
 * A record in the document's shape: its columns (snake_case; an optional field the record lacks is null, so a
 * client's cache row is replaced whole), `version`, and `updated_at` — and `created_at` when known — as epoch
 * milliseconds, as the document's cache stores them (its conflict handler compares `updated_at` numerically).
 */
export function toDocument(
  entity: EntityType,
  record: Pick<RecordEntity, 'id' | 'version' | 'data' | 'updatedAt'> & { createdAt?: string },
): Record<string, unknown> {
  const table = FIELDS[entity];
  const out: Record<string, unknown> = { id: record.id };
  for (const [doc, pack] of Object.entries(table.plain)) out[doc] = record.data[pack] ?? null;
  for (const point of table.points) {
    const value = record.data[point.pack] as Record<string, unknown> | null | undefined;
    for (const axis of AXES) out[`${point.doc}${axis}`] = value?.[axis] ?? null;
  }
  out.version = record.version;
  if (record.createdAt !== undefined) out.created_at = Date.parse(record.createdAt);
  out.updated_at = Date.parse(record.updatedAt);
  return out;
}

/** The document's name of a pack field path (`location.x` → `location_x`, `buildingId` → `building_id`). */
function docField(entity: EntityType, packPath: string): string {
  const table = FIELDS[entity];
  const [head = '', ...rest] = packPath.split('.');
  const point = table.points.find((p) => p.pack === head);
  if (point) return rest[0] ? `${point.doc}${rest[0]}` : `${point.doc}x`;
  const doc = Object.entries(table.plain).find(([, pack]) => pack === head)?.[0];
  return doc ? [doc, ...rest].join('.') : packPath;
}

/**
 * The document's JSON path of an engine validation path: `events[0].payload.data.location.x` →
 * `<prefix>.location_x` (push paths name the event, its payload and the pack fields).
 */
export function docPath(entity: EntityType, enginePath: string, prefix = 'payload'): string {
  const m = /^events\[\d+\]\.payload(?:\.(?:data|changes))?\.?(.*)$/.exec(enginePath);
  const rest = m?.[1] ?? '';
  if (!rest) return prefix || '(body)';
  return prefix ? `${prefix}.${docField(entity, rest)}` : docField(entity, rest);
}

/** The document's names of pack fields (a conflict's fields). */
export const docFields = (entity: EntityType, packFields: string[]): string[] => [
  ...new Set(packFields.map((f) => docField(entity, f))),
];

/**
 * A stable event id (a UUID, version 8: RFC 9562 custom) for what a client sent: the same operation sent
 * again (same user, device, event type, time and payload) gets the same id, so the push use case reports it as
 * a duplicate and never applies it twice — the document's operations carry no id of their own.
 */
export function eventIdFor(parts: {
  userId: string;
  deviceId: string;
  type: string;
  occurredAt: string;
  payload: unknown;
}): string {
  return uuidFromHash(
    createHash('sha256')
      .update(`arxos|${canonicalJson(parts)}`)
      .digest(),
    8,
  );
}

/** What a `since` query value is: nothing (first sync), a plain time, or a `last_sync` this server gave. */
export type Since = { kind: 'start' } | { kind: 'time'; at: Date } | { kind: 'cursor'; cursor: string };

/**
 * `last_sync` values this server gives are pull cursors, `<base64url>.<base64url>` (shared/sync/cursor.ts):
 * only URL-safe characters, so the value is the same whether the client URL-encodes it or not.
 */
export const LAST_SYNC_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * Reads `since` (already URL-decoded by the host): absent, empty or `0` → first sync; digits → a Unix time
 * (seconds as in the document's example `since=1234567890`, with or without a fraction, or milliseconds when
 * ≥ 10^11, as its cache stores times); an RFC 3339 date-time → a time (a `+` offset sent unencoded arrives
 * as a space, read as `+`); a `last_sync` this server gave → a cursor. Undefined when it is none of these.
 */
export function parseSince(text: string | undefined): Since | undefined {
  if (text === undefined || text === '' || /^0+(?:\.0*)?$/.test(text)) return { kind: 'start' };
  if (/^\d{1,16}(?:\.\d{1,9})?$/.test(text)) {
    const n = Number(text);
    return { kind: 'time', at: new Date(n < 1e11 ? Math.floor(n * 1000) : Math.floor(n)) };
  }
  if (LAST_SYNC_PATTERN.test(text)) return { kind: 'cursor', cursor: text };
  if (/^\d{4}-\d{2}-\d{2}T/i.test(text)) {
    const at = Date.parse(text.replace(/ (\d{2}:?\d{2})$/, '+$1').toUpperCase());
    if (Number.isFinite(at)) return { kind: 'time', at: new Date(at) };
  }
  return undefined;
}

/** The device id the document's client does not send: `X-Device-Id` when valid, else one per user. */
export function deviceIdOf(header: string | null, userId: string): string {
  if (header && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(header)) return header;
  const safe = userId.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 100);
  return `arxos.${safe}`;
}
