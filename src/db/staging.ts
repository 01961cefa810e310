import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Trx } from './database';

/**
 * Bulk rows into a tenant table through COPY. PostgreSQL refuses COPY FROM into a table with row-level security, so
 * rows are copied into a temporary staging table of the session (no RLS: only this connection sees it), then moved
 * by one INSERT … SELECT that the tenant policy checks like any other. COPY's text format parses several times
 * faster than a JSON or array parameter of the same rows, which is what the insert rate hinges on.
 *
 * A staging table lives as long as the pooled connection and empties at every commit (ON COMMIT DELETE ROWS; a
 * rolled-back transaction leaves nothing either). Callers move rows out with `delete … returning`, so one
 * transaction can stage several batches.
 */

export type StagedValue = string | number | boolean | null | readonly string[];

export interface StagingTable {
  name: string;
  /** Column name → SQL type, in the order of each row's values. */
  columns: readonly (readonly [string, string])[];
}

/** COPY text format: backslash escapes for the characters that delimit fields and rows. */
function escapeText(text: string): string {
  return /[\\\t\n\r]/.test(text)
    ? text.replace(/[\\\t\n\r]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r',
      )
    : text;
}

/** An array literal with every element quoted (then escaped once more as COPY text). */
const arrayLiteral = (values: readonly string[]) =>
  `{${values.map((v) => `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`).join(',')}}`;

function field(value: StagedValue): string {
  if (value === null) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (typeof value === 'number') return String(value);
  return escapeText(typeof value === 'string' ? value : arrayLiteral(value));
}

/** Rows per chunk written to the COPY stream (bounded memory for large batches). */
const CHUNK_ROWS = 2000;

function* copyText(rows: readonly (readonly StagedValue[])[]): Generator<string> {
  for (let start = 0; start < rows.length; start += CHUNK_ROWS) {
    let text = '';
    for (const row of rows.slice(start, start + CHUNK_ROWS)) text += `${row.map(field).join('\t')}\n`;
    yield text;
  }
}

/** Copies rows into the session's staging table (created on first use); returns its qualified name. */
export async function stageRows(
  trx: Trx,
  table: StagingTable,
  rows: readonly (readonly StagedValue[])[],
): Promise<string> {
  const name = `pg_temp.${table.name}`;
  const { rows: found } = await trx.raw(`select to_regclass(?) is not null as present`, [name]);
  if (!found[0].present) {
    const columns = table.columns.map(([column, type]) => `${column} ${type}`).join(', ');
    await trx.raw(`create temporary table ${table.name} (${columns}) on commit delete rows`);
  }
  // The transaction's own connection (knex hands it out for the transaction's lifetime).
  const connection = (await trx.client.acquireConnection()) as pg.PoolClient;
  const columns = table.columns.map(([column]) => column).join(', ');
  const stream = connection.query(copyFrom(`copy ${name} (${columns}) from stdin`));
  await pipeline(Readable.from(copyText(rows)), stream);
  return name;
}
