import { Command } from 'commander';
import { countOption, nonNegativeOption as nonNegative, portOption, positiveOption as positive } from '../core/cli-options.js';
import { DEFAULT_POOL_MAX_ACCOUNTS, placementOption, type Placement } from '../operator/pools.js';
import { resolve } from 'node:path';
import { DEFAULT_SIM_PORT } from '../simulator/defaults.js';
import { DEFAULT_CONSOLE_PORT } from '../console/defaults.js';

export const DEFAULT_UP = { simPort: DEFAULT_SIM_PORT, speed: 1800, scanEverySeconds: 5, balance: 10_000 } as const;

export const upCommand = () =>
  new Command('up')
    .description('run the whole system on this machine: postgres, redis, the simulator, marketdata and the accounts in a folder')
    .option('--accounts <dir>', 'folder of TradingAccount manifests', 'examples')
    .option('--sim-port <port>', 'simulator port', portOption, DEFAULT_UP.simPort)
    .option('--speed <x>', 'market time per wall-clock time', positive('speed'), DEFAULT_UP.speed)
    .option('--scan-every <seconds>', 'seconds between recommendation scans', positive('scan-every'), DEFAULT_UP.scanEverySeconds)
    .option('--balance <usdt>', 'starting balance of each simulator account', positive('balance'), DEFAULT_UP.balance)
    .option('--demo-accounts <n>', 'also run N generated demo accounts with varied configs (manifests in .ats/demo-accounts)', nonNegative('demo-accounts'), 0)
    .option('--no-examples', 'leave out the --accounts folder: only the generated demo accounts')
    .option(
      '--placement <where>',
      'where an account whose manifest names no placement trades: dedicated (a process each) or pooled (trader pools)',
      placementOption,
      'dedicated',
    )
    .option('--pool-size <n>', 'accounts per trader pool', countOption('pool-size'), DEFAULT_POOL_MAX_ACCOUNTS)
    .option('--console-port <port>', 'port of the web console (0: a free one)', portOption, DEFAULT_CONSOLE_PORT)
    .action(
      async (opts: {
        accounts: string;
        simPort: number;
        speed: number;
        scanEvery: number;
        balance: number;
        demoAccounts: number;
        examples: boolean;
        placement: Placement;
        poolSize: number;
        consolePort: number;
      }) =>
        (await import('../local/up.js')).up({
          accounts: resolve(opts.accounts),
          simPort: opts.simPort,
          speed: opts.speed,
          scanEverySeconds: opts.scanEvery,
          balance: opts.balance,
          demoAccounts: opts.demoAccounts,
          folder: opts.examples,
          placement: opts.placement,
          poolMaxAccounts: opts.poolSize,
          consolePort: opts.consolePort,
        }),
    );
