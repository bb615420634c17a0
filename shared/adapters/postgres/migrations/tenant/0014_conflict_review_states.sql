-- Up Migration
-- Conflict review states (SPEC v1.1 "Managers' console and review states", docs/architecture.md "Review states").
-- status: OPEN (no manager has handled it: held by MANUAL, or settled by a strategy and not reviewed),
-- RESOLVED (a manager set the values: SERVER_WINS, CLIENT_WINS, MERGED), ACKNOWLEDGED (a manager kept the
-- strategy's result). auto_resolution: what the strategy decided on its own (null: MANUAL held it).
-- reviewed_by/at: the manager who handled it. requested_*: a field user's request awaiting approval (compat/clinic).
alter table conflicts drop constraint conflicts_status_check;
alter table conflicts
  add column auto_resolution text check (auto_resolution in ('CLIENT_WINS', 'SERVER_WINS', 'MERGED')),
  add column reviewed_by text,
  add column reviewed_at timestamptz,
  add column requested_resolution text check (requested_resolution in ('SERVER_WINS', 'CLIENT_WINS')),
  add column requested_by text,
  add column requested_at timestamptz;

-- Backfill. Before review states a strategy-settled conflict was RESOLVED by nobody (resolved_by null): it keeps
-- its result as the strategy's, settled when it was recorded, and counts as reviewed — ACKNOWLEDGED by the
-- migration (reviewed_by 'fieldsync:migration-0014'), so upgrading does not flood the inbox with a history that
-- the devices acted on long ago. A manager's resolution (resolved_by set) was a review: reviewed by that manager.
update conflicts set auto_resolution = resolution, resolved_at = created_at, status = 'ACKNOWLEDGED',
                     reviewed_by = 'fieldsync:migration-0014', reviewed_at = now()
  where status = 'RESOLVED' and resolved_by is null;
update conflicts set reviewed_by = resolved_by, reviewed_at = resolved_at
  where status = 'RESOLVED' and resolved_by is not null;

alter table conflicts add constraint conflicts_status_check
  check (status in ('OPEN', 'RESOLVED', 'ACKNOWLEDGED'));
-- A handled conflict names its reviewer and time; an OPEN one does not. MANUAL's hold is always OPEN.
alter table conflicts add constraint conflicts_review_check
  check ((status = 'OPEN') = (reviewed_at is null) and (status = 'OPEN') = (reviewed_by is null)
         and (resolution <> 'PENDING_REVIEW' or status = 'OPEN')
         and (status <> 'ACKNOWLEDGED' or auto_resolution is not null));
-- The inbox and the device counts read OPEN conflicts; the device counts join them to their events.
create index conflicts_open_event_idx on conflicts (event_id) where status = 'OPEN';

-- Down Migration
drop index conflicts_open_event_idx;
alter table conflicts drop constraint conflicts_review_check;
alter table conflicts drop constraint conflicts_status_check;
update conflicts set status = 'RESOLVED' where status = 'ACKNOWLEDGED' or resolution <> 'PENDING_REVIEW';
update conflicts set resolved_at = null where resolved_by is null;
alter table conflicts add constraint conflicts_status_check check (status in ('OPEN', 'RESOLVED'));
alter table conflicts
  drop column requested_at,
  drop column requested_by,
  drop column requested_resolution,
  drop column reviewed_at,
  drop column reviewed_by,
  drop column auto_resolution;
