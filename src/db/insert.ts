// Multi-row inserts and upserts without the query builder: the statement text is made once per table, columns and
// row count, and the values are bound as one flat list. On the checkout's and the ingest's hot paths Kysely's
// parsing and compiling of a 500-row insert cost more than SQLite's own work on it (a tenth of a checkout's CPU).
import { CompiledQuery, type Insertable, type RawBuilder, sql } from 'kysely';
import { chunks } from './chunks.ts';
import type { Dialect } from './connect.ts';
import type { DB } from './schema.ts';
import { dialectOf, type Tx } from './tx.ts';

/** What to do with a row whose key exists: add to some columns, overwrite others. */
export interface Upsert {
  /** the unique key's columns (SQLite names them; MySQL uses whichever key conflicts) */
  conflict: readonly string[];
  add?: readonly string[];
  replace?: readonly string[];
}

const texts = new Map<string, string>();
const quote = (dialect: Dialect, name: string) => (dialect === 'mysql' ? `\`${name}\`` : `"${name}"`);

/** The ON CONFLICT / ON DUPLICATE KEY clause of an upsert into `table`. */
function upsertClause(dialect: Dialect, table: string, upsert: Upsert): string {
  const q = (name: string) => quote(dialect, name);
  if (dialect === 'sqlite') {
    const sets = [
      ...(upsert.add ?? []).map((c) => `${q(c)} = ${q(table)}.${q(c)} + excluded.${q(c)}`),
      ...(upsert.replace ?? []).map((c) => `${q(c)} = excluded.${q(c)}`),
    ];
    return `on conflict (${upsert.conflict.map(q).join(', ')}) do update set ${sets.join(', ')}`;
  }
  // qualified: after INSERT … SELECT a bare name could also be the selected table's column
  const sets = [
    ...(upsert.add ?? []).map((c) => `${q(table)}.${q(c)} = ${q(table)}.${q(c)} + values(${q(c)})`),
    ...(upsert.replace ?? []).map((c) => `${q(table)}.${q(c)} = values(${q(c)})`),
  ];
  return `on duplicate key update ${sets.join(', ')}`;
}

function statementText(
  dialect: Dialect,
  table: string,
  columns: readonly string[],
  count: number,
  upsert: Upsert | undefined,
): string {
  const shape = `${dialect}|${table}|${columns.join(',')}|${count}|${JSON.stringify(upsert ?? null)}`;
  let text = texts.get(shape);
  if (text) return text;
  const q = (name: string) => quote(dialect, name);
  const row = `(${new Array(columns.length).fill('?').join(', ')})`;
  text = `insert into ${q(table)} (${columns.map(q).join(', ')}) values ${new Array(count).fill(row).join(', ')}`;
  if (upsert) text += ` ${upsertClause(dialect, table, upsert)}`;
  texts.set(shape, text);
  return text;
}

/** Inserts rows given as value lists in `columns` order, one statement per 500 rows. */
export async function insertValues(
  trx: Tx,
  table: string,
  columns: readonly string[],
  rows: readonly unknown[][],
  upsert?: Upsert,
): Promise<void> {
  const dialect = dialectOf(trx);
  for (const part of chunks(rows)) {
    // a plain loop: Array.prototype.flat was the slowest step of a checkout batch's inserts
    const values: unknown[] = [];
    for (const row of part) for (const v of row) values.push(v);
    await trx.executeQuery(CompiledQuery.raw(statementText(dialect, table, columns, part.length, upsert), values));
  }
}

/**
 * Inserts, or upserts, the rows a query selects, its columns in `columns` order: one statement, the rows going from
 * table to table inside the database instead of through bound values. The query must have a WHERE clause (SQLite
 * reads an ON CONFLICT right after a bare FROM as part of a join).
 */
export async function insertSelected(
  trx: Tx,
  table: string,
  columns: readonly string[],
  select: RawBuilder<unknown>,
  upsert?: Upsert,
): Promise<void> {
  const dialect = dialectOf(trx);
  const q = (name: string) => quote(dialect, name);
  const tail = upsert ? sql.raw(` ${upsertClause(dialect, table, upsert)}`) : sql``;
  await sql`insert into ${sql.raw(q(table))} (${sql.raw(columns.map(q).join(', '))}) ${select}${tail}`.execute(trx);
}

/** Inserts rows of one table, each with the same columns (the first row's), one statement per 500 rows. */
export async function insertRows<T extends keyof DB & string>(
  trx: Tx,
  table: T,
  rows: readonly Insertable<DB[T]>[],
  upsert?: Upsert,
): Promise<void> {
  const first = rows[0];
  if (!first) return;
  const columns = Object.keys(first);
  await insertValues(
    trx,
    table,
    columns,
    rows.map((r) => columns.map((c) => (r as Record<string, unknown>)[c] ?? null)),
    upsert,
  );
}
