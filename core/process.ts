import { describeError } from './errors.js';
import type { Registry } from 'prom-client';
import { loadEnv, type Env } from './env.js';
import { createRootLogger, type RootLogger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import { createRedis, type Redis, type RedisOptions } from './redis.js';

export interface ProcessContext {
  readonly env: Env;
  readonly redis: Redis;
  readonly root: RootLogger;
  readonly registry: Registry;
  /** Runs the cleanups (last registered first), flushes logs and exits on SIGTERM/SIGINT. */
  onShutdown(cleanup: () => Promise<void>): void;
  /**
   * Offers an uncaught exception to `handler` before the process exits on it: true means it was
   * handled (a trader pool stops the one account whose work threw) and the process goes on.
   */
  onUncaught(handler: (err: unknown) => boolean): void;
}

/**
 * What every long-running ats process starts with: validated environment, Redis, the root
 * logger (also writing the global log streams), a metrics registry, and an orderly shutdown.
 */
export function startProcess(
  component: string,
  labels: Record<string, string> = {},
  overrides: Partial<Env> = {},
  redisOptions: RedisOptions = {},
): ProcessContext {
  const env = { ...loadEnv(), ...overrides };
  const redis = createRedis(env, redisOptions);
  const root = createRootLogger({ component, env, redis });
  // ioredis reconnects by itself; say once that Redis is gone and once that it is back.
  let redisDown = false;
  redis.on('error', (err) => {
    if (!redisDown) root.logger.warn({ err: describeError(err) }, 'Redis unreachable: reconnecting (log entries and records wait in memory)');
    redisDown = true;
  });
  redis.on('ready', () => {
    if (redisDown) root.logger.info('Redis is back');
    redisDown = false;
  });
  const registry = createMetricsRegistry(component, labels);
  const cleanups: Array<() => Promise<void>> = [];
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      root.logger.warn({ signal }, 'second signal: exiting without finishing the shutdown');
      process.exit(130);
    }
    stopping = true;
    root.logger.info({ signal }, 'shutting down');
    // Never linger: what is not flushed by then waits in the Redis outbox for the next start.
    setTimeout(() => process.exit(1), signal === PARENT_GONE ? 8_000 : 25_000).unref();
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        root.logger.error({ err }, 'shutdown step failed');
      }
    }
    await root.flush();
    redis.disconnect();
    process.exit(0);
  };
  // ccxt's websocket client can leave an internal promise rejected with no handler when a socket
  // drops mid-connect; that must not kill a process that holds positions. Log it and go on.
  process.on('unhandledRejection', (reason) => {
    root.logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection (ignored)');
  });
  // A child of `ats up` whose parent was killed writes into pipes nobody reads: each line fails
  // with EPIPE. Unhandled, every failure was an uncaught exception whose log line failed again, a
  // busy loop until the exit timer. The lines still reach the log stream; the local copy is dropped.
  for (const out of [process.stdout, process.stderr]) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
    });
  }
  const uncaughtHandlers: Array<(err: unknown) => boolean> = [];
  process.on('uncaughtException', (err) => {
    for (const handler of uncaughtHandlers) {
      try {
        if (handler(err)) return;
      } catch (inner) {
        root.logger.error({ err: describeError(inner) }, 'uncaught exception handler failed');
      }
    }
    root.logger.fatal({ err }, 'uncaught exception: exiting');
    void root.flush().finally(() => process.exit(1));
  });
  // `on`, not `once`: the handler must stay installed while the shutdown runs.
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, () => void shutdown(signal));
  watchParent((why) => void shutdown(why));
  return {
    env,
    redis,
    root,
    registry,
    onShutdown: (cleanup) => cleanups.push(cleanup),
    onUncaught: (handler) => uncaughtHandlers.push(handler),
  };
}

const PARENT_GONE = 'parent exited';

/**
 * A child of `ats up` (ATS_PARENT_PID set) stops on its own when that parent is gone, however it
 * went (kill -9, a closed terminal): no process outlives `ats up` by more than a few seconds.
 */
export function watchParent(onGone: (why: string) => void, parentPid = Number(process.env.ATS_PARENT_PID ?? 0), everyMs = 1_000): void {
  if (!parentPid) return;
  const timer = setInterval(() => {
    let alive = process.ppid === parentPid;
    if (alive) {
      try {
        process.kill(parentPid, 0);
      } catch {
        alive = false;
      }
    }
    if (!alive) {
      clearInterval(timer);
      onGone(PARENT_GONE);
    }
  }, everyMs);
  timer.unref();
}
