import type { Redis } from 'ioredis';
import { redisKeys, type LogLevelName } from '../core/redis-contract.js';
import { parseEntry } from '../local/live-feed.js';
import { logView } from './live-hub.js';

export type LogView = ReturnType<typeof logView>;

/**
 * The newest log entries of the global streams that `keep` accepts, newest first: up to `scan`
 * entries per level are looked at (XREVRANGE), at most `limit` returned.
 */
export async function readLogs(
  redis: Redis,
  o: { levels: readonly LogLevelName[]; limit: number; scan: number; keep: (e: LogView) => boolean; before?: string },
): Promise<LogView[]> {
  const out: LogView[] = [];
  for (const level of o.levels) {
    const entries = (await redis.xrevrange(redisKeys.logs(level), o.before ? `(${o.before}` : '+', '-', 'COUNT', o.scan)) as Array<[string, string[]]>;
    for (const [id, flat] of entries) {
      const view = logView(id, parseEntry(level, flat));
      if (o.keep(view)) out.push(view);
    }
  }
  return out.sort((a, b) => newerFirst(a.id, b.id)).slice(0, o.limit);
}

/** Stream ids (`ms-seq`) compared as numbers, the newer first. */
function newerFirst(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return bm - am || bs - as;
}
