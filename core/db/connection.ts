import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;

/** A kysely instance over a small pg pool (a 2-core node runs many processes). */
export function createDb(databaseUrl: string, poolSize = 4): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool: createPgPool(databaseUrl, poolSize) }) });
}

/** A pg pool that survives Postgres going away (a trader pool shares one among its accounts). */
export function createPgPool(databaseUrl: string, poolSize: number): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize });
  // An idle client losing its connection (Postgres restart) must not crash the process: the pool
  // drops it, and the next query opens a new one or fails where its caller handles the failure.
  pool.on('error', () => undefined);
  // A client in use when Postgres goes away fails its query (the caller handles that) and also
  // emits 'error'; unheard, that event would crash the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}
