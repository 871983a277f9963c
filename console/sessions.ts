import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../core/db/connection.js';
import type { User } from './users.js';

/** The session cookie: HttpOnly, SameSite=Strict, Secure behind HTTPS. */
export const SESSION_COOKIE = 'ats_session';
export const SESSION_HOURS = 12;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Console sessions in Postgres, so that any console replica knows them and a restart logs
 * nobody out. The cookie holds a random token; the table holds only its hash.
 */
export class Sessions {
  constructor(private readonly db: Db) {}

  async open(user: User): Promise<{ token: string; expiresAt: Date }> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + SESSION_HOURS * 3_600_000);
    await this.db
      .insertInto('sessions')
      .values({ token_hash: hashToken(token), user_name: user.name, expires_at: expiresAt })
      .execute();
    // Expired sessions go when a new one opens: the table stays small without a timer.
    await this.db.deleteFrom('sessions').where('expires_at', '<', new Date()).execute();
    return { token, expiresAt };
  }

  async user(token: string | undefined): Promise<User | undefined> {
    if (!token) return undefined;
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.name', 'sessions.user_name')
      .select(['users.name', 'users.role'])
      .where('sessions.token_hash', '=', hashToken(token))
      .where('sessions.expires_at', '>', new Date())
      .executeTakeFirst();
    return row ? { name: row.name, role: row.role } : undefined;
  }

  async close(token: string | undefined): Promise<void> {
    if (token) await this.db.deleteFrom('sessions').where('token_hash', '=', hashToken(token)).execute();
  }
}
