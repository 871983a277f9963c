import { Command, InvalidArgumentError } from 'commander';
import { nonNegativeOption as number, portOption } from '../core/cli-options.js';
import { createRootLogger } from '../core/logger.js';
import { loadEnv } from '../core/env.js';
import { DEFAULT_SIM_PORT, DEFAULT_SYMBOLS } from './defaults.js';

export const simCommand = () =>
  new Command('sim')
    .description('run the Binance USD-M Futures simulator (REST + WebSocket, and the admin API on the same port or --admin-port)')
    .option('--port <port>', 'port to listen on', portOption, DEFAULT_SIM_PORT)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--admin-port <port>', 'serve the admin API (/_sim) on this port of its own instead (in a cluster: out of reach of other pods)', portOption)
    .option('--admin-host <host>', 'address of the admin port', '127.0.0.1')
    .option('--speed <x>', 'market time per wall-clock time (3600 = an hourly bar a second, 0 = frozen)', number('speed'), 60)
    .option('--data-dir <dir>', 'folder of <SYMBOL>-1h.csv klines to replay (default: ../shared/data when present, else the sample in simulator/data)')
    .option('--generate', 'use the seeded price generator instead of replaying data')
    .option('--seed <n>', 'seed of the price generator', number('seed'), 42)
    .option('--symbols <list>', 'comma-separated symbols', DEFAULT_SYMBOLS.join(','))
    .option('--weight-limit <n>', 'REQUEST_WEIGHT per minute per IP', number('weight-limit'), 6000)
    .option('--account <id:key:secret:balance...>', 'create an account at start (repeatable)')
    .action(async (opts) => {
      const env = loadEnv();
      const { Simulator } = await import('./server.js');
      const { logger } = createRootLogger({ component: 'sim', env });
      const sim = new Simulator({
        speed: opts.speed,
        seed: opts.seed,
        symbols: String(opts.symbols)
          .split(',')
          .map((s: string) => s.trim())
          .filter(Boolean),
        ...(opts.generate ? { dataDir: null } : opts.dataDir ? { dataDir: opts.dataDir } : {}),
        limits: { requestWeightPerMinute: opts.weightLimit },
        logger,
      });
      for (const spec of (opts.account as string[] | undefined) ?? []) {
        const [id, apiKey, apiSecret, balance] = spec.split(':');
        if (!id || !apiKey || !apiSecret) throw new InvalidArgumentError('--account takes id:apiKey:apiSecret[:balance]');
        sim.createAccount({ id, apiKey, apiSecret, balance: Number(balance ?? 10_000) });
      }
      const { url, wsUrl, adminUrl } = await sim.listen(
        opts.port,
        opts.host,
        opts.adminPort === undefined ? undefined : { port: opts.adminPort, host: opts.adminHost },
      );
      logger.info({ url, wsUrl, adminUrl, source: sim.source, speed: opts.speed, symbols: sim.engine.book.symbols() }, 'simulator listening');
      const stop = async () => {
        await sim.close();
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
