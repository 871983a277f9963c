import { join } from 'node:path';
import { pino } from 'pino';
import type { LocalKeyStore } from '../core/credentials/local-key-store.js';
import { LocalOperator } from '../local/local-operator.js';
import { ProcessSupervisor } from '../local/process-supervisor.js';
import type { Placement } from '../operator/pools.js';
import { ATS_PROGRAM } from './processes.js';
import type { TestDatabase, TestRedis } from './services.js';
import type { TestSimulator } from './simulator.js';

/**
 * The local runtime as `ats up` runs it, on the test's simulator, database and Redis: manifests
 * from `dir`, processes from the sources with their output in `<state>/logs`, and no database or
 * Redis login in any child's environment (each gets its own on standard input). Started.
 */
export function startTestLocalRuntime(
  o: { t: TestSimulator; r: TestRedis; d: TestDatabase; dir: string; state: string; keys: LocalKeyStore },
  placement: { placement?: Placement; poolMaxAccounts?: number } = {},
): { operator: LocalOperator; supervisor: ProcessSupervisor } {
  const logger = pino({ level: 'silent' });
  const supervisor = new ProcessSupervisor({ logDir: join(o.state, 'logs'), logger, program: ATS_PROGRAM, env: { REDIS_KEY_PREFIX: o.r.prefix } });
  const operator = new LocalOperator({
    dirs: [o.dir],
    db: o.d.db,
    redis: o.r.redis,
    keys: o.keys,
    supervisor,
    logger,
    intervalMs: 500,
    simulatorUrl: o.t.url,
    logins: { db: o.d.db, databaseUrl: o.d.url, redis: o.r.redis, redisUrl: o.r.env.REDIS_URL, keyPrefix: o.r.prefix },
    ...placement,
  });
  operator.start();
  return { operator, supervisor };
}
