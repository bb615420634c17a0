-- Up Migration
-- Reference data the field devices download before a shift, maintained by managers.
create table wells (
  id text primary key,
  name text not null,
  api_number text not null unique,
  latitude double precision not null check (latitude between -90 and 90),
  longitude double precision not null check (longitude between -180 and 180),
  status text not null check (status in ('ACTIVE', 'INACTIVE', 'PLUGGED')),
  lease text,
  field text,
  operator text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table equipment (
  id text primary key,
  well_id text not null references wells (id),
  equipment_type text not null
    check (equipment_type in ('PUMP_JACK', 'TANK', 'SEPARATOR', 'COMPRESSOR', 'METER', 'OTHER')),
  serial_number text not null,
  manufacturer text,
  model text,
  installation_date date,
  status text not null check (status in ('OPERATIONAL', 'MAINTENANCE', 'FAILED')),
  notes text,
  -- Bumped on every change; EQUIPMENT_UPDATED events name the version they were made against.
  version integer not null default 1,
  -- Soft delete: devices that were offline still send events naming it (EQUIPMENT_DELETED).
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index equipment_well_id_idx on equipment (well_id);

create table users (
  id text primary key,
  display_name text not null,
  email text,
  role text not null check (role in ('OPERATOR', 'MANAGER', 'ADMIN')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Down Migration
drop table users;
drop table equipment;
drop table wells;
