import { Migrator, type Migration, type MigrationResultSet } from 'kysely';
import { AtsError } from '../errors.js';
import type { Db } from './connection.js';
import * as initial from './migrations/0001-initial.js';
import * as snapshotUnique from './migrations/0002-snapshot-unique.js';
import * as positionKey from './migrations/0003-position-key.js';
import * as fundingPayments from './migrations/0004-funding-payments.js';
import * as oneKeyOneAccount from './migrations/0005-one-key-one-account.js';

/** Listed statically so the same code runs from TypeScript sources and from `dist/`. */
const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-snapshot-unique': snapshotUnique,
  '0003-position-key': positionKey,
  '0004-funding-payments': fundingPayments,
  '0005-one-key-one-account': oneKeyOneAccount,
};

/** Applies every pending migration; a second run changes nothing. */
export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'ats_migrations',
    migrationLockTableName: 'ats_migrations_lock',
  });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new AtsError('ATS_MIGRATION_FAILED', `Database migration ${failed} failed: ${describe(result.error)}`, {
      cause: result.error,
    });
  }
  return result;
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));
