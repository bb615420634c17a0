// Dialect 003 ("fieldops", docs/compat/fieldops.md): every route registers itself on import.
await import('./sync-batch.js');
await import('./upload-url.js');
await import('./upload.js');
