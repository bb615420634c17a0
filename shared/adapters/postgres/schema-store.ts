import type pg from 'pg';
import type { CollectionDefinition } from '../../contracts/schema.js';
import type {
  CollectionDecision,
  PutCollectionResult,
  SchemaStore,
  StoredCollection,
  StoredSchema,
} from '../../usecases/ports/schema.js';
import type { Tenant } from '../../usecases/ports/tenancy.js';
import { guardPostgres } from './connection.js';
import { withTransaction } from './transaction.js';

interface CollectionRow {
  name: string;
  version: number;
  schema: Record<string, unknown>;
  scope_field: string | null;
  conflict: CollectionDefinition['conflict'];
  pack: string | null;
  builtin: boolean;
  written_by: string | null;
}

const COLUMNS = 'name, version, schema, scope_field, conflict, pack, builtin, written_by';

const fromRow = (r: CollectionRow): StoredCollection => ({
  name: r.name,
  version: r.version,
  definition: {
    schema: r.schema,
    ...(r.scope_field !== null ? { scope: r.scope_field } : {}),
    conflict: r.conflict ?? { strategy: 'LWW' },
  },
  pack: r.pack,
  builtin: r.builtin,
  writtenBy: r.written_by,
});

/** The tenant's sync schema in its own database (migrations 0008, 0010); every statement parameterised. */
export class PostgresSchemaStore implements SchemaStore {
  constructor(private readonly poolFor: (tenant: Tenant) => pg.Pool) {}

  async schemaVersion(tenant: Tenant): Promise<number> {
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{ v: number }>(
        'select coalesce(max(schema_version), 0)::int as v from sync_schema_changes',
      ),
    );
    return rows[0]?.v ?? 0;
  }

  async load(tenant: Tenant): Promise<StoredSchema> {
    // One statement: the version and the collections are of the same snapshot.
    const { rows } = await guardPostgres(() =>
      this.poolFor(tenant).query<{ v: number; collections: CollectionRow[] | null }>(
        `select (select coalesce(max(schema_version), 0)::int from sync_schema_changes) as v,
                (select json_agg(c order by c.name) from (select ${COLUMNS} from sync_collections) c) as collections`,
      ),
    );
    const row = rows[0];
    return { schemaVersion: row?.v ?? 0, collections: (row?.collections ?? []).map(fromRow) };
  }

  async putCollection(
    tenant: Tenant,
    name: string,
    decide: (current: StoredCollection | undefined) => CollectionDecision,
    changedBy: string,
  ): Promise<PutCollectionResult> {
    return withTransaction(this.poolFor(tenant), async (client) => {
      // Serialises schema changes of this tenant (readers are not blocked): versions are gap-free and the
      // decision is taken on the state it is written over.
      await client.query('lock table sync_schema_changes in share row exclusive mode');
      const current = await client.query<CollectionRow>(
        `select ${COLUMNS} from sync_collections where name = $1`,
        [name],
      );
      const before = current.rows[0] ? fromRow(current.rows[0]) : undefined;
      const decision = decide(before);
      const versionNow = async () =>
        (
          await client.query<{ v: number }>(
            'select coalesce(max(schema_version), 0)::int as v from sync_schema_changes',
          )
        ).rows[0]?.v ?? 0;
      if (decision.kind === 'refused') return { kind: 'refused', errors: decision.errors };
      if (decision.kind === 'unchanged') {
        if (!before) throw new Error(`collection ${name} cannot be unchanged: it does not exist`);
        return { kind: 'unchanged', collection: before, schemaVersion: await versionNow() };
      }
      const c = decision.collection;
      const conflict = c.definition.conflict ?? { strategy: 'LWW' };
      const { rows } = await client.query<CollectionRow>(
        `insert into sync_collections (name, version, schema, scope_field, conflict, pack, builtin, written_by)
         values ($1, 1, $2, $3, $4, $5, $6, $7)
         on conflict (name) do update set
           version = sync_collections.version + 1, schema = excluded.schema, scope_field = excluded.scope_field,
           conflict = excluded.conflict, pack = excluded.pack, builtin = excluded.builtin,
           written_by = excluded.written_by, updated_at = now()
         returning ${COLUMNS}`,
        [
          name,
          JSON.stringify(c.definition.schema),
          c.definition.scope ?? null,
          JSON.stringify(conflict),
          c.pack,
          c.builtin,
          c.writtenBy,
        ],
      );
      const stored = fromRow(rows[0] as CollectionRow);
      const { rows: change } = await client.query<{ v: number }>(
        `insert into sync_schema_changes (schema_version, collection, collection_version, definition, changed_by)
         select coalesce(max(schema_version), 0) + 1, $1, $2, $3, $4 from sync_schema_changes
         returning schema_version as v`,
        [name, stored.version, JSON.stringify(stored.definition), changedBy],
      );
      return {
        kind: before ? 'updated' : 'created',
        collection: stored,
        schemaVersion: change[0]?.v ?? 0,
      };
    });
  }
}
