// Seed document 001 ("Offline Sync API") under /api/compat/wellpulse: each route registers itself on import.
await import('./sync-pull.js');
await import('./sync-push.js');
await import('./sync-status.js');
