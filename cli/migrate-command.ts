import { Command } from 'commander';
import { loadEnv } from '../core/env.js';
import { openDatabase } from '../core/db/open.js';
import { migrateToLatest } from '../core/db/migrate.js';

export const migrateCommand = () =>
  new Command('migrate').description('apply database migrations (DATABASE_URL, or the embedded Postgres); safe to run again').action(async () => {
    const env = loadEnv();
    const database = await openDatabase(env);
    try {
      const result = await migrateToLatest(database.db);
      const applied = result.results?.filter((r) => r.status === 'Success').map((r) => r.migrationName) ?? [];
      console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'database is up to date');
    } finally {
      await database.close();
    }
  });
