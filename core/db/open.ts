import type { Env } from '../env.js';
import { createDb, type Db } from './connection.js';
import { startEmbeddedPostgres } from './embedded.js';

export interface OpenDatabase {
  readonly db: Db;
  readonly url: string;
  /** Closes the pool and, for the embedded server, stops it. */
  close(): Promise<void>;
}

/** `DATABASE_URL` when set; otherwise the embedded Postgres under the state folder. */
export async function openDatabase(env: Pick<Env, 'DATABASE_URL' | 'ATS_STATE_DIR'>, log?: (message: string) => void): Promise<OpenDatabase> {
  const embedded = env.DATABASE_URL ? undefined : await startEmbeddedPostgres(env.ATS_STATE_DIR, log);
  const url = env.DATABASE_URL ?? embedded!.url;
  const db = createDb(url);
  return {
    db,
    url,
    close: async () => {
      await db.destroy();
      await embedded?.stop();
    },
  };
}
