import type { Knex } from 'knex';

type Queryable = Knex | Knex.Transaction;

/**
 * Every base table in schema public with a tenant_id column, read from the catalog so that tables added by later
 * migrations are covered without editing this list. Ordered children first (by foreign keys between them), so that
 * deleting in this order never trips a constraint.
 */
export async function tenantTables(db: Queryable): Promise<string[]> {
  const { rows: tables } = await db.raw<{ rows: { name: string }[] }>(`
    select c.relname as name
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' and not a.attisdropped
     where n.nspname = 'public' and c.relkind in ('r', 'p')
     order by c.relname`);
  const { rows: edges } = await db.raw<{ rows: { child: string; parent: string }[] }>(`
    select distinct child.relname as child, parent.relname as parent
      from pg_constraint k
      join pg_class child on child.oid = k.conrelid
      join pg_class parent on parent.oid = k.confrelid
      join pg_namespace n on n.oid = child.relnamespace
     where k.contype = 'f' and n.nspname = 'public' and child.oid <> parent.oid`);
  const names = tables.map((t) => t.name);
  const ordered: string[] = [];
  const visiting = new Set<string>();
  // Depth-first: a table is placed after every table that references it.
  const visit = (table: string) => {
    if (ordered.includes(table) || visiting.has(table)) return;
    visiting.add(table);
    for (const edge of edges) if (edge.parent === table && names.includes(edge.child)) visit(edge.child);
    ordered.push(table);
  };
  for (const name of names) visit(name);
  return ordered;
}

export interface TextColumn {
  table: string;
  column: string;
  kind: 'text' | 'json' | 'text[]';
  /** The SQL type name, e.g. `jsonb`. */
  type: string;
}

/** The columns of a table that can hold free text: text/varchar, json/jsonb, and arrays of text. */
export async function textColumns(db: Queryable, table: string): Promise<TextColumn[]> {
  const { rows } = await db.raw<{ rows: { column: string; type: string }[] }>(
    `select a.attname as column, format_type(a.atttypid, null) as type
       from pg_attribute a
      where a.attrelid = ?::regclass and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [`public.${quoteIdent(table)}`],
  );
  return rows.flatMap((r): TextColumn[] => {
    const { column, type } = r;
    if (type === 'text' || type === 'character varying') return [{ table, column, kind: 'text', type }];
    if (type === 'json' || type === 'jsonb') return [{ table, column, kind: 'json', type }];
    if (type === 'text[]' || type === 'character varying[]') return [{ table, column, kind: 'text[]', type }];
    return [];
  });
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
