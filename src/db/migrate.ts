// Migrations run at every start and by `shopflow migrate`. Each migration receives the dialect, so one file
// describes the schema for SQLite and MySQL; Kysely's migrator records what ran and locks against a second runner.
import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import { ShopflowError } from '../errors.ts';
import type { Database, Dialect } from './connect.ts';
import * as m001 from './migrations/001-initial.ts';
import * as m002 from './migrations/002-chain-rollups.ts';
import * as m003 from './migrations/003-mysql-product-first-keys.ts';
import * as m004 from './migrations/004-reason-codes.ts';

type Step = { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> };
const steps: Record<string, Step> = {
  '001-initial': m001,
  '002-chain-rollups': m002,
  '003-mysql-product-first-keys': m003,
  '004-reason-codes': m004,
};

class Provider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(
      Object.entries(steps).map(([name, s]) => [name, { up: (db: Kysely<unknown>) => s.up(db, this.dialect) }]),
    );
  }
}

export async function migrate(database: Database): Promise<string[]> {
  const migrator = new Migrator({ db: database.db, provider: new Provider(database.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new ShopflowError('unavailable', `database migration ${failed} failed: ${String(error)}`, [], {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
