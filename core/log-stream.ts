import type { Redis } from 'ioredis';
import { redisKeys, type LogLevelName } from './redis-contract.js';

/** pino level numbers → the global stream they belong to. */
const streamFor = (level: number): LogLevelName | undefined => (level >= 50 ? 'error' : level >= 40 ? 'warning' : level >= 30 ? 'info' : undefined);

const minLevel = { error: 50, warn: 40, info: 30 } as const;

export interface LogStreamOptions {
  readonly redis: Redis;
  readonly component: string;
  /** Lowest level copied to Redis. */
  readonly level: keyof typeof minLevel;
  /** Approximate cap on each stream's length (XADD MAXLEN ~). */
  readonly maxLen: number;
  /** Entries kept in memory while Redis is unreachable; the oldest are dropped beyond it. */
  readonly bufferSize?: number;
}

/**
 * Copies log lines to the global streams `ats:logs:{error|warning|info}`. It never blocks or
 * throws into the caller: while Redis is down, entries wait in a small bounded buffer and are
 * written when it returns.
 */
export class RedisLogStream {
  readonly #opts: LogStreamOptions;
  readonly #pending: Array<readonly [LogLevelName, string[]]> = [];
  #dropped = 0;
  #flushing = false;

  constructor(opts: LogStreamOptions) {
    this.#opts = opts;
    opts.redis.on('ready', () => void this.#flush());
  }

  get dropped(): number {
    return this.#dropped;
  }

  /** Takes one serialized pino line (already redacted and scrubbed). */
  write(line: string): void {
    let entry: { level?: number; msg?: string; account_id?: string; time?: number };
    try {
      entry = JSON.parse(line);
    } catch {
      return;
    }
    const level = entry.level ?? 0;
    const stream = streamFor(level);
    if (!stream || level < minLevel[this.#opts.level]) return;
    const fields = [
      'time',
      String(entry.time ?? Date.now()),
      'component',
      this.#opts.component,
      'account_id',
      typeof entry.account_id === 'string' ? entry.account_id : '',
      'msg',
      entry.msg ?? '',
      'entry',
      line.trimEnd(),
    ];
    this.#pending.push([stream, fields]);
    const cap = this.#opts.bufferSize ?? 1_000;
    while (this.#pending.length > cap) {
      this.#pending.shift();
      this.#dropped += 1;
    }
    void this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#flushing || this.#opts.redis.status !== 'ready') return;
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, 100);
        const pipeline = this.#opts.redis.pipeline();
        for (const [stream, fields] of batch) {
          pipeline.xadd(redisKeys.logs(stream), 'MAXLEN', '~', String(this.#opts.maxLen), '*', ...fields);
        }
        try {
          await pipeline.exec();
        } catch {
          this.#pending.unshift(...batch);
          return;
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** Waits until buffered entries are written (or Redis is found unreachable). */
  async drain(timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#pending.length > 0 && Date.now() < deadline) {
      await this.#flush();
      if (this.#pending.length > 0) await new Promise((r) => setTimeout(r, 20));
    }
  }
}
