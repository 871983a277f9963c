import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';

export interface ProcessLaunch {
  /** The process's name: one per name runs, and its output goes to `<logDir>/<name>.log`. */
  readonly name: string;
  /** The `ats` subcommand and its options (`trader --account alice …`). */
  readonly args: readonly string[];
  /** When it changes (the exchange, a rotated key, new options), the process is restarted. */
  readonly fingerprint: string;
}

interface Running {
  launch: ProcessLaunch;
  child: ChildProcess | undefined;
  restarts: number;
  startedAt: number;
  stopping: boolean;
  timer: NodeJS.Timeout | undefined;
  log: WriteStream;
}

/**
 * The local runtime's stand-in for Deployments: named `ats` child processes (a trader per
 * account, marketdata), each restarted with backoff (1 s doubling to 30 s) when it dies, stopped
 * with SIGTERM (then SIGKILL after 15 s). Each one's output goes to `<logDir>/<name>.log`.
 */
export class ProcessSupervisor {
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

  pid(name: string): number | undefined {
    return this.#running.get(name)?.child?.pid;
  }

  names(): string[] {
    return [...this.#running.keys()];
  }

  /** Starts the process, or restarts it if what it runs with has changed; otherwise leaves it. */
  async ensure(launch: ProcessLaunch): Promise<void> {
    const current = this.#running.get(launch.name);
    if (current && current.launch.fingerprint === launch.fingerprint) return;
    if (current) {
      this.opts.logger.info({ process: launch.name }, 'process settings changed: restarting it');
      await this.stop(launch.name);
    }
    const entry: Running = {
      launch,
      child: undefined,
      restarts: 0,
      startedAt: 0,
      stopping: false,
      timer: undefined,
      log: createWriteStream(join(this.opts.logDir, `${launch.name}.log`), { flags: 'a' }),
    };
    this.#running.set(launch.name, entry);
    this.#spawn(entry);
  }

  async stop(name: string): Promise<void> {
    const entry = this.#running.get(name);
    if (!entry) return;
    this.#running.delete(name);
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
    await Promise.all(this.names().map((name) => this.stop(name)));
  }

  #spawn(entry: Running): void {
    const { launch } = entry;
    // The same program that runs this process, from sources (tsx) or from dist/.
    const program = this.opts.program ?? [...process.execArgv, process.argv[1]!];
    const args = [...program, ...launch.args];
    // A process group of its own: a Ctrl-C reaches only the supervisor, which stops them in order.
    const child = spawn(process.execPath, args, { env: { ...process.env, ...this.opts.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    entry.child = child;
    entry.startedAt = Date.now();
    child.stdout!.pipe(entry.log, { end: false });
    child.stderr!.pipe(entry.log, { end: false });
    this.opts.logger.info({ process: launch.name, pid: child.pid }, 'process started');
    child.once('exit', (code, signal) => {
      if (entry.stopping) return;
      // A process that ran a while starts its backoff again from 1 s.
      if (Date.now() - entry.startedAt > 60_000) entry.restarts = 0;
      const delay = Math.min(1_000 * 2 ** entry.restarts, 30_000);
      entry.restarts += 1;
      this.opts.logger.warn({ process: launch.name, code, signal, restartInMs: delay }, 'process exited: restarting');
      entry.timer = setTimeout(() => this.#spawn(entry), delay);
    });
  }
}
