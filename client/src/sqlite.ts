/**
 * `@fieldsync/client/sqlite`: the SQLite store for Node and Electron (better-sqlite3 12). Its own entry
 * point so that only apps that import it load the native module.
 */
export { openSqliteStore, SqliteStore, type SqliteStoreOptions } from './stores/sqlite.js';
