import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filledOrderRow } from '../../testing/rows.js';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../testing/services.js';
import { accountDb } from './account-db.js';
import { createDb, createPgPool, type Db } from './connection.js';
import { poolRoleName, provisionPoolRole } from './pool-role.js';
import { provisionTraderRole, traderRoleName } from './trader-role.js';
import type pg from 'pg';

const order = filledOrderRow;

describe("a trader pool's Postgres role", () => {
  let d: TestDatabase;
  let url: string;
  let shared: pg.Pool;
  let plain: Db;

  beforeAll(async () => {
    d = await createTestDatabase();
    for (const id of ['alice', 'bob', 'carol'])
      await d.db
        .insertInto('accounts')
        .values({ id, name: id, exchange: 'simulator', key_fingerprint: null, last_error: null, updated_at: new Date().toISOString() })
        .execute();
    await d.db
      .insertInto('orders')
      .values([order('alice', 'a-1'), order('bob', 'b-1'), order('carol', 'c-1')])
      .execute();
    // carol trades in a process of her own.
    await provisionTraderRole(d.db, d.url, 'carol');
    url = await provisionPoolRole(d.db, d.url, 'pool-1', ['alice', 'bob']);
    shared = createPgPool(url, 2);
    plain = createDb(url, 1);
  });
  afterAll(async () => {
    await plain.destroy();
    await shared.end();
    await d.drop();
  });

  it("runs each account's work as that account's role over shared connections, and sees nothing as itself", async () => {
    expect(new URL(url).username).toBe(await poolRoleName(d.db, 'pool-1'));
    const alice = accountDb(shared, await traderRoleName(d.db, 'alice'));
    const bob = accountDb(shared, await traderRoleName(d.db, 'bob'));
    // Interleaved on two shared connections, each query sees its own account only.
    const seen = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? bob : alice).selectFrom('orders').select('client_order_id').execute()));
    seen.forEach((rows, i) => expect(rows.map((r) => r.client_order_id)).toEqual([i % 2 ? 'b-1' : 'a-1']));
    await expect(alice.insertInto('orders').values(order('bob', 'forged')).execute()).rejects.toThrow(/row-level security/);
    await alice.insertInto('orders').values(order('alice', 'a-2')).execute();
    // The login on its own (NOINHERIT) may read no table at all.
    await expect(plain.selectFrom('orders').select('client_order_id').execute()).rejects.toThrow(/permission denied/);
    // It cannot become an account outside its pool.
    const carol = accountDb(shared, await traderRoleName(d.db, 'carol'));
    await expect(carol.selectFrom('orders').select('client_order_id').execute()).rejects.toThrow(/permission denied to set role/);
  });

  it('follows the accounts it holds: one moved out can no longer be reached, one moved in can', async () => {
    const again = await provisionPoolRole(d.db, d.url, 'pool-1', ['bob', 'carol'], new URL(url).password);
    expect(again).toBe(url);
    const fresh = createPgPool(url, 1);
    try {
      const alice = accountDb(fresh, await traderRoleName(d.db, 'alice'));
      const carol = accountDb(fresh, await traderRoleName(d.db, 'carol'));
      await expect(alice.selectFrom('orders').select('client_order_id').execute()).rejects.toThrow(/permission denied to set role/);
      expect((await carol.selectFrom('orders').select('client_order_id').execute()).map((r) => r.client_order_id)).toEqual(['c-1']);
      const members = await sql<{
        n: string;
      }>`select count(*) as n from pg_auth_members m join pg_roles u on u.oid = m.member where u.rolname = ${new URL(url).username}`.execute(d.db);
      expect(Number(members.rows[0]!.n)).toBe(2);
    } finally {
      await fresh.end();
    }
  });
});
