import type { Redis } from 'ioredis';
import { channelOf, redisKeys, type LogLevelName } from '../core/redis-contract.js';
import { describeError } from '../core/errors.js';
import { followLogStreams, type LogEntry } from '../local/live-feed.js';
import { summarize, type AccountSummary } from './account-summary.js';
import type { ConsoleOptions } from './context.js';

/** One connected browser: what it may see, and how to reach it. */
export interface LiveClient {
  /** Whether the client may see this account (its user's access, re-read on each change). */
  readonly sees: (accountId: string) => boolean;
  readonly send: (event: string, data: unknown) => void;
}

const STATUS_EVERY_MS = 2_000;
const LOG_LEVELS: readonly LogLevelName[] = ['error', 'warning', 'info'];

/**
 * Live updates for every connected browser from one set of readers, however many browsers
 * there are: a Redis subscriber (new recommendations, config changes), one XREAD following the
 * log streams, and one look at the accounts' status every 2 s, sending only what changed.
 * Nothing runs while nobody is connected.
 */
export class LiveHub {
  readonly #clients = new Set<LiveClient>();
  #subscriber: Redis | undefined;
  #reader: Redis | undefined;
  #timer: NodeJS.Timeout | undefined;
  #last = new Map<string, string>();
  #running = false;

  constructor(private readonly o: Pick<ConsoleOptions, 'redis' | 'backend' | 'logger'>) {}

  add(client: LiveClient): () => void {
    this.#clients.add(client);
    if (!this.#running) this.#start();
    return () => {
      this.#clients.delete(client);
      if (this.#clients.size === 0) this.stop();
    };
  }

  stop(): void {
    this.#running = false;
    clearInterval(this.#timer);
    this.#subscriber?.disconnect();
    this.#reader?.disconnect();
    this.#subscriber = this.#reader = undefined;
    this.#last.clear();
  }

  #broadcast(event: string, data: unknown, accountId?: string): void {
    for (const c of this.#clients) if (accountId === undefined || c.sees(accountId)) c.send(event, data);
  }

  #start(): void {
    this.#running = true;
    const log = this.o.logger;
    const sub = (this.#subscriber = this.o.redis.duplicate());
    sub.on('error', (err) => log.debug({ err: describeError(err) }, 'live subscriber connection problem (ioredis reconnects)'));
    const recommendations = channelOf(this.o.redis, redisKeys.recommendationsChannel());
    const configs = channelOf(this.o.redis, redisKeys.configChannel('*'));
    void sub.subscribe(recommendations).catch(() => undefined);
    void sub.psubscribe(configs).catch(() => undefined);
    sub.on('message', () => this.#broadcast('recommendations', {}));
    sub.on('pmessage', (_pattern: string, channel: string) => {
      const id = channel.slice(configs.length - 1);
      this.#broadcast('config', { id }, id);
    });
    this.#timer = setInterval(() => void this.#statuses(), STATUS_EVERY_MS);
    void this.#statuses();
    void this.#followLogs();
  }

  async #statuses(): Promise<void> {
    let summaries: AccountSummary[];
    try {
      summaries = (await this.o.backend.list()).map(summarize);
    } catch (err) {
      this.o.logger.debug({ err: describeError(err) }, 'account status not read; next look in 2 s');
      return;
    }
    for (const s of summaries) {
      const text = JSON.stringify(s);
      if (this.#last.get(s.id) === text) continue;
      this.#last.set(s.id, text);
      this.#broadcast('account', s, s.id);
    }
  }

  async #followLogs(): Promise<void> {
    const reader = (this.#reader = this.o.redis.duplicate());
    reader.on('error', () => undefined);
    await followLogStreams(
      reader,
      LOG_LEVELS,
      '$',
      () => this.#running && this.#reader === reader,
      (id, entry) => this.#broadcast('log', logView(id, entry), entry.accountId || undefined),
    );
  }
}

/** A log entry as the API and the live stream give it. */
export const logView = (id: string, e: LogEntry) => ({
  id,
  time: Number.isFinite(e.time) ? new Date(e.time).toISOString() : '',
  level: e.level,
  component: e.component,
  accountId: e.accountId,
  msg: e.msg,
  fields: e.fields,
});
