import { poolRoles } from '../core/db/pool-role.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, type Db } from '../core/db/connection.js';
import { migrateToLatest } from '../core/db/migrate.js';
import { traderRoles } from '../core/db/trader-role.js';
import { marketdataRoleName } from '../core/db/marketdata-role.js';
import { serviceRoleName } from '../core/db/service-role.js';
import { freePort } from '../core/db/embedded.js';
import { createRedis, type Redis } from '../core/redis.js';
import { until } from './until.js';

/** The real Postgres and Redis every build machine runs; overridable for other setups. */
export const TEST_PG_ADMIN_URL = process.env.ATS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const TEST_REDIS_URL = process.env.ATS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const runId = () => `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

export interface TestDatabase {
  readonly url: string;
  readonly db: Db;
  drop(): Promise<void>;
}

/** A database of its own for one test file, dropped afterwards. */
export async function createTestDatabase(opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const name = `ats_test_${runId()}`;
  const admin = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = withDatabase(TEST_PG_ADMIN_URL, name);
  const db = createDb(url);
  if (opts.migrate !== false) await migrateToLatest(db);
  return {
    url,
    db,
    drop: async () => {
      // Trader and marketdata roles belong to the server, not the database: they go too.
      const roles = [
        ...(await poolRoles(db).catch(() => [])),
        ...(await traderRoles(db).catch(() => [])),
        ...[await marketdataRoleName(db).catch(() => undefined), await serviceRoleName(db, 'console').catch(() => undefined)].filter(
          (x): x is string => x !== undefined,
        ),
      ];
      await db.destroy();
      const c = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      for (const role of roles) await c.query(`drop role if exists "${role}"`);
      await c.end();
    },
  };
}

const withDatabase = (url: string, database: string) => {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
};

export interface TestRedis {
  readonly prefix: string;
  readonly env: { REDIS_URL: string; REDIS_KEY_PREFIX: string };
  readonly redis: Redis;
  /** Deletes every key under the prefix and disconnects. */
  cleanup(): Promise<void>;
}

/** A key prefix of its own for one test file on the shared Redis. */
export function createTestRedis(): TestRedis {
  const prefix = `test-${runId()}:`;
  const env = { REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: prefix };
  const redis = createRedis(env);
  return {
    prefix,
    env,
    redis,
    cleanup: async () => {
      const raw = createRedis({ REDIS_URL: TEST_REDIS_URL, REDIS_KEY_PREFIX: '' });
      const found = await raw.keys(`${prefix}*`);
      if (found.length > 0) await raw.del(...found);
      // Trader and marketdata ACL users made under this prefix (their rules name it).
      const users = (await raw.call('ACL', 'LIST')) as string[];
      for (const line of users) if (line.includes(`~${prefix}`)) await raw.call('ACL', 'DELUSER', line.split(' ')[1]!);
      raw.disconnect();
      redis.disconnect();
    },
  };
}

export interface OwnRedis extends TestRedis {
  /** kill -9: every key is gone (no persistence). */
  crash(): void;
  /** Starts it again, empty, on the same port. */
  restart(): Promise<void>;
}

/**
 * A redis-server of the test's own (no persistence), for tests that kill it: the shared one
 * serves the other test files.
 */
const ownRedisServers = new Set<ChildProcess>();

/** Kills every redis-server a test file started that still runs (the test setup calls it when the file ends, also after a failure). */
export function stopOwnRedisServers(): void {
  for (const child of ownRedisServers) child.kill('SIGKILL');
  ownRedisServers.clear();
}

export async function startOwnRedis(): Promise<OwnRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<unknown> = Promise.resolve();
  const start = async () => {
    await exited;
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const running = child;
    ownRedisServers.add(running);
    exited = new Promise((r) => running.once('exit', r));
    void exited.then(() => ownRedisServers.delete(running));
    const probe = createRedis({ REDIS_URL: url, REDIS_KEY_PREFIX: '' });
    probe.on('error', () => undefined);
    await until(async () => (await probe.ping().catch(() => '')) === 'PONG', 10_000);
    probe.disconnect();
  };
  await start();
  const env = { REDIS_URL: url, REDIS_KEY_PREFIX: 'own:' };
  const redis = createRedis(env);
  redis.on('error', () => undefined);
  return {
    prefix: env.REDIS_KEY_PREFIX,
    env,
    redis,
    crash: () => void child?.kill('SIGKILL'),
    restart: start,
    cleanup: async () => {
      redis.disconnect();
      child?.kill('SIGKILL');
    },
  };
}
