import type { Redis } from 'ioredis';

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** A Redis lease: one holder at a time; it lapses by itself if the holder dies. */
export class Lease {
  constructor(
    readonly redis: Redis,
    readonly key: string,
    readonly holder: string,
    readonly ttlMs: number,
  ) {}

  /** Takes the lease if free, or renews it if held; true while this holder has it. */
  async hold(): Promise<boolean> {
    if ((await this.redis.eval(RENEW, 1, this.key, this.holder, String(this.ttlMs))) === 1) return true;
    return (await this.redis.set(this.key, this.holder, 'PX', this.ttlMs, 'NX')) === 'OK';
  }

  async release(): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.key, this.holder);
  }

  async currentHolder(): Promise<string | null> {
    return this.redis.get(this.key);
  }
}
