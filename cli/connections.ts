import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { loadEnv } from '../core/env.js';
import { AtsError } from '../core/errors.js';
import { createRedis, type Redis } from '../core/redis.js';
import { readRuntime } from '../core/runtime-file.js';
import { redactUrl } from '../core/secrets-scrub.js';

/**
 * Redis (and Postgres) of the running system: the environment, else what `ats up` wrote in its
 * state folder, found like git finds `.git`: here or in a folder above.
 */
export function connections() {
  const env = loadEnv();
  const stateDir = process.env.ATS_STATE_DIR ? resolve(env.ATS_STATE_DIR) : findStateDir(process.cwd());
  const runtime = stateDir ? readRuntime(stateDir) : undefined;
  const redisUrl = env.REDIS_URL ?? runtime?.redisUrl;
  const databaseUrl = env.DATABASE_URL ?? runtime?.databaseUrl;
  if (!redisUrl) throw new AtsError('ATS_NOT_RUNNING', 'ats is not running here: start it with `npx ats up`, or set REDIS_URL and DATABASE_URL.');
  return { env, redisUrl, databaseUrl };
}

function findStateDir(from: string): string | undefined {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.ats', 'runtime.json'))) return join(dir, '.ats');
    if (dirname(dir) === dir) return undefined;
  }
}

export async function withRedis<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
  const { env, redisUrl } = connections();
  const redis = createRedis(
    { REDIS_URL: redisUrl, REDIS_KEY_PREFIX: env.REDIS_KEY_PREFIX },
    { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true, connectTimeout: 3_000 },
  );
  // A connection problem surfaces as the command's own error below (one line); the event adds nothing.
  redis.on('error', () => undefined);
  try {
    await redis.connect().catch(() => {
      throw new AtsError('ATS_NO_REDIS', `Cannot reach Redis at ${redactUrl(redisUrl)}: is \`ats up\` still running? Check REDIS_URL.`);
    });
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}
