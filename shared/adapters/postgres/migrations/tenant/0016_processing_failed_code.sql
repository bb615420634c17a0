-- Up Migration
-- One name per event error code (shared/contracts/event-errors.ts, docs/outcomes.md). Early versions marked an
-- event the processor could not handle FAILED with code PROCESSING_ERROR; the code for that failure is
-- PROCESSING_FAILED (what docs/outcomes.md, the client library and the compat mappings read). Events stored
-- under the old name are renamed, so every outcome read back carries a catalogued code. Only the code changes:
-- status (FAILED), message and retryable (true) stay as they were, so the event is still retryable.
-- A one-off scan of sync_events; the HOT-friendly layout (no index on error, migration 0005) is kept.
update sync_events
  set error = jsonb_set(error, '{code}', '"PROCESSING_FAILED"')
  where error->>'code' = 'PROCESSING_ERROR';

-- Down Migration
-- Nothing to undo: PROCESSING_FAILED is the code every version reads; which events once carried the old
-- name is not kept.
select 1;
