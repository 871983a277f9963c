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
import * as consoleTables from './migrations/0008-console.js';
import * as consoleRole from './migrations/0009-console-role.js';

/** Listed statically so the same code runs from TypeScript sources and from `dist/`. */
const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-snapshot-unique': snapshotUnique,
  '0003-position-key': positionKey,
  '0004-funding-payments': fundingPayments,
  '0005-one-key-one-account': oneKeyOneAccount,
  '0006-row-level-security': rowLevelSecurity,
  '0007-marketdata-role': marketdataRole,
  '0008-console': consoleTables,
  '0009-console-role': consoleRole,
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
    // No migrations table, or no right to read it: a database ats has not set up.
    const notSetUp = ['42P01', '42501'].includes((err as { code?: string }).code ?? '');
    throw new AtsError(
      notSetUp ? 'ATS_SCHEMA_BEHIND' : 'ATS_DATABASE_UNREACHABLE',
      notSetUp
        ? `Cannot read the database's migrations (${describe(err)}): run \`ats migrate\` (or start the operator) first.`
        : `Cannot reach the database (${describe(err)}): check DATABASE_URL and that Postgres runs.`,
      { cause: err },
    );
  }
  const missing = Object.keys(migrations).filter((name) => !applied.includes(name));
  if (missing.length > 0)
    throw new AtsError('ATS_SCHEMA_BEHIND', `The database lacks migrations ${missing.join(', ')}: run \`ats migrate\` (or start the operator) first.`);
}

/**
 * `assertMigrated` for a process that must not wait on Postgres to start working (a trader
 * protecting its open positions, marketdata keeping mark prices fresh): it keeps trying while
 * the database is unreachable, for up to `graceMs`. Rejects at once when the schema is behind,
 * and when the database is still unreachable after `graceMs`: the process then exits and its
 * supervisor starts it again.
 */
export async function awaitSchema(db: Db, graceMs: number, retryMs = 1_000): Promise<void> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    try {
      return await assertMigrated(db);
    } catch (err) {
      if (!(err instanceof AtsError) || err.code !== 'ATS_DATABASE_UNREACHABLE' || Date.now() + retryMs > deadline) throw err;
      await new Promise((r) => setTimeout(r, retryMs));
    }
  }
}

/** How long a trader or marketdata works on while Postgres is unreachable at its start before it exits (and is restarted). */
export const START_DATABASE_GRACE_MS = 15_000;

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));
