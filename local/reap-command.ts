import { Command } from 'commander';
import { childrenOf, isAlive, stopHelpers, type Helper } from './orphans.js';

/** `ats _reap`: started by `ats up` only (hidden). Waits for the parent to go, then stops the helpers. */
export const reapCommand = () =>
  new Command('_reap')
    .requiredOption('--parent <pid>', 'the ats up process')
    .requiredOption('--helpers <json>', 'the processes to stop when it is gone')
    .action(async (opts: { parent: string; helpers: string }) => {
      const parent = Number(opts.parent);
      const helpers = JSON.parse(opts.helpers) as Helper[];
      process.on('SIGHUP', () => undefined);
      while (isAlive(parent) && process.ppid === parent) await new Promise((r) => setTimeout(r, 1_000));
      // After a kill -9 the children stop by themselves (they watch their parent, and give up
      // after 8 s); Redis and Postgres stay until then, so what they flush on the way out lands.
      const deadline = Date.now() + 10_000;
      while (childrenOf(parent).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      // A graceful `ats up` stop has stopped them already; after a kill -9 this does.
      await stopHelpers(helpers, 4_000);
    });
