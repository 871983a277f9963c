import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filledOrderRow } from '../../testing/rows.js';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../testing/services.js';
import { createDb, type Db } from './connection.js';
import { PRIVATE_TABLES } from './migrations/0006-row-level-security.js';
import { dropTraderRole, provisionTraderRole, traderRoleName } from './trader-role.js';

const order = filledOrderRow;

describe("a trader's Postgres role", () => {
  let d: TestDatabase;
  let alice: Db;
  let aliceUrl: string;

  beforeAll(async () => {
    d = await createTestDatabase();
    for (const id of ['alice', 'bob'])
      await d.db
        .insertInto('accounts')
        .values({ id, name: id, exchange: 'simulator', key_fingerprint: null, last_error: null, updated_at: new Date().toISOString() })
        .execute();
    await d.db
      .insertInto('orders')
      .values([order('alice', 'a-1'), order('bob', 'b-1')])
      .execute();
    aliceUrl = await provisionTraderRole(d.db, d.url, 'alice');
    await provisionTraderRole(d.db, d.url, 'bob');
    alice = createDb(aliceUrl);
  });
  afterAll(async () => {
    await alice.destroy();
    await d.drop();
  });

  it('sees and changes only its own account: rows of another are invisible and cannot be written', async () => {
    expect(new URL(aliceUrl).username).toBe(await traderRoleName(d.db, 'alice'));
    expect((await alice.selectFrom('orders').select('client_order_id').execute()).map((o) => o.client_order_id)).toEqual(['a-1']);
    expect((await alice.selectFrom('accounts').select('id').execute()).map((a) => a.id)).toEqual(['alice']);
    expect(await sql`select role_name from account_roles`.execute(alice).then((r) => r.rows.length)).toBe(1);

    // Changing bob's row finds nothing; writing a row for bob is refused by the policy.
    const updated = await alice.updateTable('orders').set({ status: 'CANCELED' }).where('account_id', '=', 'bob').executeTakeFirst();
    expect(updated.numUpdatedRows).toBe(0n);
    await expect(alice.insertInto('orders').values(order('bob', 'forged')).execute()).rejects.toThrow(/row-level security/);
    await expect(alice.updateTable('orders').set({ account_id: 'bob' }).where('client_order_id', '=', 'a-1').execute()).rejects.toThrow(/row-level security/);
    await expect(alice.deleteFrom('orders').execute()).rejects.toThrow(/permission denied/);
    const bobs = await d.db.selectFrom('orders').selectAll().where('account_id', '=', 'bob').execute();
    expect(bobs.map((o) => [o.client_order_id, o.status])).toEqual([['b-1', 'FILLED']]);

    // Its own rows it writes as a trader does.
    await alice.insertInto('orders').values(order('alice', 'a-2')).execute();
    await alice.updateTable('orders').set({ status: 'CANCELED' }).where('client_order_id', '=', 'a-2').execute();
  });

  it('cannot map itself to another account, make tables or roles, or read the migrations it must not change', async () => {
    await expect(sql`insert into account_roles values (current_user, 'bob')`.execute(alice)).rejects.toThrow(/permission denied/);
    await expect(sql`update account_roles set account_id = 'bob'`.execute(alice)).rejects.toThrow(/permission denied/);
    await expect(sql`create table stolen (x int)`.execute(alice)).rejects.toThrow(/permission denied/);
    await expect(sql`create role mallory`.execute(alice)).rejects.toThrow(/permission denied/);
    await expect(sql`alter table orders disable row level security`.execute(alice)).rejects.toThrow(/must be owner/);
    await expect(sql`delete from ats_migrations`.execute(alice)).rejects.toThrow(/permission denied/);
    for (const table of PRIVATE_TABLES) {
      const { rows } = await sql<{ on: boolean }>`select relrowsecurity as on from pg_class where relname = ${table}`.execute(d.db);
      expect(rows[0]?.on, table).toBe(true);
    }
  });

  it('a new password per provisioning; a dropped role can no longer log in', async () => {
    const again = await provisionTraderRole(d.db, d.url, 'bob');
    const bob = createDb(again);
    expect((await bob.selectFrom('orders').select('client_order_id').execute()).map((o) => o.client_order_id)).toEqual(['b-1']);
    await bob.destroy();
    await dropTraderRole(d.db, 'bob');
    const gone = createDb(again);
    await expect(gone.selectFrom('orders').select('id').execute()).rejects.toThrow(/does not exist/);
    await gone.destroy();
  });
});
