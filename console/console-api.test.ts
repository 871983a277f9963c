import type { FastifyInstance } from 'fastify';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeyStore } from '../core/credentials/local-key-store.js';
import { redisKeys } from '../core/redis-contract.js';
import { accountManifest } from '../local/manifests.js';
import { createTestDatabase, createTestRedis, TEST_REDIS_URL, type TestDatabase, type TestRedis } from '../testing/services.js';
import { createDb, type Db } from '../core/db/connection.js';
import { createRedis, type Redis } from '../core/redis.js';
import { provisionConsoleLogins } from '../operator/logins.js';
import { tempDir } from '../testing/temp.js';
import { LocalBackend } from './local-backend.js';
import { buildConsole } from './server.js';
import { Users } from './users.js';

/** A browser's worth of state: the session and CSRF cookies, and the CSRF token. */
class Client {
  cookies: Record<string, string> = {};
  csrf = '';
  constructor(private readonly app: FastifyInstance) {}

  async call(method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown, opts: { csrf?: boolean } = {}) {
    const res = await this.app.inject({
      method,
      url,
      cookies: this.cookies,
      headers: method !== 'GET' && opts.csrf !== false ? { 'x-csrf-token': this.csrf } : {},
      ...(body !== undefined ? { payload: body as object } : {}),
    });
    for (const c of res.cookies as Array<{ name: string; value: string }>) this.cookies[c.name] = c.value;
    return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as any) : undefined, raw: res.body };
  }

  async login(name: string, password: string) {
    this.csrf = (await this.call('GET', '/api/session')).body.csrfToken;
    return this.call('POST', '/api/login', { name, password });
  }
}

const PASSWORD = 'correct horse battery';
const SECRET = 'console-test-secret-value-0123456789abcdef';

describe('the console API: each user sees and changes only their own accounts', () => {
  let pgdb: TestDatabase;
  let r: TestRedis;
  let app: FastifyInstance;
  let dir: string;
  let keys: LocalKeyStore;
  let keysDir: string;
  const logLines: string[] = [];
  let consoleDb: Db;
  let consoleRedis: Redis;

  beforeAll(async () => {
    [pgdb, r] = [await createTestDatabase(), createTestRedis()];
    const root = tempDir('console-api');
    dir = join(root, 'accounts');
    const created = join(root, 'created');
    mkdirSync(dir);
    mkdirSync(created);
    for (const id of ['alice', 'bob']) {
      writeFileSync(
        join(dir, `${id}.yaml`),
        `# ${id}'s account\n${accountManifest(id, { displayName: id, exchange: 'simulator', secretRef: { name: `${id}-binance` }, config: { leverage: 3 } })}`,
      );
    }
    keysDir = join(root, 'keys');
    keys = new LocalKeyStore(keysDir, 'console-test-master-key');
    const users = new Users(pgdb.db);
    await users.add('admin', 'admin', PASSWORD);
    await users.add('anna', 'user', PASSWORD);
    await users.add('ben', 'user', PASSWORD);
    await users.add('carol', 'user', PASSWORD);
    await users.own('anna', ['alice']);
    await users.own('ben', ['bob']);
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
    // The console runs on logins of its own, as under ats up and in the chart.
    const logins = await provisionConsoleLogins({ db: pgdb.db, databaseUrl: pgdb.url, redis: r.redis, redisUrl: TEST_REDIS_URL, keyPrefix: r.prefix });
    consoleDb = createDb(logins.databaseUrl);
    consoleRedis = createRedis({ REDIS_URL: logins.redisUrl, REDIS_KEY_PREFIX: r.prefix });
    ({ app } = await buildConsole({
      db: consoleDb,
      redis: consoleRedis,
      backend: new LocalBackend({ dirs: [dir, created], newAccountsDir: created, keys, redis: r.redis }),
      logger,
      defaultExchange: 'simulator',
      loginAttemptsPerMinute: 10,
    }));
    // Records and logs of both accounts.
    for (const id of ['alice', 'bob']) {
      await pgdb.db.insertInto('accounts').values({ id, name: id, exchange: 'simulator' }).execute();
      await pgdb.db
        .insertInto('orders')
        .values({
          account_id: id,
          client_order_id: `${id}-1`,
          symbol: 'BTCUSDT',
          side: 'buy',
          type: 'market',
          purpose: 'entry',
          quantity: '0.01',
          status: 'closed',
        })
        .execute();
      await r.redis.xadd(
        redisKeys.logs('error'),
        '*',
        'time',
        String(Date.now()),
        'component',
        'trader',
        'account_id',
        id,
        'msg',
        `${id} trouble`,
        'entry',
        '{}',
      );
    }
    await r.redis.xadd(redisKeys.logs('info'), '*', 'time', String(Date.now()), 'component', 'marketdata', 'account_id', '', 'msg', 'scan done', 'entry', '{}');
  });

  afterAll(async () => {
    await app?.close();
    consoleRedis?.disconnect();
    await consoleDb?.destroy();
    await r?.cleanup();
    await pgdb?.drop();
  });

  it('refuses everything but the session probe, login and the OpenAPI document without a session', async () => {
    const c = new Client(app);
    expect((await c.call('GET', '/api/accounts')).status).toBe(401);
    expect((await c.call('GET', '/api/accounts/alice/orders')).status).toBe(401);
    const session = await c.call('GET', '/api/session');
    expect(session.body.user).toBeNull();
    const doc = await c.call('GET', '/api/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toMatch(/^3\./);
    // The config form's schema is the CRD's (generated from the same zod schema).
    const config = doc.body.paths['/api/accounts/{id}/config'].put.requestBody.content['application/json'].schema.properties.config;
    expect(config.properties.leverage).toMatchObject({ type: 'integer', minimum: 1, maximum: 125 });
  });

  it('logs in with the right password only, sets an HttpOnly SameSite cookie, and rate-limits attempts', async () => {
    const c = new Client(app);
    c.csrf = (await c.call('GET', '/api/session')).body.csrfToken;
    const res = await app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { name: 'anna', password: PASSWORD },
      cookies: c.cookies,
      headers: { 'x-csrf-token': c.csrf },
    });
    expect(res.statusCode).toBe(200);
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(/ats_session=[^;]+;.*HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    // The table holds a hash of the token, never the token.
    const token = /ats_session=([^;]+)/.exec(cookie)![1]!;
    const rows = await pgdb.db.selectFrom('sessions').select('token_hash').execute();
    expect(rows.map((x) => x.token_hash)).not.toContain(token);

    const wrong = new Client(app);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await wrong.login('carol', 'not the password')).status);
    expect(statuses.slice(0, 4).every((s) => s === 401)).toBe(true);
    expect(statuses).toContain(429);
    // A forged X-Forwarded-For does not make another client of it (no proxy is trusted).
    const forged = await app.inject({
      method: 'POST',
      url: '/api/login',
      payload: { name: 'carol', password: 'x' },
      headers: { 'x-forwarded-for': '10.9.8.7', 'x-csrf-token': wrong.csrf },
      cookies: wrong.cookies,
    });
    expect(forged.statusCode).toBe(429);
    // Even the right password waits out the limit; another user is not held up by it.
    expect((await wrong.login('carol', PASSWORD)).status).toBe(429);
    expect((await new Client(app).login('anna', PASSWORD)).status).toBe(200);
  });

  it('gives a user their own accounts and 404 for everything of another user', async () => {
    const anna = new Client(app);
    expect((await anna.login('anna', PASSWORD)).status).toBe(200);
    const list = await anna.call('GET', '/api/accounts');
    expect(list.body.map((a: { id: string }) => a.id)).toEqual(['alice']);
    expect((await anna.call('GET', '/api/accounts/alice')).status).toBe(200);
    expect((await anna.call('GET', '/api/accounts/alice/orders')).body.items).toHaveLength(1);
    for (const path of ['', '/orders', '/fills', '/closed-positions', '/equity', '/positions', '/denials', '/key']) {
      const res = await anna.call('GET', `/api/accounts/bob${path}`);
      expect(res.status, `GET /api/accounts/bob${path}`).toBe(404);
      expect(res.raw).not.toContain('bob-1');
    }
    expect((await anna.call('PUT', '/api/accounts/bob/config', { config: { leverage: 5 } })).status).toBe(404);
    expect((await anna.call('POST', '/api/accounts/bob/pause')).status).toBe(404);
    expect((await anna.call('POST', '/api/accounts/bob/close', { symbols: [] })).status).toBe(404);
    expect((await anna.call('PUT', '/api/accounts/bob/key', { apiKey: 'k'.repeat(20), apiSecret: 's'.repeat(20) })).status).toBe(404);
    // Logs: global entries and her own account's, never bob's.
    const logs = (await anna.call('GET', '/api/logs')).body.map((e: { msg: string }) => e.msg);
    expect(logs).toEqual(expect.arrayContaining(['alice trouble', 'scan done']));
    expect(logs).not.toContain('bob trouble');
    expect((await anna.call('GET', '/api/logs?account=bob')).body).toEqual([]);
    // Admin pages are not hers either.
    for (const path of ['/api/system', '/api/audit', '/api/users']) expect((await anna.call('GET', path)).status).toBe(404);
    expect(readFileSync(join(dir, 'bob.yaml'), 'utf8')).toContain('leverage: 3');
    // The attempts are in the audit log, refused.
    const refused = await pgdb.db.selectFrom('audit_log').select(['action', 'outcome']).where('account_id', '=', 'bob').execute();
    expect(refused.length).toBeGreaterThanOrEqual(3);
    expect(refused.every((a) => a.outcome === 'refused')).toBe(true);
  });

  it('gives an admin every account, its records and logs', async () => {
    const admin = new Client(app);
    await admin.login('admin', PASSWORD);
    expect((await admin.call('GET', '/api/accounts')).body.map((a: { id: string }) => a.id)).toEqual(['alice', 'bob']);
    expect((await admin.call('GET', '/api/accounts/bob/orders')).body.items[0].client_order_id).toBe('bob-1');
    expect((await admin.call('GET', '/api/logs')).body.map((e: { msg: string }) => e.msg)).toContain('bob trouble');
    expect((await admin.call('GET', '/api/system')).status).toBe(200);
    expect((await admin.call('GET', '/api/users')).body.find((u: { name: string }) => u.name === 'ben').accounts).toEqual(['bob']);
  });

  it('needs the CSRF token for every change', async () => {
    const anna = new Client(app);
    await anna.login('anna', PASSWORD);
    const res = await anna.call('POST', '/api/accounts/alice/pause', undefined, { csrf: false });
    expect(res.status).toBe(403);
    expect(readFileSync(join(dir, 'alice.yaml'), 'utf8')).not.toContain('paused: true');
  });

  it('writes config, pause and close requests into the manifest (keeping its comments), refuses an invalid config by name, and audits each', async () => {
    const anna = new Client(app);
    await anna.login('anna', PASSWORD);
    const bad = await anna.call('PUT', '/api/accounts/alice/config', { config: { leverage: 500 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/leverage/);
    expect((await anna.call('PUT', '/api/accounts/alice/config', { config: { leverage: 5, maxOpenPositions: 2 } })).status).toBe(200);
    expect((await anna.call('POST', '/api/accounts/alice/pause')).status).toBe(200);
    const close = await anna.call('POST', '/api/accounts/alice/close', { symbols: ['BTCUSDT'] });
    expect(close.status).toBe(200);
    const text = readFileSync(join(dir, 'alice.yaml'), 'utf8');
    expect(text).toContain("# alice's account");
    expect(text).toMatch(/leverage: 5/);
    expect(text).toMatch(/paused: true/);
    expect(text).toContain(close.body.requestId);
    const detail = (await anna.call('GET', '/api/accounts/alice')).body;
    expect(detail.spec.config.maxOpenPositions).toBe(2);
    expect(detail.closeRequest).toMatchObject({ id: close.body.requestId, symbols: ['BTCUSDT'], done: false });
    const audit = await pgdb.db.selectFrom('audit_log').selectAll().where('user_name', '=', 'anna').where('account_id', '=', 'alice').orderBy('id').execute();
    // The invalid form never reached a change (the schema refused it), so only the changes are there.
    expect(audit.map((a) => [a.action, a.outcome])).toEqual([
      ['account.config', 'ok'],
      ['account.pause', 'ok'],
      ['account.close', 'ok'],
    ]);
  });

  it('takes a key write-only: a fingerprint comes back, the key is stored encrypted and appears nowhere', async () => {
    const anna = new Client(app);
    await anna.login('anna', PASSWORD);
    const res = await anna.call('PUT', '/api/accounts/alice/key', { apiKey: `key-${SECRET}`, apiSecret: SECRET });
    expect(res.status).toBe(200);
    expect(res.body.fingerprint).toMatch(/^sha256:/);
    expect(res.raw).not.toContain(SECRET);
    expect(keys.get('alice-binance').apiSecret).toBe(SECRET);
    expect(readFileSync(join(keysDir, 'alice-binance.json'), 'utf8')).not.toContain(SECRET);
    const audit = await pgdb.db.selectFrom('audit_log').select('detail').where('action', '=', 'account.key').execute();
    expect(JSON.stringify(audit)).not.toContain(SECRET);
    expect(JSON.stringify(audit)).toContain(res.body.fingerprint);
    expect(JSON.stringify(await anna.call('GET', '/api/accounts/alice'))).not.toContain(SECRET);
    expect(logLines.join('\n')).not.toContain(SECRET);
  });

  it("runs on logins that read records and write only the console's own tables and keys", async () => {
    await expect(
      consoleDb
        .insertInto('orders')
        .values({
          account_id: 'alice',
          client_order_id: 'forged',
          symbol: 'BTCUSDT',
          side: 'buy',
          type: 'market',
          purpose: 'entry',
          quantity: '1',
          status: 'new',
        })
        .execute(),
    ).rejects.toThrow(/permission denied/);
    await expect(consoleDb.updateTable('accounts').set({ name: 'x' }).execute()).rejects.toThrow(/permission denied/);
    await expect(sql`create role forged_role`.execute(consoleDb)).rejects.toThrow(/permission denied/);
    await expect(consoleRedis.hset(redisKeys.config('alice'), 'leverage', '125')).rejects.toThrow(/NOPERM/);
    await expect(consoleRedis.set(redisKeys.recommendationsSnapshot(), '{}')).rejects.toThrow(/NOPERM/);
    expect(await consoleRedis.hgetall(redisKeys.config('alice'))).toEqual({});
  });

  it('creates an account owned by its creator, in the folder for new accounts', async () => {
    const ben = new Client(app);
    await ben.login('ben', PASSWORD);
    const res = await ben.call('POST', '/api/accounts', { id: 'carl', displayName: 'Carl', config: { leverage: 2 } });
    expect(res.status).toBe(200);
    expect((await ben.call('GET', '/api/accounts')).body.map((a: { id: string }) => a.id)).toEqual(['bob', 'carl']);
    expect((await ben.call('POST', '/api/accounts', { id: 'alice', displayName: 'Taken' })).status).toBe(400);
    const anna = new Client(app);
    await anna.login('anna', PASSWORD);
    expect((await anna.call('GET', '/api/accounts/carl')).status).toBe(404);
    // An id used before (the account deleted, its ownership rows left) goes to its new creator alone.
    await pgdb.db.insertInto('account_owners').values({ account_id: 'erin', user_name: 'anna' }).execute();
    expect((await ben.call('POST', '/api/accounts', { id: 'erin', displayName: 'Erin' })).status).toBe(200);
    expect((await anna.call('GET', '/api/accounts/erin')).status).toBe(404);
    expect((await ben.call('GET', '/api/accounts/erin')).status).toBe(200);
  });
});
