import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A process `ats up` started that is not a node child of its own (redis-server, postgres). */
export interface Helper {
  readonly name: string;
  readonly pid: number;
  /** A word of its command line, so a reused pid is never mistaken for it. */
  readonly command: string;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** True when `pid` runs and its command line contains `command`. */
export function runs(helper: Helper): boolean {
  if (!isAlive(helper.pid)) return false;
  try {
    return readFileSync(`/proc/${helper.pid}/cmdline`, 'utf8').includes(helper.command);
  } catch {
    return true;
  }
}

/**
 * The processes `ats up` (pid `upPid`) started with ATS_PARENT_PID in their environment that
 * still run, found in /proc (Linux; elsewhere none are found). Zombies are not counted.
 */
export function childrenOf(upPid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const found: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === upPid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`ATS_PARENT_PID=${upPid}\0`) && !isZombie(pid)) found.push(pid);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** True when `pid` has exited and waits for its parent to reap it (or is gone). */
export function isZombie(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] === 'Z';
  } catch {
    return true;
  }
}

/** The embedded Postgres server of a state folder, from its postmaster.pid. */
export function postgresHelper(stateDir: string): Helper | undefined {
  const file = join(stateDir, 'postgres', 'postmaster.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').split('\n')[0]);
  return Number.isInteger(pid) && pid > 0 ? { name: 'postgres', pid, command: 'postgres' } : undefined;
}

/** Stops helpers left running (SIGTERM, then SIGKILL after `graceMs`); returns the ones it stopped. */
export async function stopHelpers(helpers: readonly Helper[], graceMs = 5_000): Promise<Helper[]> {
  const running = helpers.filter(runs);
  for (const h of running) process.kill(h.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (running.some(runs) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  for (const h of running.filter(runs)) process.kill(h.pid, 'SIGKILL');
  return running;
}

/**
 * A small watchdog beside `ats up` (the hidden `ats _reap` command): when `ats up` dies without
 * its shutdown (kill -9), it stops the helpers that cannot watch their parent themselves.
 */
export function startReaper(helpers: readonly Helper[]): void {
  const child = spawn(
    process.execPath,
    [...process.execArgv, process.argv[1]!, '_reap', '--parent', String(process.pid), '--helpers', JSON.stringify(helpers)],
    {
      stdio: 'ignore',
      detached: true,
    },
  );
  child.unref();
}
