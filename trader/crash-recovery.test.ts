import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishSnapshot } from '../core/recommendations.js';
import { redisKeys } from '../core/redis-contract.js';
import { credentialsDir, spawnAts, type AtsProcess } from '../testing/processes.js';
import pg from 'pg';
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createTestDatabase, createTestRedis, TEST_PG_ADMIN_URL, type TestDatabase, type TestRedis } from '../testing/services.js';
import { startTestSimulator, type TestAccount, type TestSimulator } from '../testing/simulator.js';
import { until } from '../testing/until.js';
import { recommendation, writeConfig } from '../testing/trader.js';

const ROOT = resolve(import.meta.dirname, '..');

interface SimAccountView {
  openAlgoOrders: number;
  trades: number;
  ordersPlaced: number;
  positions: Array<{ positionAmt: string }>;
}

describe('trader killed between entry and protection', () => {
  let t: TestSimulator;
  let r: TestRedis;
  let d: TestDatabase;
  let acct: TestAccount;
  const procs: AtsProcess[] = [];

  beforeAll(async () => {
    // The traders run from dist/ as the image runs them: a restart's timing is the program's, not
    // the TypeScript loader's (on a loaded machine, loading the sources took most of the 10 s).
    if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) execSync('npm run build', { cwd: ROOT, stdio: 'ignore' });
    t = await startTestSimulator();
    r = createTestRedis();
    d = await createTestDatabase();
    acct = t.account(5_000);
    await writeConfig(r, acct.id, { sizing: { mode: 'fixed', usdt: 100 }, leverage: 2 });
  });
  afterEach((ctx) => {
    // A failure shows what the trader processes said.
    if (ctx.task.result?.state === 'fail') for (const p of procs) console.log(p.output.join('').slice(-6000));
  });
  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await r.cleanup();
    await d.drop();
    await t.close();
  });

  const start = (a: TestAccount = acct) => {
    const p = spawnAts(
      ['trader', '--account', a.id, '--credentials-dir', credentialsDir(a.apiKey, a.apiSecret), '--port', '0'],
      {
        ...r.env,
        DATABASE_URL: d.url,
        ATS_EXCHANGE: t.url,
        LOG_LEVEL: 'info',
      },
      { built: true },
    );
    procs.push(p);
    return p;
  };
  const heartbeatState = async () => JSON.parse((await r.redis.get(redisKeys.heartbeat(`trader:${acct.id}`))) ?? '{}').state;
  const view = () => t.admin<SimAccountView>('GET', `/accounts/${acct.id}`);

  it('does not enter twice after a restart, protects the position and completes the records', { timeout: 120_000 }, async () => {
    // Protective orders fail for now: the entry goes through, its protection does not.
    await t.admin('POST', '/faults', { fail5xx: { count: 10_000, status: 503, pathPrefix: '/fapi/v1/algoOrder' } });
    const first = start();
    await until(async () => (await heartbeatState()) === 'active', 30_000);
    const mark = (await t.admin<{ markPrice: number }>('GET', '/price?symbol=BNBUSDT')).markPrice;
    const rec = recommendation({ symbol: 'BNBUSDT', entry: mark, stopLoss: Math.round(mark * 0.95), takeProfit: Math.round(mark * 1.08) });
    await publishSnapshot(r.redis, [rec]);
    await until(async () => (await view()).positions.length === 1, 15_000);
    expect((await view()).openAlgoOrders).toBe(0);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    await t.admin('DELETE', '/faults');
    const second = start();
    await until(async () => (await view()).openAlgoOrders === 2, 30_000);

    const after = await view();
    expect(after.trades).toBe(1);
    expect(after.positions).toHaveLength(1);
    expect(Number(after.positions[0]!.positionAmt)).toBeCloseTo(Math.floor((100 * 2) / mark / 0.01) * 0.01, 6);
    await until(async () => (await d.db.selectFrom('orders').select('id').where('account_id', '=', acct.id).execute()).length === 3, 15_000);
    const orders = await d.db.selectFrom('orders').selectAll().where('account_id', '=', acct.id).orderBy('purpose').execute();
    expect(orders.map((o) => [o.purpose, o.status, o.recommendation_id])).toEqual([
      ['entry', 'FILLED', rec.id],
      ['stop_loss', 'NEW', rec.id],
      ['take_profit', 'NEW', rec.id],
    ]);
    expect(Number(orders.find((o) => o.purpose === 'stop_loss')!.trigger_price)).toBe(rec.stopLoss);
    await until(async () => (await d.db.selectFrom('positions').select('id').where('account_id', '=', acct.id).execute()).length === 1);
    const position = await d.db.selectFrom('positions').selectAll().where('account_id', '=', acct.id).executeTakeFirstOrThrow();
    expect(position).toMatchObject({ status: 'open', symbol: 'BNBUSDT', recommendation_id: rec.id });
    await until(async () => (await d.db.selectFrom('trades').select('id').where('account_id', '=', acct.id).execute()).length === 1);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // SIGTERM leaves the protection on the exchange.
    expect((await view()).openAlgoOrders).toBe(2);
  });

  /** A new account whose trader entered `symbol` and was killed before the stop-loss went in (the exchange refused it until now). */
  const killedUnprotected = async (symbol: string) => {
    await publishSnapshot(r.redis, []);
    const account = t.account(5_000);
    await writeConfig(r, account.id, { sizing: { mode: 'fixed', usdt: 100 }, leverage: 2 });
    const accountView = () => t.admin<SimAccountView>('GET', `/accounts/${account.id}`);
    await t.admin('POST', '/faults', { fail5xx: { count: 10_000, status: 503, pathPrefix: '/fapi/v1/algoOrder' } });
    const first = start(account);
    await until(async () => JSON.parse((await r.redis.get(redisKeys.heartbeat(`trader:${account.id}`))) ?? '{}').state === 'active', 30_000);
    const mark = (await t.admin<{ markPrice: number }>('GET', `/price?symbol=${symbol}`)).markPrice;
    await publishSnapshot(r.redis, [recommendation({ symbol, entry: mark, stopLoss: mark * 0.95, takeProfit: mark * 1.08 })]);
    await until(async () => (await accountView()).positions.length === 1, 15_000);
    first.child.kill('SIGKILL');
    await first.exited;
    await t.admin('DELETE', '/faults');
    return { account, view: accountView };
  };

  it(
    'restarted while Postgres refuses connections, protects the position at once and writes the records when Postgres is back',
    { timeout: 120_000 },
    async () => {
      const { account: bob, view: bobView } = await killedUnprotected('SOLUSDT');

      // Postgres refuses the trader's database, as a restart or failover of Postgres would.
      const refuse = async (off: boolean) => {
        const name = new URL(d.url).pathname.slice(1);
        const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
        await admin.connect();
        await admin.query(`alter database "${name}" allow_connections ${off ? 'false' : 'true'}`);
        if (off) await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
        await admin.end();
      };
      await refuse(true);
      try {
        const started = Date.now();
        const second = start(bob);
        await until(async () => (await bobView()).openAlgoOrders === 2, 10_000, 100);
        console.log(`protected ${Date.now() - started} ms after the start, with Postgres refusing connections`);
        expect(Date.now() - started).toBeLessThan(8_000);
        await new Promise((res) => setTimeout(res, 2_000));
        expect(second.child.exitCode).toBeNull();
      } finally {
        await refuse(false);
      }
      const rows = async () => (await d.db.selectFrom('orders').select('purpose').where('account_id', '=', bob.id).execute()).map((o) => o.purpose).sort();
      await until(async () => (await rows()).length === 3, 30_000);
      expect(await rows()).toEqual(['entry', 'stop_loss', 'take_profit']);
    },
  );

  it(
    'restarted with an unprotected position, places its stop-loss before anything it can do without (the account read fails here)',
    { timeout: 120_000 },
    async () => {
      const { account: carol, view: carolView } = await killedUnprotected('XRPUSDT');
      // The account (balance) read fails from now on; the stop-loss needs only positions and open orders.
      await t.admin('POST', '/faults', { fail5xx: { count: 10_000, status: 503, pathPrefix: '/fapi/v3/account' } });
      try {
        start(carol);
        await until(async () => (await carolView()).openAlgoOrders === 2, 10_000, 100);
      } finally {
        await t.admin('DELETE', '/faults');
      }
    },
  );
});
