// What package.json `main` loads: every function registers itself on import. Configuration is parsed
// here, at start-up, so a missing or invalid setting stops the app with a message naming it.
import { loadConfig } from '../shared/config.js';
import { startTelemetry } from '../shared/observability.js';

await startTelemetry(loadConfig(process.env));

await import('./health.js');
await import('./openapi.js');
await import('./wells-put.js');
await import('./equipment-put.js');
await import('./equipment-delete.js');
await import('./sync-push.js');
await import('./sync-batch.js');
await import('./sync-pull.js');
await import('./scopes.js');
await import('./scope-member-put.js');
await import('./scope-member-delete.js');
await import('./schema-get.js');
await import('./schema-put.js');
await import('./photo-upload-urls.js');
await import('./photo-get.js');
await import('./sync-retry.js');
await import('./sync-status.js');
await import('./devices.js');
await import('./sync-stats.js');
await import('./conflicts.js');
await import('./conflict-resolve.js');
await import('./conflict-strategies.js');
await import('./console.js');
await import('./device-activity.js');
await import('./conflict-get.js');
await import('./compat/wellpulse/index.js');
await import('./process-sync-chunk.js');
await import('./prune-change-log.js');
await import('./sweep-photos.js');
await import('./sweep-outbox.js');
await import('./compat/wellos/field-data-sync.js');
await import('./compat/clinic/index.js');
await import('./compat/fieldops/index.js');
await import('./compat/arxos/index.js');
