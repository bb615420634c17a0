-- Up Migration
-- Selective sync (SPEC v1.1 "Scopes"): the held sets pull cursors name. A cursor carries the hash of the
-- set of collections and scopes its device holds instead of the set itself, so a manager's cursor with a
-- thousand scopes stays as small as an operator's. A set is stored once per tenant; `used_at` is refreshed
-- at most daily by the pulls naming it, and sets unused for longer than the change-log retention are pruned
-- with the change log (a cursor naming a pruned set gets 410 RESYNC_REQUIRED, as an old cursor does).
create table pull_held_sets (
  hash text primary key,
  collections text[] not null,
  scopes text[],
  created_at timestamptz not null default now(),
  used_at timestamptz not null default now()
);
create index pull_held_sets_used_idx on pull_held_sets (used_at);

-- Down Migration
drop table pull_held_sets;
