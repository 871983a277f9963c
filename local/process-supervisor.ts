import { NODE_FLAGS } from '../core/node-flags.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { describeError } from '../core/errors.js';

export interface ProcessLaunch {
  /** The process's name: one per name runs, and its output goes to `<logDir>/<name>.log`. */
  readonly name: string;
  /** The `ats` subcommand and its options (`trader --account alice …`). */
  readonly args: readonly string[];
  /** When it changes (the exchange, a rotated key, new options), the process is restarted. */
  readonly fingerprint: string;
  /**
   * True when a restart must not wait (a trader holding open positions: they must be protected
   * again within seconds). Such a process comes back at once, then at most 1 s apart.
   */
  readonly urgent?: () => Promise<boolean>;
  /** V8 flags (default NODE_FLAGS). */
  readonly nodeFlags?: readonly string[];
  /** Written to the process's standard input at each start, then closed (a trader's own key pair). */
  readonly stdin?: () => string | Promise<string>;
  /** Standard input stays open after `stdin`'s text (as a line): `send` writes more lines (a pool's account changes). */
  readonly keepStdinOpen?: boolean;
}

/**
 * What a child inherits from this process's environment: the system basics and the log
 * settings, nothing else (never ATS_MASTER_KEY, ATS_API_KEY/ATS_API_SECRET or credentials).
 */
const INHERITED = [
  'PATH',
  'HOME',
  'TMPDIR',
  'LANG',
  'LC_ALL',
  'TZ',
  'NODE_OPTIONS',
  'NODE_EXTRA_CA_CERTS',
  'LOG_LEVEL',
  'ATS_LOG_STREAM_LEVEL',
  'ATS_LOG_STREAM_MAXLEN',
];
const inherited = () => Object.fromEntries(INHERITED.flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]!]])));

interface Running {
  launch: ProcessLaunch;
  child: ChildProcess | undefined;
  restarts: number;
  startedAt: number;
  stopping: boolean;
  timer: NodeJS.Timeout | undefined;
  log: WriteStream;
  /** Settles once the start's input is written: later lines (`send`) follow it, never precede it. */
  input: Promise<unknown>;
}

/**
 * The local runtime's stand-in for Deployments: named `ats` child processes (a trader per
 * account, marketdata), each restarted with backoff (1 s doubling to 30 s; a process holding
 * positions at once, then at most 1 s apart) when it dies, stopped
 * with SIGTERM (then SIGKILL after 15 s). Each one's output goes to `<logDir>/<name>.log`.
 */
export class ProcessSupervisor {
  readonly #running = new Map<string, Running>();

  constructor(
    private readonly opts: {
      logDir: string;
      env: Record<string, string>;
      logger: Logger;
      /** How to run `ats`: node arguments before the subcommand, after the V8 flags (default: the program running now). */
      program?: readonly string[];
    },
  ) {
    mkdirSync(opts.logDir, { recursive: true, mode: 0o700 });
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
      input: Promise.resolve(),
      // The logs name accounts and orders: readable by the owner only.
      log: createWriteStream(join(this.opts.logDir, `${launch.name}.log`), { flags: 'a', mode: 0o600 }),
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

  /**
   * Writes a line to a running process's open standard input (`keepStdinOpen`). A process that is
   * not running now gets the whole of its `stdin` afresh when it starts again, so nothing is lost.
   */
  send(name: string, line: string): void {
    const entry = this.#running.get(name);
    const child = entry?.child;
    if (!entry || !child) return;
    void entry.input.then(() => {
      if (entry.child === child && child.exitCode === null && child.signalCode === null && child.stdin?.writable) child.stdin.write(`${line}\n`);
    });
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.names().map((name) => this.stop(name)));
  }

  #spawn(entry: Running): void {
    const { launch } = entry;
    // The same program that runs this process, from sources (tsx) or from dist/, with its V8 flags.
    const flags = launch.nodeFlags ?? NODE_FLAGS;
    const program = this.opts.program ?? [...process.execArgv.filter((a) => !a.startsWith('--max-semi-space-size')), process.argv[1]!];
    const args = [...flags, ...program, ...launch.args];
    // A process group of its own: a Ctrl-C reaches only the supervisor, which stops them in order.
    const child = spawn(process.execPath, args, {
      env: { ...inherited(), ...this.opts.env },
      stdio: [launch.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      detached: true,
    });
    if (launch.stdin) {
      child.stdin!.on('error', () => undefined); // a child that died at once: its exit is handled below
      // Prepared while the child boots; on failure the child says what it misses and exits, and
      // the restart backoff applies.
      entry.input = (async () => launch.stdin!())()
        .catch((err: unknown) => {
          this.opts.logger.error({ process: launch.name, err: describeError(err) }, 'could not prepare the input of the process');
          return '';
        })
        .then((input) => (launch.keepStdinOpen ? child.stdin!.write(`${input}\n`) : child.stdin!.end(input)));
    }
    entry.child = child;
    entry.startedAt = Date.now();
    child.stdout!.pipe(entry.log, { end: false });
    child.stderr!.pipe(entry.log, { end: false });
    this.opts.logger.info({ process: launch.name, pid: child.pid }, 'process started');
    child.once('exit', (code, signal) => void this.#exited(entry, code, signal));
  }

  async #exited(entry: Running, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (entry.stopping) return;
    const { launch } = entry;
    // A process that ran a while starts its backoff again from the beginning.
    if (Date.now() - entry.startedAt > 60_000) entry.restarts = 0;
    // When it cannot be known whether the process holds positions, it is taken to hold them.
    const urgent = launch.urgent ? await launch.urgent().catch(() => true) : false;
    if (entry.stopping) return;
    const delay = urgent ? Math.min(250 * (2 ** entry.restarts - 1), 1_000) : Math.min(1_000 * 2 ** entry.restarts, 30_000);
    entry.restarts += 1;
    this.opts.logger.warn({ process: launch.name, code, signal, urgent, restartInMs: delay }, 'process exited: restarting');
    entry.timer = setTimeout(() => this.#spawn(entry), delay);
  }
}
