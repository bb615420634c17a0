import type pg from 'pg';
import type { Equipment, EquipmentInput, Well, WellInput } from '../../contracts/reference-data.js';
import { ConflictError, ValidationError } from '../../errors.js';
import type { DeleteOutcome, ReferenceDataStore, UserRecord } from '../../usecases/ports/reference-data.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import { guardPostgres } from './connection.js';
import { isForeignKeyViolation, iso, isoRequired, isUniqueViolation } from './types.js';

interface WellRow {
  id: string;
  name: string;
  api_number: string;
  latitude: number;
  longitude: number;
  status: Well['status'];
  lease: string | null;
  field: string | null;
  operator: string | null;
  created_at: Date;
  updated_at: Date;
  created: boolean;
}

interface EquipmentRow {
  id: string;
  well_id: string;
  equipment_type: Equipment['equipmentType'];
  serial_number: string;
  manufacturer: string | null;
  model: string | null;
  installation_date: string | null;
  status: Equipment['status'];
  notes: string | null;
  version: number;
  deleted_at: Date | null;
  created_at: Date;
  updated_at: Date;
  created: boolean;
}

export const wellFromRow = (r: WellRow): Well => ({
  id: r.id,
  name: r.name,
  apiNumber: r.api_number,
  latitude: r.latitude,
  longitude: r.longitude,
  status: r.status,
  lease: r.lease,
  field: r.field,
  operator: r.operator,
  createdAt: isoRequired(r.created_at),
  updatedAt: isoRequired(r.updated_at),
});

export const equipmentFromRow = (r: EquipmentRow): Equipment => ({
  id: r.id,
  wellId: r.well_id,
  equipmentType: r.equipment_type,
  serialNumber: r.serial_number,
  manufacturer: r.manufacturer,
  model: r.model,
  installationDate: r.installation_date,
  status: r.status,
  notes: r.notes,
  version: r.version,
  deletedAt: iso(r.deleted_at),
  createdAt: isoRequired(r.created_at),
  updatedAt: isoRequired(r.updated_at),
});

/** Wells, equipment and users in the tenant's own database; every statement parameterised. */
export class PostgresReferenceDataStore implements ReferenceDataStore {
  constructor(private readonly poolFor: (tenant: Tenant) => pg.Pool) {}

  async upsertWell(tenant: Tenant, id: string, input: WellInput): Promise<{ well: Well; created: boolean }> {
    try {
      const { rows } = await guardPostgres(() =>
        this.poolFor(tenant).query<WellRow>(
          `insert into wells (id, name, api_number, latitude, longitude, status, lease, field, operator)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           on conflict (id) do update set
             name = excluded.name, api_number = excluded.api_number, latitude = excluded.latitude,
             longitude = excluded.longitude, status = excluded.status, lease = excluded.lease,
             field = excluded.field, operator = excluded.operator, updated_at = now()
           returning *, (xmax = 0) as created`,
          [
            id,
            input.name,
            input.apiNumber,
            input.latitude,
            input.longitude,
            input.status,
            input.lease ?? null,
            input.field ?? null,
            input.operator ?? null,
          ],
        ),
      );
      const row = rows[0] as WellRow;
      return { well: wellFromRow(row), created: row.created };
    } catch (error) {
      if (isUniqueViolation(error, 'wells_api_number_key')) {
        throw new ConflictError(`another well already has API number ${input.apiNumber}`, 'API_NUMBER_TAKEN');
      }
      throw error;
    }
  }

  async upsertEquipment(
    tenant: Tenant,
    id: string,
    input: EquipmentInput,
  ): Promise<{ equipment: Equipment; created: boolean }> {
    try {
      const { rows } = await guardPostgres(() =>
        this.poolFor(tenant).query<EquipmentRow>(
          `insert into equipment (id, well_id, equipment_type, serial_number, manufacturer, model,
                                  installation_date, status, notes)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           on conflict (id) do update set
             well_id = excluded.well_id, equipment_type = excluded.equipment_type,
             serial_number = excluded.serial_number, manufacturer = excluded.manufacturer,
             model = excluded.model, installation_date = excluded.installation_date,
             status = excluded.status, notes = excluded.notes,
             version = equipment.version + 1, deleted_at = null, updated_at = now(),
             -- Fields a manager changes get the new version and a server stamp: a device's EQUIPMENT_UPDATED
             -- made against an older version then conflicts with them (settled by the tenant's strategy).
             field_meta = equipment.field_meta || (
               select coalesce(jsonb_object_agg(f, jsonb_build_object(
                 'version', equipment.version + 1,
                 'stamp', jsonb_build_object(
                   'occurredAt', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   'deviceId', 'server', 'eventId', ''))), '{}')
               from unnest(array[
                 case when equipment.status is distinct from excluded.status then 'status' end,
                 case when equipment.serial_number is distinct from excluded.serial_number then 'serialNumber' end,
                 case when equipment.manufacturer is distinct from excluded.manufacturer then 'manufacturer' end,
                 case when equipment.model is distinct from excluded.model then 'model' end,
                 case when equipment.notes is distinct from excluded.notes then 'notes' end]) f
               where f is not null)
           returning *, (xmax = 0) as created`,
          [
            id,
            input.wellId,
            input.equipmentType,
            input.serialNumber,
            input.manufacturer ?? null,
            input.model ?? null,
            input.installationDate ?? null,
            input.status,
            input.notes ?? null,
          ],
        ),
      );
      const row = rows[0] as EquipmentRow;
      return { equipment: equipmentFromRow(row), created: row.created };
    } catch (error) {
      if (isForeignKeyViolation(error)) {
        throw new ValidationError('equipment must belong to an existing well', [
          { path: 'wellId', message: `no well with id ${input.wellId}` },
        ]);
      }
      throw error;
    }
  }

  async deleteEquipment(tenant: Tenant, id: string): Promise<DeleteOutcome> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{ outcome: DeleteOutcome }>(
        `with deleted as (
           update equipment set deleted_at = now(), version = version + 1, updated_at = now()
           where id = $1 and deleted_at is null returning id
         )
         select case
           when exists (select 1 from deleted) then 'deleted'
           when exists (select 1 from equipment where id = $1) then 'already-deleted'
           else 'not-found' end as outcome`,
        [id],
      ),
    );
    return rows[0]?.outcome ?? 'not-found';
  }

  async equipmentState(tenant: Tenant, id: string): Promise<'live' | 'deleted' | undefined> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{ deleted: boolean }>(
        'select deleted_at is not null as deleted from equipment where id = $1',
        [id],
      ),
    );
    const row = rows[0];
    return row ? (row.deleted ? 'deleted' : 'live') : undefined;
  }

  async upsertUsers(tenant: Tenant, users: UserRecord[]): Promise<void> {
    if (users.length === 0) return;
    await guardPostgres(() =>
      this.poolFor(tenant).query(
        `insert into users (id, display_name, email, role)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[])
         on conflict (id) do update set display_name = excluded.display_name, email = excluded.email,
           role = excluded.role, updated_at = now()`,
        [
          users.map((u) => u.id),
          users.map((u) => u.displayName),
          users.map((u) => u.email),
          users.map((u) => u.role),
        ],
      ),
    );
  }
}
