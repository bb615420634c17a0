// The clinic dialect (document 004) under /api/compat/clinic: each route registers itself on import.
await import('./queue.js');
await import('./pending.js');
await import('./process.js');
await import('./resolve.js');
await import('./retry.js');
await import('./stats.js');
