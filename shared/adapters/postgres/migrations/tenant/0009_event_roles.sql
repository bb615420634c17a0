-- Up Migration
-- v1.1 scope rule for record writes (DESIGN-13 "Record engine"): an OPERATOR writes only records of scopes
-- granted to them. The processor decides with the roles the pusher had when the push was accepted, stored on
-- the event row (the token is gone by then). Null for events accepted before this migration: not restricted.
alter table sync_events add column roles text[];

-- Down Migration
alter table sync_events drop column roles;
