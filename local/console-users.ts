import type { Db } from '../core/db/connection.js';
import { generatePassword, Users } from '../console/users.js';

export interface ConsoleLogins {
  /** The admin's password when it was made now (shown once); undefined when the admin existed already. */
  readonly admin?: string;
  /** Demo users made now, each owning the example account of its name, with their passwords. */
  readonly demo: ReadonlyArray<{ name: string; password: string }>;
}

/**
 * The console's first users on a fresh state folder: `admin` (sees everything) and, for each
 * example account, a user of the same name that owns it. Existing users are left as they are
 * (their passwords are not known any more: `ats users passwd NAME` sets a new one).
 */
export async function ensureConsoleUsers(db: Db, exampleAccounts: readonly string[]): Promise<ConsoleLogins> {
  const users = new Users(db);
  let admin: string | undefined;
  if (!(await users.get('admin'))) {
    admin = generatePassword();
    await users.add('admin', 'admin', admin);
  }
  const demo: Array<{ name: string; password: string }> = [];
  for (const id of exampleAccounts) {
    if (await users.get(id)) continue;
    const password = generatePassword();
    await users.add(id, 'user', password);
    await users.own(id, [id]);
    demo.push({ name: id, password });
  }
  return { ...(admin ? { admin } : {}), demo };
}
