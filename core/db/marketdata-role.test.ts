import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createTestDatabase, type TestDatabase } from '../../testing/services.js';
import { assertMigrated } from './migrate.js';
import { createDb, type Db } from './connection.js';
import { marketdataRoleName, provisionMarketdataRole } from './marketdata-role.js';
import { PRIVATE_TABLES } from './migrations/0006-row-level-security.js';

const recommendation = (id: string) => ({
  id,
  snapshot_version: '1',
  strategy: 'test',
  symbol: 'BTCUSDT',
  side: 'long' as const,
  entry: '60000',
  stop_loss: '59000',
  take_profit: '62000',
  score: '1',
  reason: 'test',
  bar_time: new Date(),
  expires_at: new Date(),
});

describe("marketdata's Postgres role", () => {
  let d: TestDatabase;
  let md: Db;
  let url: string;

  beforeAll(async () => {
    d = await createTestDatabase();
    await d.db.insertInto('accounts').values({ id: 'alice', name: 'alice', exchange: 'simulator' }).execute();
    url = await provisionMarketdataRole(d.db, d.url);
    md = createDb(url);
  });
  afterAll(async () => {
    await md.destroy();
    await d.drop();
  });

  it('records recommendations, checks the schema, and reads or writes no account data', async () => {
    expect(new URL(url).username).toBe(await marketdataRoleName(d.db));
    await assertMigrated(md);
    await md.insertInto('recommendations').values(recommendation('r1')).execute();
    expect(await d.db.selectFrom('recommendations').select('id').execute()).toEqual([{ id: 'r1' }]);
    for (const table of ['accounts', ...PRIVATE_TABLES, 'account_roles'])
      await expect(sql`select * from ${sql.table(table)}`.execute(md), table).rejects.toThrow(/permission denied/);
    await expect(md.deleteFrom('recommendations').execute()).rejects.toThrow(/permission denied/);
    await expect(sql`create table mine (x int)`.execute(md)).rejects.toThrow(/permission denied/);
  });

  it('gets a new password per provisioning, unless asked to keep it', async () => {
    // The test server trusts every local login, so the stored hash shows the change.
    const hash = async () =>
      (await sql<{ h: string }>`select rolpassword as h from pg_authid where rolname = ${await marketdataRoleName(d.db)}`.execute(d.db)).rows[0]!.h;
    const before = await hash();
    const kept = await provisionMarketdataRole(d.db, d.url, new URL(url).password);
    expect(kept).toBe(url);
    const again = await provisionMarketdataRole(d.db, d.url);
    expect(new URL(again).password).not.toBe(new URL(url).password);
    expect(await hash()).not.toBe(before);
  });
});
