-- Up Migration
-- The event log: every event a device pushed, recorded PENDING when the push is accepted, settled by the
-- processor in the same transaction as its effect. Its primary key is the exactly-once guard.
create table sync_events (
  id uuid primary key,
  batch_id uuid not null,
  device_id text not null,
  user_id text not null,
  type text not null,
  payload jsonb not null,
  location jsonb,
  -- sha256 of the canonical (type, occurredAt, payload, location): the same id with another body is EVENT_ID_REUSED.
  payload_hash text not null,
  occurred_at timestamptz not null,
  received_at timestamptz not null,
  applied_at timestamptz,
  status text not null default 'PENDING'
    check (status in ('PENDING', 'APPLIED', 'DUPLICATE', 'CONFLICT', 'REJECTED', 'FAILED')),
  -- {code, message, retryable, errors?} for REJECTED and FAILED
  error jsonb,
  -- {conflictId, fields, resolution, serverValue, clientValue} for CONFLICT
  conflict jsonb,
  attempts integer not null default 0
) with (fillfactor = 70);
-- No index names a column the processor updates (status, error, conflict…): settling an event is then a
-- heap-only (HOT) update that writes no index entry, and the free space fillfactor leaves makes room for it.
create index sync_events_batch_idx on sync_events (batch_id);
create index sync_events_device_idx on sync_events (device_id);

-- One row per accepted push: what was refused before anything was recorded (invalid events, clock skew,
-- duplicates) is kept here so the batch outcome can report every event the device sent.
create table sync_batches (
  id uuid primary key,
  device_id text not null,
  user_id text not null,
  received_at timestamptz not null,
  total integer not null,
  accepted integer not null,
  -- [{eventId, index, code, message, retryable, errors?}]
  rejected jsonb not null default '[]',
  -- [eventId] of events the server already had
  duplicates jsonb not null default '[]'
);
create index sync_batches_device_idx on sync_batches (device_id, received_at desc);

-- One production record per (well, day), merged field by field. field_meta keeps, for each field, the
-- stamp of its last write {occurredAt, deviceId, eventId}: the basis of last-writer-wins merging.
create table production_records (
  id uuid primary key default gen_random_uuid(),
  well_id text not null references wells (id),
  production_date date not null,
  oil_volume double precision,
  gas_volume double precision,
  water_volume double precision,
  tubing_pressure double precision,
  casing_pressure double precision,
  choke_size integer,
  runtime double precision,
  notes text,
  field_meta jsonb not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (well_id, production_date)
);

create table well_readings (
  event_id uuid primary key,
  well_id text not null references wells (id),
  reading_type text not null,
  value double precision not null,
  unit text not null,
  recorded_at timestamptz not null,
  device_id text not null,
  user_id text not null,
  content_hash text not null,
  created_at timestamptz not null default now(),
  -- The same device sending the same reading twice (under two event ids) is a duplicate.
  unique (device_id, content_hash)
);
create index well_readings_well_idx on well_readings (well_id, recorded_at);

create table inspections (
  event_id uuid primary key,
  well_id text not null references wells (id),
  equipment_id text references equipment (id),
  inspection_type text not null,
  status text not null,
  equipment_status text,
  leaks_detected boolean,
  safety_hazards jsonb,
  visual_condition text,
  corrective_actions text,
  next_inspection_date date,
  notes text,
  inspected_at timestamptz not null,
  device_id text not null,
  user_id text not null,
  content_hash text not null,
  created_at timestamptz not null default now(),
  unique (device_id, content_hash)
);
create index inspections_well_idx on inspections (well_id, inspected_at);

create table maintenance_logs (
  event_id uuid primary key,
  equipment_id text not null references equipment (id),
  maintenance_type text not null,
  description text not null,
  work_performed text,
  parts_replaced jsonb,
  downtime_hours double precision,
  cost double precision,
  vendor_name text,
  next_maintenance_date date,
  performed_at timestamptz not null,
  device_id text not null,
  user_id text not null,
  content_hash text not null,
  created_at timestamptz not null default now(),
  unique (device_id, content_hash)
);
create index maintenance_logs_equipment_idx on maintenance_logs (equipment_id, performed_at);

create table notes (
  event_id uuid primary key,
  target_type text not null,
  target_id text not null,
  text text not null,
  occurred_at timestamptz not null,
  device_id text not null,
  user_id text not null,
  content_hash text not null,
  created_at timestamptz not null default now(),
  unique (device_id, content_hash)
);
create index notes_target_idx on notes (target_type, target_id);

create table photos (
  id uuid primary key,
  blob_name text not null,
  content_type text not null,
  size_bytes bigint not null,
  sha256 text,
  target_type text,
  target_id text,
  taken_at timestamptz,
  status text not null check (status in ('AWAITING_UPLOAD', 'ATTACHED')),
  device_id text not null,
  user_id text not null,
  event_id uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index photos_device_status_idx on photos (device_id, status);

-- Every conflict: both sides' values and events, how it was settled, and (for MANUAL) its review.
create table conflicts (
  id uuid primary key,
  record_type text not null check (record_type in ('PRODUCTION', 'EQUIPMENT')),
  record_key text not null,
  fields text[] not null,
  event_id uuid not null,
  other_event_id uuid,
  server_value jsonb not null,
  client_value jsonb not null,
  resolution text not null check (resolution in ('CLIENT_WINS', 'SERVER_WINS', 'MERGED', 'PENDING_REVIEW')),
  status text not null check (status in ('OPEN', 'RESOLVED')),
  resolved_by text,
  resolved_at timestamptz,
  resolved_value jsonb,
  created_at timestamptz not null default now()
);
create index conflicts_status_idx on conflicts (status, created_at);
create index conflicts_event_idx on conflicts (event_id);

-- Conflict strategy per event type (absent: last-writer-wins).
create table conflict_strategies (
  event_type text primary key,
  strategy text not null check (strategy in ('LWW', 'SERVER_WINS', 'CLIENT_WINS', 'MANUAL')),
  updated_by text,
  updated_at timestamptz not null default now()
);

-- Versioned equipment: per field, the version that last changed it and that change's stamp.
alter table equipment add column field_meta jsonb not null default '{}';

-- Down Migration
alter table equipment drop column field_meta;
drop table conflict_strategies;
drop table conflicts;
drop table photos;
drop table notes;
drop table maintenance_logs;
drop table inspections;
drop table well_readings;
drop table production_records;
drop table sync_batches;
drop table sync_events;
