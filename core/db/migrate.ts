import { Migrator, type Migration, type MigrationResultSet } from 'kysely';
import { AtsError } from '../errors.js';
import type { Db } from './connection.js';
import * as initial from './migrations/0001-initial.js';
import * as snapshotUnique from './migrations/0002-snapshot-unique.js';
import * as positionKey from './migrations/0003-position-key.js';
import * as fundingPayments from './migrations/0004-funding-payments.js';
import * as oneKeyOneAccount from './migrations/0005-one-key-one-account.js';
import * as rowLevelSecurity from './migrations/0006-row-level-security.js';
import * as marketdataRole from './migrations/0007-marketdata-role.js';

/** Listed statically so the same code runs from TypeScript sources and from `dist/`. */
const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-snapshot-unique': snapshotUnique,
  '0003-position-key': positionKey,
  '0004-funding-payments': fundingPayments,
  '0005-one-key-one-account': oneKeyOneAccount,
  '0006-row-level-security': rowLevelSecurity,
  '0007-marketdata-role': marketdataRole,
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

/**
 * Fails unless every migration this code knows has been applied: a process that must not change
 * the schema (a trader, with its own role) checks instead of migrating.
 */
export async function assertMigrated(db: Db): Promise<void> {
  let applied: string[];
  try {
    applied = (
      await db
        .selectFrom('ats_migrations' as never)
        .select('name' as never)
        .execute()
    ).map((r) => (r as { name: string }).name);
  } catch (err) {
    throw new AtsError('ATS_SCHEMA_BEHIND', `Cannot read the database's migrations (${describe(err)}): run \`ats migrate\` (or start the operator) first.`, {
      cause: err,
    });
  }
  const missing = Object.keys(migrations).filter((name) => !applied.includes(name));
  if (missing.length > 0)
    throw new AtsError('ATS_SCHEMA_BEHIND', `The database lacks migrations ${missing.join(', ')}: run \`ats migrate\` (or start the operator) first.`);
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));
