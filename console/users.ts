import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../core/db/connection.js';
import type { UserRole } from '../core/db/schema.js';
import { AtsError } from '../core/errors.js';

export const USER_ROLES = ['admin', 'user'] as const satisfies readonly UserRole[];
export const userNameSchema = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9._]{0,62}[a-z0-9])?$/, 'a user name is lowercase letters, digits, dots, dashes or underscores (at most 64)');
export const passwordSchema = z.string().min(12, 'a password has at least 12 characters').max(256, 'a password has at most 256 characters');

export interface User {
  readonly name: string;
  readonly role: UserRole;
}

/** A password nobody typed: 24 characters from 18 random bytes. */
export const generatePassword = () => randomBytes(18).toString('base64url');

/**
 * Argon2id with the library's defaults (19 MiB, 2 passes: OWASP's recommendation): the
 * memory-hard function @node-rs/argon2 implements in Rust, prebuilt for every platform (no
 * compiler needed at install). Loaded on first use: every `ats` process (a trader too) loads this
 * module through the CLI, and only the console and `ats users` hash.
 */
const argon2 = () => import('@node-rs/argon2');
const hashPassword = async (password: string) => (await argon2()).hash(passwordSchema.parse(password));

/** A hash to verify against when the user does not exist, so that a missing user takes as long as a wrong password. */
let nobody: Promise<string> | undefined;
const nobodyHash = () => (nobody ??= hashPassword(generatePassword()));

/** The console's users: who they are, their role and what they own. Passwords only as hashes. */
export class Users {
  constructor(private readonly db: Db) {}

  async add(name: string, role: UserRole, password: string): Promise<User> {
    const checkedName = checked(userNameSchema, name, 'user name');
    checked(passwordSchema, password, 'password');
    const existing = await this.get(checkedName);
    if (existing) throw new AtsError('ATS_BAD_OPTION', `User ${checkedName} exists already: change the password with \`ats users passwd ${checkedName}\`.`);
    await this.db
      .insertInto('users')
      .values({ name: checkedName, role, password_hash: await hashPassword(password) })
      .execute();
    return { name: checkedName, role };
  }

  async get(name: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').select(['name', 'role']).where('name', '=', name).executeTakeFirst();
    return row ? { name: row.name, role: row.role } : undefined;
  }

  async list(): Promise<Array<User & { accounts: string[] }>> {
    const rows = await this.db.selectFrom('users').select(['name', 'role']).orderBy('name').execute();
    const owned = await this.db.selectFrom('account_owners').select(['user_name', 'account_id']).orderBy('account_id').execute();
    return rows.map((r) => ({ name: r.name, role: r.role, accounts: owned.filter((o) => o.user_name === r.name).map((o) => o.account_id) }));
  }

  /** The user, when the password is theirs; the same time spent either way. */
  async authenticate(name: string, password: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').select(['name', 'role', 'password_hash']).where('name', '=', name).executeTakeFirst();
    const ok = await (await argon2()).verify(row?.password_hash ?? (await nobodyHash()), password).catch(() => false);
    return row && ok ? { name: row.name, role: row.role } : undefined;
  }

  async setPassword(name: string, password: string): Promise<void> {
    checked(passwordSchema, password, 'password');
    const result = await this.db
      .updateTable('users')
      .set({ password_hash: await hashPassword(password), updated_at: new Date() })
      .where('name', '=', name)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw unknownUser(name);
    // A new password ends every open session.
    await this.db.deleteFrom('sessions').where('user_name', '=', name).execute();
  }

  async remove(name: string): Promise<void> {
    const result = await this.db.deleteFrom('users').where('name', '=', name).executeTakeFirst();
    if (result.numDeletedRows === 0n) throw unknownUser(name);
  }

  async own(name: string, accountIds: readonly string[]): Promise<void> {
    if (!(await this.get(name))) throw unknownUser(name);
    for (const accountId of accountIds) {
      await this.db
        .insertInto('account_owners')
        .values({ account_id: accountId, user_name: name })
        .onConflict((c) => c.doNothing())
        .execute();
    }
  }

  /**
   * A new account's one owner. Ownership left from an earlier account of the same id (deleted
   * since: records are kept, ownership rows too) goes, so its old owner does not see the new one.
   */
  async soleOwner(name: string, accountId: string): Promise<void> {
    if (!(await this.get(name))) throw unknownUser(name);
    await this.db.transaction().execute(async (tx) => {
      await tx.deleteFrom('account_owners').where('account_id', '=', accountId).execute();
      await tx.insertInto('account_owners').values({ account_id: accountId, user_name: name }).execute();
    });
  }

  async disown(name: string, accountIds: readonly string[]): Promise<void> {
    if (accountIds.length === 0) return;
    await this.db.deleteFrom('account_owners').where('user_name', '=', name).where('account_id', 'in', accountIds).execute();
  }
}

/**
 * The first admin of a new installation (the chart hands its password over in
 * ATS_CONSOLE_ADMIN_PASSWORD): made when no admin exists, never changed afterwards.
 */
export async function ensureFirstAdmin(db: Db, password: string): Promise<boolean> {
  const admins = await db.selectFrom('users').select('name').where('role', '=', 'admin').limit(1).execute();
  if (admins.length > 0) return false;
  await new Users(db).add('admin', 'admin', password);
  return true;
}

const unknownUser = (name: string) => new AtsError('ATS_UNKNOWN_USER', `No console user ${name}: list them with \`ats users list\`.`);

function checked<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AtsError('ATS_BAD_OPTION', `Invalid ${what}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}
