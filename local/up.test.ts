import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { NODE_FLAGS, POOL_NODE_FLAGS, TRADER_NODE_FLAGS } from '../core/node-flags.js';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../core/db/embedded.js';
import { spawnAts, type AtsProcess } from '../testing/processes.js';
import { createTestDatabase, createTestRedis, type TestDatabase, type TestRedis } from '../testing/services.js';
import { tempDir } from '../testing/temp.js';
import { until } from '../testing/until.js';
import { readStatuses } from '../cli/inspect-commands.js';
import { decimal } from '../core/decimal.js';
import { readRuntimeFile } from '../core/runtime-file.js';
import { recordedLedger } from '../testing/trader.js';
import { DEFAULT_UP } from '../cli/up-command.js';
import { sql } from 'kysely';
import { marketdataRoleName } from '../core/db/marketdata-role.js';

describe('ats up', () => {
  let r: TestRedis;
  let d: TestDatabase;
  let up: AtsProcess;
  let state: string;

  beforeAll(async () => {
    r = createTestRedis();
    d = await createTestDatabase({ migrate: false });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.log(up?.output.join('').slice(-3000));
  });
  afterAll(async () => {
    // Its children stop by themselves once it is gone (ATS_PARENT_PID).
    up?.child.kill('SIGKILL');
    await r.cleanup();
    await d.drop();
  });

  it(
    'brings every example account and a generated demo account to Running, trades within minutes, takes an account added while it runs, and stops cleanly on Ctrl-C',
    { timeout: 300_000 },
    async () => {
      state = tempDir('ats-up');
      const accounts = join(state, 'accounts');
      cpSync('examples', accounts, { recursive: true });
      up = spawnAts(['up', '--accounts', accounts, '--demo-accounts', '1', '--sim-port', String(await freePort()), '--console-port', '0'], {
        ...r.env,
        DATABASE_URL: d.url,
        ATS_STATE_DIR: state,
      });
      await until(
        async () => {
          const statuses = await readStatuses(r.redis);
          return statuses.length === 4 && statuses.every((s) => s.phase === 'Running');
        },
        90_000,
        500,
      );
      expect(up.output.join('')).toContain('ats is up.');
      expect(up.output.join('')).toMatch(/4 account\(s\) from .*: alice, bob, carol; 1 demo account\(s\) demo-0001 \(manifests in /);

      // A manifest dropped in while it runs gets a demo key and a simulator account, and trades.
      writeFileSync(join(accounts, 'dave.yaml'), DAVE);
      const added = Date.now();
      await until(async () => (await readStatuses(r.redis)).some((s) => s.name === 'dave' && s.phase === 'Running'), 30_000, 500);
      await until(async () => (await d.db.selectFrom('orders').select('id').where('account_id', '=', 'dave').execute()).length > 0, 120_000, 1_000);
      console.log(`dave's first order ${Math.round((Date.now() - added) / 1000)} s after its manifest was added`);
      expect(up.output.join('')).toMatch(/account {5}dave added: a demo key and 10000 USDT on the simulator/);

      // The live feed in the terminal: where each process's metrics are, and the entries.
      await until(async () => /\d\d:\d\d:\d\d {2}\w+ +entered [A-Z0-9]+ (long|short) [0-9.]+ @ [0-9.]+/.test(up.output.join('')), 60_000, 1_000);
      expect(up.output.join('')).toMatch(/dave +up; metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/);
      expect(up.output.join('')).toMatch(/marketdata +up; metrics at http:/);

      // The ledger: for every account, the exchange's wallet change equals the recorded realized
      // PnL minus fees, exactly, read at a moment when every fill the exchange made is recorded.
      const sim = readRuntimeFile(state)!.simulatorUrl!;
      await until(
        async () => {
          const simAccounts = (await (await fetch(`${sim}/_sim/accounts`)).json()) as Array<{
            id: string;
            walletBalance: string;
            trades: number;
            fundingPayments: number;
          }>;
          for (const a of simAccounts) {
            const ledger = await recordedLedger(d.db, a.id);
            if (ledger.fills !== a.trades || ledger.fundingPayments !== a.fundingPayments) return false;
            expect(decimal.eq(ledger.walletNet, decimal.sub(a.walletBalance, DEFAULT_UP.balance)), a.id).toBe(true);
          }
          return simAccounts.length === 5;
        },
        60_000,
        1_000,
      );

      // Every child runs with ats's V8 flags (a smaller young generation).
      const children = readdirSync('/proc')
        .filter((e) => /^\d+$/.test(e))
        .flatMap((pid) => {
          try {
            const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
            const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
            return ppid === up.child.pid ? [readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')] : [];
          } catch {
            return [];
          }
        })
        .filter((cmd) => cmd.includes('trader') || cmd.includes('pool') || cmd.includes('marketdata'));
      // Traders of their own (alice, bob, the demo account, dave), carol's pool, marketdata.
      expect(children.length).toBeGreaterThanOrEqual(6);
      expect(children.some((cmd) => cmd.includes('pool') && cmd.includes('pool-0'))).toBe(true);
      expect((await readStatuses(r.redis)).find((s) => s.name === 'carol')?.pool).toBe('pool-0');
      const flagsOf = (cmd: string[]) => (cmd.includes('pool') ? POOL_NODE_FLAGS : cmd.includes('trader') ? TRADER_NODE_FLAGS : NODE_FLAGS);
      for (const cmd of children) expect(cmd).toEqual(expect.arrayContaining([...flagsOf(cmd)]));
      expect(children.filter((cmd) => cmd.includes('marketdata')).flat()).not.toContain('--no-opt');

      // marketdata records the recommendations as its own role, not as the admin.
      // (Its pool closes an idle connection after 10 s: it is seen while it writes, every scan.)
      const role = await marketdataRoleName(d.db);
      await until(
        async () =>
          (await sql<{ usename: string }>`select distinct usename from pg_stat_activity where datname = current_database()`.execute(d.db)).rows.some(
            (row) => row.usename === role,
          ),
        30_000,
        200,
      );
      expect((await d.db.selectFrom('recommendations').select('id').execute()).length).toBeGreaterThan(0);

      up.child.kill('SIGINT');
      expect(await up.exited).toBe(0);
      expect(up.output.join('')).toContain('stopped.');
    },
  );
});

const DAVE = `apiVersion: ats.dev/v1alpha1
kind: TradingAccount
metadata:
  name: dave
spec:
  displayName: Dave (added while running)
  exchange: simulator
  secretRef:
    name: dave-binance
  config:
    minScore: 0
    maxOpenPositions: 3
`;
