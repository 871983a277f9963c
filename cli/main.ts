#!/usr/bin/env node
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { isAtsError } from '../core/errors.js';
import { scrubSecrets } from '../core/secrets-scrub.js';
import { migrateCommand } from './migrate-command.js';
import { keysCommand } from './keys-command.js';
import { simCommand } from '../simulator/command.js';
import { marketdataCommand } from '../marketdata/command.js';
import { traderCommand } from '../trader/command.js';
import { poolCommand } from '../trader/pool-command.js';
import { upCommand } from './up-command.js';
import { reapCommand } from '../local/reap-command.js';
import { operatorCommand } from '../operator/command.js';
import { consoleCommand } from '../console/command.js';
import { usersCommand } from './users-command.js';
import { logsCommand, recommendationsCommand, statusCommand, tradesCommand } from './inspect-commands.js';

/** `ats <command>`: one subcommand per process of the system. */
/** The package's version, from the sources (core/) or the build (dist/core/). */
const version =
  ['../package.json', '../../package.json']
    .map((f) => {
      try {
        return createRequire(import.meta.url)(f) as { name: string; version: string };
      } catch {
        return undefined;
      }
    })
    .find((p) => p?.name === 'ats')?.version ?? 'unknown';
const program = new Command('ats')
  .description('automated trading for many Binance USD-M Futures accounts')
  .version(version, '-V, --version', 'the ats version')
  .showHelpAfterError();

program.addCommand(migrateCommand());
program.addCommand(reapCommand(), { hidden: true });
program.addCommand(keysCommand());
program.addCommand(simCommand());
program.addCommand(marketdataCommand());
program.addCommand(traderCommand());
program.addCommand(poolCommand());
for (const command of [
  operatorCommand(),
  consoleCommand(),
  usersCommand(),
  upCommand(),
  statusCommand(),
  tradesCommand(),
  logsCommand(),
  recommendationsCommand(),
])
  program.addCommand(command);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // A known error is one line a person can act on; anything else keeps its stack.
  const text = isAtsError(err) ? `ats: ${err.message}` : `ats: ${err instanceof Error ? err.stack : String(err)}`;
  console.error(scrubSecrets(text));
  // A process whose start failed exits, even with connections still open (Redis reconnects
  // forever), so that its supervisor (the local runtime, Kubernetes) starts it again.
  process.exit(isAtsError(err, 'ATS_ENV_INVALID') ? 2 : 1);
}
