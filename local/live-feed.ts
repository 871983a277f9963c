import type { Redis } from 'ioredis';
import { decimal } from '../core/decimal.js';
import { redisKeys, type LogLevelName } from '../core/redis-contract.js';

/** One entry of the global log streams, as `RedisLogStream` writes it. */
export interface LogEntry {
  readonly time: number;
  readonly component: string;
  readonly accountId: string;
  readonly msg: string;
  readonly level: LogLevelName;
  /** The whole pino line. */
  readonly fields: Record<string, unknown>;
}

const clock = (time: number) => (Number.isFinite(time) ? new Date(time) : new Date()).toISOString().slice(11, 19);
const money = (value: unknown) => {
  const rounded = decimal.round(String(value), 2);
  return rounded.startsWith('-') ? rounded : `+${rounded}`;
};

const direction = (side: unknown) => (side === 'buy' ? 'long' : side === 'sell' ? 'short' : String(side));

/** What `ats up` prints for an entry of the global logs, or undefined for the ones it skips. */
export function feedLine(e: LogEntry): string | undefined {
  const who = (e.accountId || e.component).padEnd(10);
  const f = e.fields;
  const at = `${clock(e.time)}  ${who}`;
  if (e.level === 'error') return `${at} ERROR ${e.msg}${f.err ? `: ${String(f.err)}` : ''}`;
  switch (e.msg) {
    case 'trader starting':
    case 'marketdata started':
      return f.port ? `${at} up; metrics at http://127.0.0.1:${String(f.port)}/metrics` : undefined;
    case 'entry filled: placing its stop-loss and take-profit':
      return `${at} entered ${String(f.symbol)} ${direction(f.side)} ${String(f.amount)} @ ${String(f.entryPrice)}`;
    case 'position closed':
      return `${at} closed  ${String(f.symbol)} ${direction(f.side)} @ ${String(f.exit)}: PnL ${money(f.realizedPnl)} USDT, fees ${decimal.round(String(f.fees), 4)}`;
    default:
      return undefined;
  }
}

const STREAMS: readonly LogLevelName[] = ['info', 'error'];

/**
 * Follows the global log streams (XREAD on `ats:logs:info` and `ats:logs:error`, from `since`)
 * and hands each line worth showing to `write`. It uses its own connection, since XREAD blocks.
 */
export class LiveFeed {
  #stopped = false;
  #loop: Promise<void> | undefined;

  /** `since`: epoch ms; entries from then on are shown (stream ids start with their time). */
  constructor(private readonly o: { redis: Redis; write: (line: string) => void; since: number }) {}

  start(): void {
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.o.redis.disconnect();
    await this.#loop;
  }

  async #run(): Promise<void> {
    await followLogStreams(
      this.o.redis,
      STREAMS,
      `${this.o.since}-0`,
      () => !this.#stopped,
      (_id, entry) => {
        const line = feedLine(entry);
        if (line) this.o.write(line);
      },
    );
  }
}

/**
 * Follows the log streams of `levels` (XREAD, blocking a second at a time, on a connection of
 * its own) from `from` (`$`: what comes next; `MS-0`: from that time), handing each entry to
 * `onEntry` until `running()` says stop. An entry that cannot be read is skipped, never fatal.
 */
export async function followLogStreams(
  redis: Redis,
  levels: readonly LogLevelName[],
  from: string,
  running: () => boolean,
  onEntry: (id: string, entry: LogEntry) => void,
): Promise<void> {
  const keys = levels.map((level) => redisKeys.logs(level));
  const ids = levels.map(() => from);
  while (running()) {
    let reply: Array<[string, Array<[string, string[]]>]> | null;
    try {
      reply = (await redis.xread('COUNT', 100, 'BLOCK', 1_000, 'STREAMS', ...keys, ...ids)) as typeof reply;
    } catch {
      if (!running()) return;
      await new Promise((r) => setTimeout(r, 1_000));
      continue;
    }
    for (const [key, entries] of reply ?? []) {
      // The reply names the key with the connection's prefix.
      const at = keys.findIndex((k) => key.endsWith(k));
      for (const [id, flat] of entries) {
        ids[at] = id;
        let entry: LogEntry;
        try {
          entry = parseEntry(levels[at]!, flat);
        } catch {
          continue;
        }
        onEntry(id, entry);
      }
    }
  }
}

export function parseEntry(level: LogLevelName, flat: string[]): LogEntry {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) map.set(flat[i]!, flat[i + 1]!);
  let fields: Record<string, unknown> = {};
  try {
    fields = JSON.parse(map.get('entry') ?? '{}') as Record<string, unknown>;
  } catch {
    // A line that is not JSON still has its message.
  }
  const time = map.get('time') ?? '';
  // pino writes epoch ms or, with an ISO time format, a date string.
  return {
    time: /^\d+$/.test(time) ? Number(time) : Date.parse(time),
    component: map.get('component') ?? '',
    accountId: map.get('account_id') ?? '',
    msg: map.get('msg') ?? '',
    level,
    fields,
  };
}
