// Seed 002 (ArxOS mobile) under /api/compat/arxos: each route registers itself on import.
await import('./sync-batch.js');
await import('./equipment-updates.js');
await import('./equipment-create.js');
await import('./equipment-update.js');
await import('./equipment-delete.js');
await import('./building-get.js');
await import('./equipment-by-building.js');
await import('./spatial-anchors.js');
