import { Command, Option } from 'commander';
import { createDb } from '../core/db/connection.js';
import { migrateToLatest } from '../core/db/migrate.js';
import { AtsError } from '../core/errors.js';
import { table } from '../core/table.js';
import { generatePassword, USER_ROLES, Users } from '../console/users.js';
import { connections } from './connections.js';

/** The database of the running system (DATABASE_URL, else the running `ats up`'s). */
async function withUsers<T>(fn: (users: Users) => Promise<T>): Promise<T> {
  const { databaseUrl } = connections();
  if (!databaseUrl) throw new AtsError('ATS_NOT_RUNNING', 'No database: set DATABASE_URL, or run this beside a running `ats up`.');
  const db = createDb(databaseUrl, 1);
  try {
    await migrateToLatest(db);
    return await fn(new Users(db));
  } finally {
    await db.destroy();
  }
}

/** A password from standard input (one line), or a generated one shown once. */
async function passwordFrom(opts: { passwordStdin?: boolean }): Promise<{ password: string; generated: boolean }> {
  if (!opts.passwordStdin) return { password: generatePassword(), generated: true };
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return {
    password: Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, ''),
    generated: false,
  };
}

const accountList = (value: string) =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export const usersCommand = () => {
  const users = new Command('users').description("the web console's users: admins see every account, users only the accounts they own");
  users
    .command('add <name>')
    .description('add a user (the password is generated and shown once, or read from standard input)')
    .addOption(new Option('--role <role>', 'admin or user').choices(USER_ROLES).default('user'))
    .option('--accounts <ids>', 'accounts the user owns, comma-separated', accountList, [])
    .option('--password-stdin', 'read the password from standard input (at least 12 characters)')
    .action(async (name: string, opts: { role: 'admin' | 'user'; accounts: string[]; passwordStdin?: boolean }) => {
      const { password, generated } = await passwordFrom(opts);
      await withUsers(async (u) => {
        await u.add(name, opts.role, password);
        await u.own(name, opts.accounts);
      });
      console.log(`added ${opts.role} ${name}${opts.accounts.length ? ` owning ${opts.accounts.join(', ')}` : ''}`);
      if (generated) console.log(`password (shown once): ${password}`);
    });
  users
    .command('list')
    .description('list the users, their roles and the accounts they own')
    .action(async () => {
      const rows = await withUsers((u) => u.list());
      if (rows.length === 0) return void console.log('No console users: add one with `ats users add NAME --role admin`.');
      console.log(
        table(
          ['USER', 'ROLE', 'ACCOUNTS'],
          rows.map((r) => [r.name, r.role, r.role === 'admin' ? '(all)' : r.accounts.join(', ') || '-']),
        ),
      );
    });
  users
    .command('remove <name>')
    .description('remove a user (their sessions end; the accounts stay)')
    .action(async (name: string) => {
      await withUsers((u) => u.remove(name));
      console.log(`removed ${name}`);
    });
  users
    .command('passwd <name>')
    .description("set a user's password (generated and shown once, or from standard input); their sessions end")
    .option('--password-stdin', 'read the password from standard input')
    .action(async (name: string, opts: { passwordStdin?: boolean }) => {
      const { password, generated } = await passwordFrom(opts);
      await withUsers((u) => u.setPassword(name, password));
      console.log(`password of ${name} changed`);
      if (generated) console.log(`password (shown once): ${password}`);
    });
  users
    .command('own <name> <accounts>')
    .description('give a user accounts (comma-separated)')
    .action(async (name: string, accounts: string) => {
      await withUsers((u) => u.own(name, accountList(accounts)));
      console.log(`${name} owns ${accountList(accounts).join(', ')}`);
    });
  users
    .command('disown <name> <accounts>')
    .description('take accounts (comma-separated) from a user')
    .action(async (name: string, accounts: string) => {
      await withUsers((u) => u.disown(name, accountList(accounts)));
      console.log(`${name} no longer owns ${accountList(accounts).join(', ')}`);
    });
  return users;
};
