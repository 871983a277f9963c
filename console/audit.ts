import type { Db } from '../core/db/connection.js';
import type { User } from './users.js';

export interface AuditEntry {
  readonly action: string;
  readonly accountId?: string;
  /** What was asked, without key material (a key is recorded by its fingerprint). */
  readonly detail?: Record<string, unknown>;
  readonly outcome: 'ok' | 'refused' | 'failed';
}

/** Every change made through the console: who, what, when and how it ended. */
export class AuditLog {
  constructor(private readonly db: Db) {}

  async write(user: User, entry: AuditEntry): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({
        user_name: user.name,
        action: entry.action,
        account_id: entry.accountId ?? null,
        detail: JSON.stringify(entry.detail ?? {}),
        outcome: entry.outcome,
      })
      .execute();
  }

  recent(limit: number) {
    return this.db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit).execute();
  }
}
