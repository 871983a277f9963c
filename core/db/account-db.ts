import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import type pg from 'pg';
import type { Database } from './schema.js';
import type { Db } from './connection.js';

/**
 * One account's view of the database over a pool's shared connections: every connection taken
 * for it first becomes the account's own trader role (`SET ROLE`), so row-level security holds it
 * to that account's rows exactly as a dedicated trader's own login is held. The pool's login
 * (`core/db/pool-role.ts`) is NOINHERIT: a connection that has not switched sees nothing.
 * A hundred accounts share the pool's few connections instead of holding a pool each.
 */
export function accountDb(shared: pg.Pool, role: string): Db {
  const setRole = `set role "${role.replace(/"/g, '""')}"`;
  const pool: PostgresPool = {
    connect: async () => {
      const client = await shared.connect();
      try {
        await client.query(setRole);
      } catch (err) {
        client.release(err instanceof Error ? err : true); // a connection in doubt is closed, not reused
        throw err;
      }
      return client;
    },
    // The shared pool outlives every account: the pool process ends it.
    end: async () => undefined,
  };
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
