import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { describeError } from '../core/errors.js';
import { boundToCaller } from './account-scope.js';

type Listener = (channel: string) => void;

/**
 * One Redis subscriber connection shared by every account of a process: a pool of a hundred
 * accounts listens on the recommendations channel and a hundred config channels over one
 * connection instead of a hundred. A dedicated trader has a hub of its own.
 */
export class ChannelHub {
  readonly #subscriber: Redis;
  readonly #listeners = new Map<string, Set<Listener>>();
  #connected: Promise<void> | undefined;

  constructor(redis: Redis, log: Logger) {
    this.#subscriber = redis.duplicate({ lazyConnect: true });
    this.#subscriber.on('error', (err) => log.debug({ err: describeError(err) }, 'subscriber connection problem (ioredis reconnects)'));
    this.#subscriber.on('message', (channel: string) => {
      for (const listener of this.#listeners.get(channel) ?? []) listener(channel);
    });
  }

  /**
   * Listens on the channels; the returned function stops listening. The listener runs as the
   * account that listens (`boundToCaller`): a throw in it is that account's, not the hub's.
   */
  async listen(channels: readonly string[], callback: Listener): Promise<() => Promise<void>> {
    const listener = boundToCaller(callback);
    // Connect first, then subscribe: a SUBSCRIBE queued while the connection was still being
    // made was seen to get lost, leaving the listener deaf to notifications.
    this.#connected ??= this.#subscriber.connect();
    await this.#connected;
    const added: string[] = [];
    for (const channel of channels) {
      let set = this.#listeners.get(channel);
      if (!set) {
        set = new Set();
        this.#listeners.set(channel, set);
        added.push(channel);
      }
      set.add(listener);
    }
    if (added.length > 0) await this.#subscriber.subscribe(...added);
    return async () => {
      const emptied: string[] = [];
      for (const channel of channels) {
        const set = this.#listeners.get(channel);
        set?.delete(listener);
        if (set && set.size === 0) {
          this.#listeners.delete(channel);
          emptied.push(channel);
        }
      }
      if (emptied.length > 0) await this.#subscriber.unsubscribe(...emptied).catch(() => undefined); // gone with the connection anyway
    };
  }

  close(): void {
    this.#subscriber.disconnect();
  }
}
