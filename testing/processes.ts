import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childrenOf, isZombie } from '../local/orphans.js';
import { tempDir } from './temp.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export interface AtsProcess {
  readonly child: ChildProcess;
  readonly output: string[];
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly exited: Promise<number | string>;
}

/** Node arguments that run `ats` from the TypeScript sources. */
export const ATS_PROGRAM = ['--import', 'tsx', join(ROOT, 'cli', 'main.ts')] as const;

const spawned = new Set<AtsProcess>();

/**
 * Runs `ats <args>` as a real child process, capturing its output: from the TypeScript sources,
 * or with `built` from `dist/` as the image runs it (`npm run build` first).
 */
export function spawnAts(args: string[], env: Record<string, string>, opts: { built?: boolean } = {}): AtsProcess {
  const program = opts.built ? [join(ROOT, 'dist', 'cli', 'main.js')] : ATS_PROGRAM;
  const child = spawn(process.execPath, [...program, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  child.stdout!.on('data', (d) => output.push(String(d)));
  child.stderr!.on('data', (d) => output.push(String(d)));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  const proc = { child, output, exited };
  spawned.add(proc);
  void exited.then(() => spawned.delete(proc));
  return proc;
}

/**
 * Kills every `ats` process a test file started that still runs (the test setup calls it when the
 * file ends, also after a failure), and waits until its children are gone too: they watch
 * their parent (ATS_PARENT_PID) and stop by themselves.
 */
export async function killSpawned(): Promise<void> {
  const running = [...spawned];
  const pids = running.map((p) => p.child.pid!).filter(Boolean);
  for (const p of running) p.child.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exited));
  const deadline = Date.now() + 15_000;
  while (pids.some((pid) => processesOf(pid).length > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
}

/** A directory laid out like a mounted Kubernetes Secret. */
export function credentialsDir(apiKey: string, apiSecret: string): string {
  const dir = tempDir('ats-secret');
  writeFileSync(join(dir, 'apiKey'), apiKey);
  writeFileSync(join(dir, 'apiSecret'), apiSecret);
  return dir;
}

/**
 * The processes an `ats up` started that still run: its node children (ATS_PARENT_PID in their
 * environment), its reaper, and the redis-server / postgres helpers it recorded.
 */
export function processesOf(upPid: number, helperPids: readonly number[] = []): number[] {
  const reaper = `_reap\0--parent\0${upPid}\0`;
  const isReaper = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(reaper);
    } catch {
      return false; // gone meanwhile, or not ours to read
    }
  };
  const others = readdirSync('/proc')
    .map(Number)
    .filter((pid) => Number.isInteger(pid) && (helperPids.includes(pid) || isReaper(pid)) && !isZombie(pid));
  return [...childrenOf(upPid), ...others];
}
