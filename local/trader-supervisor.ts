import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface TraderLaunch {
  readonly accountId: string;
  readonly exchange: string;
  /** Entry of the local key store to read. */
  readonly keyName: string;
  /** When it changes (exchange, key rotated), the trader is restarted. */
  readonly fingerprint: string;
}

interface Running {
  launch: TraderLaunch;
  child: ChildProcess | undefined;
  restarts: number;
  startedAt: number;
  stopping: boolean;
  timer: NodeJS.Timeout | undefined;
  log: WriteStream;
}

/**
 * The local runtime's stand-in for Deployments: one `ats trader` child process per account,
 * restarted with backoff (1 s doubling to 30 s) when it dies, stopped with SIGTERM (then SIGKILL
 * after 15 s). Each trader's output goes to `<logDir>/<account>.log`.
 */
export class TraderSupervisor {
  readonly #running = new Map<string, Running>();

  constructor(
    private readonly opts: {
      logDir: string;
      env: Record<string, string>;
      logger: Logger;
      /** How to run `ats`: node arguments before the subcommand (default: the program running now). */
      program?: readonly string[];
    },
  ) {
    mkdirSync(opts.logDir, { recursive: true });
  }

  pid(accountId: string): number | undefined {
    return this.#running.get(accountId)?.child?.pid;
  }

  accounts(): string[] {
    return [...this.#running.keys()];
  }

  /** Starts the trader, or restarts it if what it runs with has changed; otherwise leaves it. */
  async ensure(launch: TraderLaunch): Promise<void> {
    const current = this.#running.get(launch.accountId);
    if (current && current.launch.fingerprint === launch.fingerprint) return;
    if (current) {
      this.opts.logger.info({ account_id: launch.accountId }, 'trader settings changed: restarting it');
      await this.stop(launch.accountId);
    }
    const entry: Running = {
      launch, child: undefined, restarts: 0, startedAt: 0, stopping: false, timer: undefined,
      log: createWriteStream(join(this.opts.logDir, `${launch.accountId}.log`), { flags: 'a' }),
    };
    this.#running.set(launch.accountId, entry);
    this.#spawn(entry);
  }

  async stop(accountId: string): Promise<void> {
    const entry = this.#running.get(accountId);
    if (!entry) return;
    this.#running.delete(accountId);
    entry.stopping = true;
    clearTimeout(entry.timer);
    const child = entry.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(killer);
    }
    entry.log.end();
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.accounts().map((id) => this.stop(id)));
  }

  #spawn(entry: Running): void {
    const { launch } = entry;
    // The same program that runs this process, from sources (tsx) or from dist/.
    const program = this.opts.program ?? [...process.execArgv, process.argv[1]!];
    const args = [...program, 'trader', '--account', launch.accountId, '--exchange', launch.exchange, '--key-name', launch.keyName, '--port', '0'];
    // A process group of its own: a Ctrl-C reaches only the supervisor, which stops traders in order.
    const child = spawn(process.execPath, args, { env: { ...process.env, ...this.opts.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    entry.child = child;
    entry.startedAt = Date.now();
    child.stdout!.pipe(entry.log, { end: false });
    child.stderr!.pipe(entry.log, { end: false });
    this.opts.logger.info({ account_id: launch.accountId, pid: child.pid }, 'trader process started');
    child.once('exit', (code, signal) => {
      if (entry.stopping) return;
      // A trader that ran a while starts its backoff again from 1 s.
      if (Date.now() - entry.startedAt > 60_000) entry.restarts = 0;
      const delay = Math.min(1_000 * 2 ** entry.restarts, 30_000);
      entry.restarts += 1;
      this.opts.logger.warn({ account_id: launch.accountId, code, signal, restartInMs: delay }, 'trader process exited: restarting');
      entry.timer = setTimeout(() => this.#spawn(entry), delay);
    });
  }
}
