// A refused line's or file's reason was kept as English text only. Its code and values are kept beside it, so that
// the stores' people are told it in Portuguese (src/domain/reasons.ts); records written before keep their text.
import type { Kysely } from 'kysely';
import type { Dialect } from '../connect.ts';

export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  for (const table of ['ingest_files', 'ingest_rejections']) {
    await db.schema.alterTable(table).addColumn('reason_code', 'varchar(40)').execute();
    await db.schema.alterTable(table).addColumn('reason_params', 'text').execute();
  }
}
