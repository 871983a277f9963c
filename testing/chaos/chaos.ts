/**
 * `npm run chaos`: a fault campaign against `ats up` (the example accounts plus more, on the
 * simulator, at a fast market speed). It kills traders with kill -9 (at entries and at random),
 * kills marketdata, wipes Redis, cuts and refuses Postgres connections, makes the exchange answer
 * 503 / 429 / 418, slow and with dropped sockets, and drops bad manifests in. Every second it
 * checks that every open position has its stop-loss; at the end it compares the records with
 * the exchange. It prints one table and exits non-zero when a failure column is not 0.
 *
 *   npm run chaos -- --kills 50 --accounts 6
 */
import { readdirSync, readFileSync, writeFileSync, cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'kysely';
import { freePort } from '../../core/db/embedded.js';
import { readRuntimeFile } from '../../core/runtime-file.js';
import { createRedis } from '../../core/redis.js';
import { spawnAts } from '../processes.js';
import { accountManifest } from '../../local/manifests.js';
import pg from 'pg';
import { createTestDatabase, createTestRedis, TEST_PG_ADMIN_URL } from '../services.js';
import { tempDir } from '../temp.js';
import { until } from '../until.js';

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string', default: '50' },
    accounts: { type: 'string', default: '6' },
    speed: { type: 'string', default: '1800' },
    'fault-every': { type: 'string', default: '5' },
  },
});
const FAULT_EVERY = Number(args['fault-every']);
const KILLS = Number(args.kills);
const ACCOUNTS = Number(args.accounts);

interface SimAccount {
  id: string;
  positions: Array<{ symbol: string; positionAmt: string }>;
  stopSymbols: string[];
  trades: number;
}

const manifest = (name: string) =>
  accountManifest(name, {
    displayName: name,
    exchange: 'simulator',
    secretRef: { name: `${name}-binance` },
    config: { minScore: 0.1, maxOpenPositions: 4, sizing: { mode: 'fixed', usdt: 200 }, leverage: 3 },
  });

/** The children of `ats up` (by parent pid) with their command lines. */
function children(parent: number): Array<{ pid: number; cmd: string[] }> {
  const out: Array<{ pid: number; cmd: string[] }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) out.push({ pid: Number(entry), cmd: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0') });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const EXCHANGE_FAULTS = ['503', '429', '418', 'latency', 'drop'] as const;
const pick = <T>(xs: T[]): T | undefined => xs[Math.floor(Math.random() * xs.length)];

async function main(): Promise<void> {
  const r = createTestRedis();
  const d = await createTestDatabase({ migrate: false });
  const state = tempDir('ats-chaos');
  const accountsDir = join(state, 'accounts');
  cpSync('examples', accountsDir, { recursive: true });
  for (let i = 1; i <= ACCOUNTS - 3; i += 1) writeFileSync(join(accountsDir, `chaos${i}.yaml`), manifest(`chaos${i}`));
  const simPort = await freePort();
  // From dist/, as deployed (`npm run chaos` builds first).
  const up = spawnAts(
    ['up', '--accounts', accountsDir, '--sim-port', String(simPort), '--console-port', '0', '--speed', args.speed!],
    { ...r.env, DATABASE_URL: d.url, ATS_STATE_DIR: state },
    { built: true },
  );
  const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`http://127.0.0.1:${simPort}/_sim${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await res.json()) as T;
  };
  const counts = { traderKills: 0, killsAtEntry: 0, marketdataKills: 0, redisWipes: 0, postgresCuts: 0, badManifests: 0 };
  const exchangeFaults = Object.fromEntries(EXCHANGE_FAULTS.map((k) => [k, 0])) as Record<(typeof EXCHANGE_FAULTS)[number], number>;
  const unprotectedSince = new Map<string, number>();
  // What the campaign did and when: printed beside every position unprotected over 5 s.
  const events: Array<{ at: number; what: string }> = [];
  const note = (what: string) => events.push({ at: Date.now(), what });
  const episodes: string[] = [];
  let unprotectedOver5s = 0;
  let longestUnprotectedMs = 0;
  let sampling = true;
  try {
    await until(() => readRuntimeFile(state) !== undefined, 120_000, 500);
    const runtime = readRuntimeFile(state)!;
    const adminRedis = createRedis({ REDIS_URL: runtime.redisUrl, REDIS_KEY_PREFIX: '' });
    await until(async () => (await admin<SimAccount[]>('GET', '/accounts')).length >= ACCOUNTS, 120_000, 1_000);
    console.log(`ats up is running with ${ACCOUNTS} accounts; campaign of ${KILLS} trader kills starts`);

    // Every second: each open position must have its stop-loss within 5 s.
    const sampler = (async () => {
      while (sampling) {
        const now = Date.now();
        for (const a of await admin<SimAccount[]>('GET', '/accounts').catch(() => [] as SimAccount[])) {
          for (const p of a.positions) {
            const key = `${a.id}/${p.symbol}`;
            if (a.stopSymbols.includes(p.symbol)) {
              unprotectedSince.delete(key);
              continue;
            }
            const since = unprotectedSince.get(key) ?? now;
            unprotectedSince.set(key, since);
            longestUnprotectedMs = Math.max(longestUnprotectedMs, now - since);
            if (now - since > 5_000 && now - since <= 6_000) {
              unprotectedOver5s += 1;
              const recent = events.filter((e) => e.at >= since - 10_000).map((e) => `${((e.at - since) / 1000).toFixed(1)}s ${e.what}`);
              episodes.push(`${key} unprotected since ${new Date(since).toISOString()}; around it: ${recent.join(', ') || 'nothing'}`);
            }
          }
          for (const key of unprotectedSince.keys())
            if (key.startsWith(`${a.id}/`) && !a.positions.some((p) => key === `${a.id}/${p.symbol}`)) unprotectedSince.delete(key);
        }
        await sleep(1_000);
      }
    })();

    // Dedicated traders and trader pools (carol's, from examples/).
    const traders = () => children(up.child.pid!).filter((c) => c.cmd.includes('trader') || c.cmd.includes('pool'));
    const faults: Array<() => Promise<void>> = [
      async () => {
        const md = children(up.child.pid!).find((c) => c.cmd.includes('marketdata'));
        if (md) process.kill(md.pid, 'SIGKILL');
        note('marketdata kill -9');
        counts.marketdataKills += 1;
      },
      async () => {
        // Redis back empty: every key of this installation is gone.
        const keys = await adminRedis.keys(`${r.prefix}*`);
        if (keys.length > 0) await adminRedis.del(...keys);
        note('Redis wiped');
        counts.redisWipes += 1;
      },
      async () => {
        // Postgres refuses connections for 20 s, and open ones are cut.
        const name = new URL(d.url).pathname.slice(1);
        const server = new pg.Client({ connectionString: TEST_PG_ADMIN_URL });
        await server.connect();
        await server.query(`alter database "${name}" allow_connections false`);
        await server.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);
        note('Postgres cut');
        await sleep(20_000);
        note('Postgres back');
        await server.query(`alter database "${name}" allow_connections true`);
        await server.end();
        counts.postgresCuts += 1;
      },
      ...EXCHANGE_FAULTS.map((kind) => async () => {
        if (kind === '503') await admin('POST', '/faults', { fail5xx: { count: 30, status: 503 } });
        if (kind === '429') await admin('POST', '/faults', { reject429: { count: 10, retryAfterSeconds: 2 } });
        if (kind === '418') await admin('POST', '/faults', { ban418: { seconds: 3 } });
        if (kind === 'latency') await admin('POST', '/faults', { latencyMs: 800 });
        if (kind === 'drop') await admin('POST', '/faults', { dropSockets: true });
        note(`exchange ${kind}`);
        await sleep(5_000);
        await admin('DELETE', '/faults');
        note(`exchange ${kind} over`);
        exchangeFaults[kind] += 1;
      }),
      async () => {
        const file = join(accountsDir, pick(['alice.yaml', 'bob.yaml', 'chaos1.yaml'])!);
        const good = readFileSync(file, 'utf8');
        writeFileSync(file, Math.random() < 0.5 ? `${good}\n  : [broken` : good.replace(/leverage: \d+/, 'leverage: -1'));
        note(`bad manifest ${file}`);
        await sleep(4_000);
        writeFileSync(file, good);
        counts.badManifests += 1;
      },
    ];

    const ordersBefore = async () => Number((await sql<{ n: string }>`select count(*) as n from orders where purpose = 'entry'`.execute(d.db)).rows[0]!.n);
    for (let k = 0; k < KILLS; k += 1) {
      // Half the kills right after an entry was recorded, half at random moments.
      if (k % 2 === 0) {
        const before = await ordersBefore().catch(() => 0);
        await until(async () => (await ordersBefore().catch(() => before)) > before, 60_000, 100).catch(() => undefined);
        counts.killsAtEntry += 1;
      } else await sleep(1_000 + Math.random() * 4_000);
      const victim = pick(traders());
      if (victim) {
        process.kill(victim.pid, 'SIGKILL');
        note(
          `kill -9 ${victim.cmd.includes('--account') ? victim.cmd[victim.cmd.indexOf('--account') + 1] : (victim.cmd[victim.cmd.indexOf('--pool') + 1] ?? victim.pid)}`,
        );
        counts.traderKills += 1;
      }
      // After every fifth kill the next fault kind, in turn: every kind comes up.
      if (k % FAULT_EVERY === FAULT_EVERY - 1) await faults[Math.floor(k / FAULT_EVERY) % faults.length]!();
      process.stdout.write(`\r${counts.traderKills}/${KILLS} kills`);
    }
    // Every fault kind at least once.
    for (const fault of faults) await fault();
    await admin('DELETE', '/faults');
    console.log('\ncampaign over: letting the system settle for 45 s');
    await sleep(45_000);
    sampling = false;
    await sampler;

    // The records against the exchange.
    const sim = await admin<SimAccount[]>('GET', '/accounts');
    let fillsMissing = 0;
    let positionsWrong = 0;
    for (const a of sim) {
      const trades = Number((await sql<{ n: string }>`select count(*) as n from trades where account_id = ${a.id}`.execute(d.db)).rows[0]!.n);
      fillsMissing += Math.max(0, a.trades - trades);
      const open = await d.db.selectFrom('positions').select('symbol').where('account_id', '=', a.id).where('status', '=', 'open').execute();
      const recorded = open.map((p) => p.symbol).sort();
      const onExchange = a.positions.map((p) => p.symbol).sort();
      positionsWrong += recorded.filter((s) => !onExchange.includes(s)).length + onExchange.filter((s) => !recorded.includes(s)).length;
    }
    const duplicates = Number(
      (
        await sql<{ n: string }>`select count(*) as n from (select account_id, recommendation_id from orders where purpose = 'entry' and status <> 'REJECTED'
          group by 1, 2 having count(*) > 1) x`.execute(d.db)
      ).rows[0]!.n,
    );
    const duplicateClientIds = Number(
      (await sql<{ n: string }>`select count(*) as n from (select client_order_id from orders group by account_id, 1 having count(*) > 1) x`.execute(d.db))
        .rows[0]!.n,
    );
    const counters = await admin<{ sent429: number; sent418: number; sent5xx: number }>('GET', '/counters');
    const entries = await ordersBefore();
    adminRedis.disconnect();

    const rows: Array<[string, number | string]> = [
      ['accounts', ACCOUNTS],
      ['entries recorded', entries],
      ['trader kill -9 (at an entry)', `${counts.traderKills} (${counts.killsAtEntry})`],
      ['marketdata kill -9', counts.marketdataKills],
      ['Redis wiped', counts.redisWipes],
      ['Postgres cut and refused 20 s', counts.postgresCuts],
      ['exchange faults (503 / 429 / 418 / latency / drop)', EXCHANGE_FAULTS.map((k) => exchangeFaults[k]).join(' / ')],
      ['bad manifests', counts.badManifests],
      ['exchange answered 429 / 418 / 5xx', `${counters.sent429} / ${counters.sent418} / ${counters.sent5xx}`],
      ['longest without a stop-loss (s)', (longestUnprotectedMs / 1000).toFixed(1)],
      ['FAIL duplicate entries', duplicates],
      ['FAIL duplicate client order ids', duplicateClientIds],
      ['FAIL positions unprotected > 5 s', unprotectedOver5s],
      ['FAIL fills missing in Postgres', fillsMissing],
      ['FAIL open positions wrong in Postgres', positionsWrong],
    ];
    for (const e of episodes) console.log(`unprotected over 5 s: ${e}`);
    console.log('\n| measure | value |\n|---|---|');
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
    process.exitCode = rows.some(([k, v]) => k.startsWith('FAIL') && v !== 0) ? 1 : 0;
  } finally {
    sampling = false;
    up.child.kill('SIGINT');
    await Promise.race([up.exited, sleep(20_000)]);
    up.child.kill('SIGKILL');
    await r.cleanup();
    await d.drop();
    rmSync(state, { recursive: true, force: true });
  }
}

await main();
