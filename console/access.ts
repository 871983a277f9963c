import type { Db } from '../core/db/connection.js';
import type { AccountBackend, AccountView } from './account-backend.js';
import type { User } from './users.js';

/** 404, not 403: a user cannot tell another user's account from one that does not exist. */
export class NotFound extends Error {
  readonly statusCode = 404;
}

export const noAccount = (id: string) => new NotFound(`No account ${id}.`);

/**
 * Who sees which account: an admin every account; a user those `account_owners` gives them.
 * Every route that names an account goes through `account()`, and every query of records takes
 * its account ids from here.
 */
export class Access {
  constructor(
    private readonly db: Db,
    private readonly backend: AccountBackend,
  ) {}

  /** The ids a user owns; undefined for an admin (all). */
  async ownedIds(user: User): Promise<string[] | undefined> {
    if (user.role === 'admin') return undefined;
    const rows = await this.db.selectFrom('account_owners').select('account_id').where('user_name', '=', user.name).execute();
    return rows.map((r) => r.account_id);
  }

  async accounts(user: User): Promise<AccountView[]> {
    const [all, owned] = await Promise.all([this.backend.list(), this.ownedIds(user)]);
    return owned ? all.filter((a) => owned.includes(a.id)) : all;
  }

  async account(user: User, id: string): Promise<AccountView> {
    const owned = await this.ownedIds(user);
    if (owned && !owned.includes(id)) throw noAccount(id);
    const account = await this.backend.get(id);
    if (!account) throw noAccount(id);
    return account;
  }

  /** Whether a log entry of this account may be shown (global entries have none). */
  async logFilter(user: User): Promise<(accountId: string) => boolean> {
    const owned = await this.ownedIds(user);
    return (accountId) => !accountId || !owned || owned.includes(accountId);
  }
}
