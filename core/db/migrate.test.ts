import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../testing/services.js';
import { awaitSchema, migrateToLatest } from './migrate.js';

describe('database migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => t.drop());

  it('apply on an empty database, and a second run changes nothing', async () => {
    const first = await migrateToLatest(t.db);
    expect(first.results?.map((r) => r.status)).toEqual(Array(9).fill('Success'));
    const second = await migrateToLatest(t.db);
    expect(second.results).toEqual([]);
  });

  it('create every contract table with account_id NOT NULL and indexed on private tables', async () => {
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = 'public'`.execute(t.db);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['accounts', 'trading_config', 'orders', 'trades', 'positions', 'account_snapshots', 'recommendations', 'funding_payments']),
    );
    for (const table of ['trading_config', 'orders', 'trades', 'positions', 'account_snapshots', 'funding_payments']) {
      const col = await sql<{ is_nullable: string }>`
        select is_nullable from information_schema.columns where table_name = ${table} and column_name = 'account_id'`.execute(t.db);
      expect(col.rows[0]?.is_nullable, table).toBe('NO');
      const idx = await sql<{ indexdef: string }>`select indexdef from pg_indexes where tablename = ${table}`.execute(t.db);
      expect(
        idx.rows.some((r) => /\(account_id[,)]/.test(r.indexdef)),
        `${table} index`,
      ).toBe(true);
    }
  });

  it('keep one order row when the same client order id is inserted twice', async () => {
    await t.db.insertInto('accounts').values({ id: 'alice', name: 'Alice', exchange: 'sim' }).execute();
    const order = {
      account_id: 'alice',
      client_order_id: 'ats-alice-r1-entry',
      symbol: 'BTCUSDT',
      side: 'buy' as const,
      type: 'market',
      purpose: 'entry' as const,
      quantity: '0.010',
      status: 'NEW',
    };
    for (let i = 0; i < 2; i++) {
      await t.db
        .insertInto('orders')
        .values(order)
        .onConflict((c) => c.columns(['account_id', 'client_order_id']).doNothing())
        .execute();
    }
    // Without the conflict clause the database itself refuses the duplicate.
    await expect(t.db.insertInto('orders').values(order).execute()).rejects.toThrow(/orders_account_client_order_id/);
    const rows = await t.db.selectFrom('orders').selectAll().where('account_id', '=', 'alice').execute();
    expect(rows).toHaveLength(1);
  });

  it('keep one trading_config row per account and key', async () => {
    const row = { account_id: 'alice', config_key: 'leverage', config_value: JSON.stringify(3) };
    await t.db.insertInto('trading_config').values(row).execute();
    await expect(t.db.insertInto('trading_config').values(row).execute()).rejects.toThrow(/trading_config_account_key/);
  });

  it('refuse to delete an account that has records', async () => {
    await expect(t.db.deleteFrom('accounts').where('id', '=', 'alice').execute()).rejects.toThrow(/foreign key/);
  });

  it('refuse a second position with the same key for one account', async () => {
    const pos = { account_id: 'alice', position_key: 'rec-1', symbol: 'ETHUSDT', side: 'long' as const, quantity: 1, entry_price: 3000 };
    await t.db.insertInto('positions').values(pos).execute();
    await expect(t.db.insertInto('positions').values(pos).execute()).rejects.toThrow(/positions_account_key/);
  });
});

describe('awaitSchema (a trader or marketdata starting)', () => {
  it('refuses a database ats has not set up at once, without waiting out the grace', async () => {
    const empty = await createTestDatabase({ migrate: false });
    try {
      const started = Date.now();
      await expect(awaitSchema(empty.db, 30_000)).rejects.toMatchObject({ code: 'ATS_SCHEMA_BEHIND' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await empty.drop();
    }
  });
});
