/** @fieldsync/client — placeholder entry, replaced by the client implementation (issue 15). */
export const CLIENT_VERSION = '0.1.0';
