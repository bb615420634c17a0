-- Up Migration
-- The tenant registry: which database holds each tenant's data.
create table tenants (
  id text primary key,
  database_name text not null unique,
  display_name text,
  status text not null default 'ACTIVE' check (status in ('ACTIVE', 'SUSPENDED')),
  created_at timestamptz not null default now(),
  migrated_at timestamptz
);

-- Down Migration
drop table tenants;
