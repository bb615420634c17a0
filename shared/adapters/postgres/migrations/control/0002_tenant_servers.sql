-- Up Migration
-- Which Postgres server holds each tenant's database (a name of the configured server list,
-- docs/deploy.md "Tenant servers"). Tenants registered before lived on the control server, whose name is
-- 'primary' unless POSTGRES_SERVER_NAME says otherwise; a deployment that renamed it updates these rows.
alter table tenants add column server text not null default 'primary';
-- Placement counts tenants per server.
create index tenants_server on tenants (server);

-- Down Migration
drop index tenants_server;
alter table tenants drop column server;
