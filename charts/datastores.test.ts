import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createDb } from '../core/db/connection.js';
import { freePort } from '../core/db/embedded.js';
import { provisionMarketdataRole } from '../core/db/marketdata-role.js';
import { migrateToLatest } from '../core/db/migrate.js';
import { provisionTraderRole } from '../core/db/trader-role.js';
import { provisionTraderRedisUser } from '../core/redis-acl.js';
import { redisKeys } from '../core/redis-contract.js';
import { createRedis } from '../core/redis.js';
import { renderChart } from '../testing/helm.js';
import { createTestDatabase, TEST_PG_ADMIN_URL } from '../testing/services.js';
import { tempDir } from '../testing/temp.js';
import { until } from '../testing/until.js';

/**
 * The bundled datastores as the chart configures them, run for real: the Redis configuration the
 * chart renders in a real redis-server, and the Postgres init script in a real psql.
 */
type Doc = { kind: string; metadata: { name: string }; data?: Record<string, string>; stringData?: Record<string, string> };
const render = (extra: string[]) => renderChart<Doc>('ats', ['--namespace', 'trading', ...extra]);
const find = (docs: Doc[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name)!;

describe("the bundled Redis's configuration", () => {
  let server: ChildProcess | undefined;
  afterAll(() => server?.kill('SIGKILL'));

  it('lets no client in without a login but for PING; the operator logs in as ats and makes the users of the others', async () => {
    const password = randomBytes(12).toString('hex');
    const docs = render(['--set', `redis.password=${password}`]);
    const conf = join(tempDir('redis-conf'), 'redis.conf');
    writeFileSync(conf, find(docs, 'Secret', 'ats-redis').stringData!['redis.conf']!);
    const port = await freePort();
    server = spawn('redis-server', [conf, '--port', String(port), '--bind', '127.0.0.1'], { stdio: 'ignore' });

    const anonymous = createRedis({ REDIS_URL: `redis://127.0.0.1:${port}`, REDIS_KEY_PREFIX: '' });
    anonymous.on('error', () => undefined);
    await until(async () => (await anonymous.ping().catch(() => '')) === 'PONG', 10_000);
    await expect(anonymous.get('x')).rejects.toThrow(/NOPERM/);
    await expect(anonymous.set(redisKeys.config('alice'), '{}')).rejects.toThrow(/NOPERM/);
    await expect(anonymous.call('ACL', 'LIST')).rejects.toThrow(/NOPERM/);
    anonymous.disconnect();

    // The operator's URL (the runtime Secret), pointed at this server.
    const adminUrl = new URL(find(docs, 'Secret', 'ats-runtime').stringData!.REDIS_URL!);
    expect([adminUrl.username, adminUrl.password]).toEqual(['ats', password]);
    adminUrl.host = `127.0.0.1:${port}`;
    const admin = createRedis({ REDIS_URL: adminUrl.toString(), REDIS_KEY_PREFIX: '' });
    await admin.set(redisKeys.config('alice'), '{}');
    const alice = createRedis({ REDIS_URL: await provisionTraderRedisUser(admin, adminUrl.toString(), 'alice'), REDIS_KEY_PREFIX: '' });
    await alice.hset(redisKeys.positions('alice'), 'BTCUSDT', '{}');
    await expect(alice.hset(redisKeys.positions('bob'), 'BTCUSDT', '{}')).rejects.toThrow(/NOPERM/);
    alice.disconnect();
    admin.disconnect();
  });
});

describe("the bundled Postgres's init script", () => {
  it('makes the workload role a non-superuser that can migrate, and make and map the trader and marketdata roles', { timeout: 60_000 }, async () => {
    const docs = render(['--set', 'postgresql.password=chartpw']);
    const script = find(docs, 'ConfigMap', 'ats-postgres-init').data!['ats-role.sh']!;
    const statefulSet = find(docs, 'StatefulSet', 'ats-postgres') as unknown as { spec: any };
    const env: Array<{ name: string; value?: string }> = statefulSet.spec.template.spec.containers[0].env;
    expect(env.find((e) => e.name === 'POSTGRES_USER')?.value).toBe('postgres');
    expect(env.find((e) => e.name === 'ATS_ROLE')?.value).toBe('ats');
    expect(new URL(find(docs, 'Secret', 'ats-runtime').stringData!.DATABASE_URL!).username).toBe('ats');

    // As the image runs it (a fresh database, the superuser), with a role name of the test's own:
    // roles belong to the whole shared test server.
    const d = await createTestDatabase({ migrate: false });
    const role = `ats_chart_${randomBytes(4).toString('hex')}`;
    const server = new URL(TEST_PG_ADMIN_URL);
    try {
      const run = spawnSync('sh', ['-c', script], {
        encoding: 'utf8',
        env: {
          ...process.env,
          PGHOST: server.hostname,
          PGPORT: server.port || '5432',
          POSTGRES_USER: decodeURIComponent(server.username),
          POSTGRES_DB: new URL(d.url).pathname.slice(1),
          ATS_ROLE: role,
          ATS_PASSWORD: 'chartpw',
        },
      });
      expect(run.status, run.stderr).toBe(0);

      const url = new URL(d.url);
      [url.username, url.password] = [role, 'chartpw'];
      const app = createDb(url.toString());
      try {
        const me = await sql<{ rolsuper: boolean; rolcreaterole: boolean }>`select rolsuper, rolcreaterole from pg_roles where rolname = current_user`.execute(
          app,
        );
        expect(me.rows[0]).toEqual({ rolsuper: false, rolcreaterole: true });
        await migrateToLatest(app);
        await app.insertInto('accounts').values({ id: 'alice', name: 'alice', exchange: 'simulator' }).execute();
        const trader = createDb(await provisionTraderRole(app, url.toString(), 'alice'));
        expect((await trader.selectFrom('accounts').select('id').execute()).map((a) => a.id)).toEqual(['alice']);
        await trader.destroy();
        const marketdata = createDb(await provisionMarketdataRole(app, url.toString()));
        expect(await marketdata.selectFrom('recommendations').select('id').execute()).toEqual([]);
        await marketdata.destroy();
      } finally {
        await app.destroy();
      }
    } finally {
      await d.drop();
      const admin = createDb(TEST_PG_ADMIN_URL);
      await sql`drop role if exists ${sql.id(role)}`.execute(admin);
      await admin.destroy();
    }
  });
});
