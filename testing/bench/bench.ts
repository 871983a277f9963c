/**
 * `npm run bench`: how many accounts one node holds. Runs the local system (simulator, marketdata,
 * N trader processes from dist/) for each N and prints one table: memory, CPU, the Binance budget,
 * reaction time from a new recommendation to every account's entry and stop-loss, and mark-price
 * freshness, then a projection for a 2 vCPU / 4 GB node.
 *
 *   npm run bench                    # dedicated N = 1, 30; pooled N = 1, 100, 300, 500
 *   npm run bench -- --accounts 2 --steady 5
 */
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { pino } from 'pino';
import { LocalKeyStore } from '../../core/credentials/local-key-store.js';
import { redisKeys } from '../../core/redis-contract.js';
import { publishSnapshot } from '../../core/recommendations.js';
import { configEntries, tradingConfigSchema } from '../../core/trading-config.js';
import { createTestDatabase, createTestRedis } from '../services.js';
import { Simulator } from '../../simulator/server.js';
import { ProcessSupervisor } from '../../local/process-supervisor.js';
import { poolArgs, traderArgs } from '../../local/local-operator.js';
import { provisionPoolLogins } from '../../operator/logins.js';
import { NODE_FLAGS, POOL_NODE_FLAGS, TRADER_NODE_FLAGS } from '../../core/node-flags.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const TICKS = 100;
/** k3s itself on the node: DESIGN.md gives 0.8–1.6 GB; the midpoint is reserved. */
const K3S_RESERVE_MB = 1200;
const NODE_MB = 4096;
const NODE_CORES = 2;

interface Sample {
  rssMb: number;
  ticks: number;
}
const proc = (pid: number): Sample | undefined => {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return { rssMb: Number(status.match(/VmRSS:\s+(\d+)/)![1]) / 1024, ticks: Number(stat[11]) + Number(stat[12]) };
  } catch {
    return undefined;
  }
};
const pct = (values: number[], p: number) => {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const median = (v: number[]) => pct(v, 50);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface BenchRow {
  placement: string;
  /** Trader processes: one per account, or one per pool. */
  processes: number;
  /** The trader processes' RSS over the accounts. */
  rssPerAccount: number;
  idlePrivatePerMinPerAccount: number;
  /** Accounts whose entry went without a stop-loss for more than 5 s. */
  unprotected: number;
  n: number;
  traderRssMedian: number;
  traderRssMax: number;
  marketdataRss: number;
  simRss: number;
  totalRss: number;
  cpuSteady: number;
  cpuBurst: number;
  cpuMarketdataSteady: number;
  publicPerMin: number;
  privatePerMin: number;
  peakMinute: number;
  privateBurst: number;
  publicCalls: string;
  /** Private requests of the burst per account, by endpoint. */
  burstCalls: string;
  /** Private requests per idle account per minute, by endpoint. */
  idleCalls: string;
  sent429: number;
  sent418: number;
  reactP50: number;
  reactP99: number;
  reactMax: number;
  reacted: number;
  markAgeP50: number;
  markAgeP99: number;
}

/** How the accounts run: a trader process each, or trader pools of `poolSize` accounts. */
export type BenchPlacement = { readonly pooled: false } | { readonly pooled: true; readonly poolSize: number };

/** ATS_BENCH_PROFILE=DIR: each trader process writes a V8 CPU profile there when it stops (open it in Chrome's DevTools). */
const profileFlags = () => (process.env.ATS_BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.ATS_BENCH_PROFILE}`] : []);

export async function benchOnce(n: number, steadySeconds: number, placement: BenchPlacement = { pooled: false }): Promise<BenchRow> {
  const db = await createTestDatabase();
  const r = createTestRedis();
  const state = mkdtempSync(join(tmpdir(), 'ats-bench-'));
  const sim = new Simulator({ speed: 0 });
  const { url } = await sim.listen(0);
  // ATS_PARENT_PID: the children stop by themselves if this run dies or is abandoned (a timed-out test).
  const env = {
    ...r.env,
    DATABASE_URL: db.url,
    ATS_EXCHANGE: url,
    ATS_STATE_DIR: state,
    ATS_MASTER_KEY: 'bench-master-key-0123456789',
    LOG_LEVEL: 'warn',
    ATS_PARENT_PID: String(process.pid),
  };
  const keys = new LocalKeyStore(join(state, 'keys'), env.ATS_MASTER_KEY);
  const md = spawn(process.execPath, [...NODE_FLAGS, CLI, 'marketdata', '--port', '0', '--scan-every', '1000'], {
    env: { ...process.env, ...env },
    stdio: 'ignore',
  });
  const supervisor = new ProcessSupervisor({
    logDir: join(state, 'logs'),
    env,
    logger: pino({ level: 'silent' }),
    // The supervisor puts each process's V8 flags first.
    program: [...profileFlags(), CLI],
  });
  try {
    // marketdata publishes a first scan at start; clear it so traders only see the benchmark's.
    while ((await r.redis.get(redisKeys.recommendationsVersion())) === null) await sleep(200);
    await r.redis.del(redisKeys.recommendationsSnapshot());
    const ids = Array.from({ length: n }, (_, i) => `bench${i + 1}`);
    const pairs = new Map<string, { apiKey: string; apiSecret: string }>();
    for (const id of ids) {
      const pair = { apiKey: `benchkey${id}${'0'.repeat(20)}`, apiSecret: `benchsecret${id}${'1'.repeat(30)}` };
      pairs.set(id, pair);
      keys.put(id, pair);
      sim.createAccount({ id, ...pair, balance: 10_000 });
      await r.redis.hset(redisKeys.config(id), configEntries(tradingConfigSchema.parse({ minScore: 0, sizing: { mode: 'fixed', usdt: 20 }, leverage: 5 })));
      if (!placement.pooled)
        await supervisor.ensure({ name: id, args: traderArgs(id, url), fingerprint: id, nodeFlags: TRADER_NODE_FLAGS, stdin: () => JSON.stringify(pair) });
    }
    if (placement.pooled) {
      // As `ats up --placement pooled` runs them: the accounts' rows, then a pool process per
      // poolSize accounts with logins of its own, its accounts on standard input.
      const admin = { db: db.db, databaseUrl: db.url, redis: r.redis, redisUrl: r.env.REDIS_URL, keyPrefix: r.prefix };
      const now = new Date().toISOString();
      await db.db
        .insertInto('accounts')
        .values(ids.map((id) => ({ id, name: id, exchange: url, key_fingerprint: null, last_error: null, updated_at: now })))
        .execute();
      for (let i = 0; i * placement.poolSize < n; i += 1) {
        const members = ids.slice(i * placement.poolSize, (i + 1) * placement.poolSize);
        const pool = `pool-${i}`;
        const logins = await provisionPoolLogins(admin, pool, members);
        const accounts = Object.fromEntries(members.map((id) => [id, { ...pairs.get(id)!, exchange: url }]));
        await supervisor.ensure({
          name: pool,
          args: poolArgs(pool),
          fingerprint: pool,
          keepStdinOpen: true,
          nodeFlags: POOL_NODE_FLAGS,
          stdin: () => JSON.stringify({ ...logins, accounts }),
        });
      }
    }
    const deadline = Date.now() + 60_000 + n * 3_000;
    const active = async () =>
      (await Promise.all(ids.map((id) => r.redis.get(redisKeys.heartbeat(`trader:${id}`))))).filter((h) => h && JSON.parse(h).state === 'active').length;
    while ((await active()) < n) {
      if (Date.now() > deadline) throw new Error(`only ${await active()} of ${n} traders became active`);
      await sleep(500);
    }
    await sleep(5_000);
    sim.resetCounters();

    // Steady state: CPU and memory of every process, and mark-price age as a reader sees it.
    const pids = () =>
      supervisor
        .names()
        .map((name) => supervisor.pid(name)!)
        .filter(Boolean);
    const cpuOver = async (ms: number, extra?: () => Promise<void>) => {
      const before = new Map(pids().map((p) => [p, proc(p)?.ticks ?? 0]));
      const mdBefore = proc(md.pid!)?.ticks ?? 0;
      const t0 = Date.now();
      if (extra) await extra();
      else await sleep(ms);
      const seconds = (Date.now() - t0) / 1000;
      const traderTicks = [...before].reduce((sum, [p, t]) => sum + ((proc(p)?.ticks ?? t) - t), 0);
      return { traders: (traderTicks / TICKS / seconds) * 100, marketdata: (((proc(md.pid!)?.ticks ?? mdBefore) - mdBefore) / TICKS / seconds) * 100 };
    };
    const ages: number[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const raw = await r.redis.get(redisKeys.markPriceAll());
        if (raw) ages.push(Date.now() - JSON.parse(raw).updatedAt);
        await sleep(250);
      }
    })();
    const steadyStart = Date.now();
    const steady = await cpuOver(steadySeconds * 1000);
    const rss = pids().map((p) => proc(p)?.rssMb ?? 0);
    // Public weight at steady state, per minute of the window (the burst is private traffic).
    const steadyCounters = sim.counters();
    const steadyMinutes = (Date.now() - steadyStart) / 60_000;
    const steadyWindows = Object.values(steadyCounters.weightByIpPerMinute).flat();
    const steadyPublic = steadyWindows.reduce((sum, m) => sum + m.public, 0) / steadyMinutes;
    const idlePrivate = steadyWindows.reduce((sum, m) => sum + m.private, 0) / steadyMinutes / n;
    const idleCalls = Object.entries(steadyCounters.requestsByEndpoint)
      .filter(([k]) => !/time|exchangeInfo|premiumIndex|ticker|klines/.test(k))
      .map(([k, v]) => `${k.replace(/\/fapi\/v\d\//, '')}×${(v / n / steadyMinutes).toFixed(1)}`)
      .join(' ');
    const publicCalls = Object.entries(steadyCounters.requestsByEndpoint)
      .filter(([k]) => /time|exchangeInfo|premiumIndex|ticker|klines/.test(k))
      .map(([k, v]) => `${k.replace('GET /fapi/v1/', '')}×${v}`)
      .join(' ');
    sim.resetCounters();
    const burstStart = Date.now();

    // Burst: one recommendation for every account; entry acknowledged and stop-loss placed.
    const entryAt = new Map<string, number>();
    const stopAt = new Map<string, number>();
    sim.engine.on('event', (e) => {
      if (e.kind === 'order' && e.execution === 'NEW' && !entryAt.has(e.account.id)) entryAt.set(e.account.id, Date.now());
      if (e.kind === 'algo' && e.algo.orderType === 'STOP_MARKET' && e.algo.algoStatus === 'NEW' && !stopAt.has(e.account.id))
        stopAt.set(e.account.id, Date.now());
    });
    const mark = sim.engine.mark('ETHUSDT');
    const now = Date.now();
    let published = 0;
    const burst = await cpuOver(0, async () => {
      published = Date.now();
      await publishSnapshot(r.redis, [
        {
          id: `bench-${now}`,
          symbol: 'ETHUSDT',
          side: 'long',
          entry: mark,
          stopLoss: mark * 0.9,
          takeProfit: mark * 1.1,
          score: 1,
          reason: 'benchmark',
          strategy: 'bench',
          interval: '1h',
          barTime: now,
          expiresAt: now + 600_000,
        },
      ]);
      const end = Date.now() + 60_000;
      while (stopAt.size < n && Date.now() < end) await sleep(20);
    });
    sampling = false;
    await sampler;
    const reactions = ids.filter((id) => stopAt.has(id) && entryAt.has(id)).map((id) => Math.max(stopAt.get(id)!, entryAt.get(id)!) - published);
    // An entry whose stop-loss came more than 5 s after it (or never): unprotected too long.
    const unprotected = ids.filter((id) => entryAt.has(id) && (!stopAt.has(id) || stopAt.get(id)! - entryAt.get(id)! > 5_000)).length;

    const counters = sim.counters();
    const burstCalls = Object.entries(counters.requestsByEndpoint)
      .filter(([k]) => !/time|exchangeInfo|premiumIndex|ticker|klines/.test(k))
      .map(([k, v]) => `${k.replace(/\/fapi\/v\d\//, '')}×${(v / n).toFixed(1)}`)
      .join(' ');
    const minutes = Object.values(counters.weightByIpPerMinute).flat();
    const burstMinutes = Math.max(1 / 60, (Date.now() - burstStart) / 60_000);
    const priv = minutes.reduce((s, m) => s + m.private, 0);
    const mdRss = proc(md.pid!)?.rssMb ?? 0;
    const simRss = process.memoryUsage().rss / 1024 / 1024;
    return {
      n,
      placement: placement.pooled ? `pooled (${placement.poolSize}/pool)` : 'dedicated',
      processes: rss.length,
      rssPerAccount: rss.reduce((a, b) => a + b, 0) / n,
      idlePrivatePerMinPerAccount: idlePrivate,
      unprotected,
      traderRssMedian: median(rss),
      traderRssMax: Math.max(...rss),
      marketdataRss: mdRss,
      simRss,
      totalRss: rss.reduce((a, b) => a + b, 0) + mdRss + simRss,
      cpuSteady: steady.traders,
      cpuMarketdataSteady: steady.marketdata,
      cpuBurst: burst.traders,
      publicPerMin: steadyPublic,
      privateBurst: priv,
      privatePerMin: priv / burstMinutes,
      peakMinute: Math.max(0, ...minutes.map((m) => m.public + m.private)),
      publicCalls,
      burstCalls,
      idleCalls,
      sent429: counters.sent429,
      sent418: counters.sent418,
      reacted: reactions.length,
      reactP50: median(reactions),
      reactP99: pct(reactions, 99),
      reactMax: Math.max(...reactions),
      markAgeP50: median(ages),
      markAgeP99: pct(ages, 99),
    };
  } finally {
    await supervisor.stopAll();
    md.kill('SIGTERM');
    await new Promise((res) => md.once('exit', res));
    await sim.close();
    await r.cleanup();
    await db.drop();
    if (!process.env.ATS_BENCH_KEEP) rmSync(state, { recursive: true, force: true });
  }
}

export function formatTable(rows: BenchRow[]): string {
  const f = (x: number, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');
  const head =
    '| N | placement (processes) | trader process RSS MB median / max | RSS MB per account | marketdata RSS MB | sim+bench RSS MB | total RSS MB | traders CPU % steady / burst | marketdata CPU % | public weight/min (steady) | private weight/min per idle account | private weight of the burst | peak minute | 429 / 418 | reaction ms p50 / p99 / max (reacted) | unprotected > 5 s | mark age ms p50 / p99 |';
  const sep =
    '|' +
    head
      .split('|')
      .slice(1, -1)
      .map(() => ' --- ')
      .join('|') +
    '|';
  const lines = rows.map(
    (r) =>
      `| ${r.n} | ${r.placement} (${r.processes}) | ${f(r.traderRssMedian)} / ${f(r.traderRssMax)} | ${f(r.rssPerAccount, 1)} | ${f(r.marketdataRss)} | ${f(r.simRss)} | ${f(r.totalRss)} | ${f(r.cpuSteady, 1)} / ${f(r.cpuBurst, 1)} | ${f(r.cpuMarketdataSteady, 1)} | ${f(r.publicPerMin)} | ${f(r.idlePrivatePerMinPerAccount, 1)} | ${f(r.privateBurst)} | ${f(r.peakMinute)} | ${r.sent429} / ${r.sent418} | ${f(r.reactP50)} / ${f(r.reactP99)} / ${f(r.reactMax)} (${r.reacted}/${r.n}) | ${r.unprotected} | ${f(r.markAgeP50)} / ${f(r.markAgeP99)} |`,
  );
  const calls = rows.flatMap((r) => [
    `N=${r.n} ${r.placement}: public calls in the steady window: ${r.publicCalls || 'none'}`,
    `N=${r.n} ${r.placement}: private calls of the burst per account: ${r.burstCalls || 'none'}`,
    `N=${r.n} ${r.placement}: private calls per idle account per minute: ${r.idleCalls || 'none'}`,
  ]);
  return [head, sep, ...lines, '', ...calls].join('\n');
}

export function projection(rows: BenchRow[]): string {
  const last = rows[rows.length - 1]!;
  const first = rows[0]!;
  const perTrader = median(rows.map((r) => r.traderRssMedian));
  // Fixed costs on the node besides k3s: marketdata, operator (~ a trader), Postgres and Redis (~180 MB together).
  const fixed = last.marketdataRss + perTrader + 180;
  const byMemory = Math.floor((NODE_MB - K3S_RESERVE_MB - fixed) / perTrader);
  const cpuPerTrader = last.cpuSteady / last.n;
  const byCpu = cpuPerTrader > 0 ? Math.floor((NODE_CORES * 100 * 0.7 - last.cpuMarketdataSteady) / cpuPerTrader) : Infinity;
  return [
    `Public weight per minute, N=${last.n} / N=${first.n}: ${(last.publicPerMin / Math.max(1, first.publicPerMin)).toFixed(2)} (flat means shared market data works).`,
    `Projection for a 2 vCPU / 4 GB node: reserve ${K3S_RESERVE_MB} MB for k3s (DESIGN.md: 0.8–1.6 GB) and ${Math.round(fixed)} MB for marketdata, the operator, Postgres and Redis;`,
    `at ${perTrader.toFixed(0)} MB per trader, memory holds about ${byMemory} accounts; at ${cpuPerTrader.toFixed(2)}% CPU per idle trader (70% of 2 cores usable), CPU holds ${byCpu === Infinity ? 'more' : byCpu}. Fits: about ${Math.min(byMemory, byCpu)} accounts.`,
  ].join('\n');
}

/**
 * The pooled projection: the marginal memory of an account (the slope between the smallest and
 * largest pooled run), the node's memory after k3s and the fixed processes, and the IP's weight
 * budget (80 % of 6000/min) over the idle weight per account.
 */
export function poolProjection(rows: BenchRow[]): string {
  const sorted = [...rows].sort((a, b) => a.n - b.n);
  const small = sorted[0]!;
  const large = sorted[sorted.length - 1]!;
  const marginal = large.n > small.n ? (large.rssPerAccount * large.n - small.rssPerAccount * small.n) / (large.n - small.n) : large.rssPerAccount;
  const fixed = large.marketdataRss + small.rssPerAccount * small.n + 180 + 100;
  const byMemory = Math.floor((NODE_MB - K3S_RESERVE_MB - fixed) / marginal);
  const idle = median(rows.map((r) => r.idlePrivatePerMinPerAccount));
  const byWeight = idle > 0 ? Math.floor((6000 * 0.8 - large.publicPerMin) / idle) : Infinity;
  const node = Math.min(byMemory, byWeight);
  return [
    `Pooled: ${marginal.toFixed(1)} MB per added account (N=${small.n} → N=${large.n}), ${idle.toFixed(1)} private weight/min per idle account.`,
    `Projection for a 2 vCPU / 4 GB node: memory holds about ${byMemory} pooled accounts; the IP's weight budget (80 % of 6000/min, less ${large.publicPerMin.toFixed(0)} public) holds ${byWeight === Infinity ? 'more' : byWeight} idle ones. Fits: about ${node === Infinity ? byMemory : node}.`,
    `A three-node cluster (one egress IP per node, ATS_EGRESS_ID): about ${3 * (node === Infinity ? byMemory : node)} accounts.`,
  ].join('\n');
}

/**
 * One case in a process of its own (the simulator runs in the benchmark's process): every row
 * starts from the same fresh state, whatever ran before it (an earlier case's heap, its thirty
 * stopped traders' aftermath), so a row of the full run measures what the same case run alone does.
 */
function benchInChild(n: number, steady: number, placement: BenchPlacement): Promise<BenchRow> {
  const args = ['--case', String(n), '--steady', String(steady), ...(placement.pooled ? ['--pool-size', String(placement.poolSize)] : [])];
  const child = spawn(process.execPath, [...process.execArgv, import.meta.filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  return new Promise((done, fail) =>
    child.once('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(ROW_PREFIX));
      if (code === 0 && line) done(JSON.parse(line.slice(ROW_PREFIX.length)) as BenchRow);
      else fail(new Error(`the N=${n} case ended with code ${code}: ${out.slice(-2000)}`));
    }),
  );
}

const ROW_PREFIX = 'bench-row ';

async function main() {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const list = (value: string | undefined, fallback: string) => (value ?? fallback).split(',').filter(Boolean).map(Number);
  const poolSize = Number(opt('--pool-size') ?? 100);
  const steady = Number(opt('--steady') ?? 65);
  const single = opt('--case');
  if (single) {
    // A child of the run below: one case, its row as one JSON line.
    const row = await benchOnce(Number(single), steady, opt('--pool-size') ? { pooled: true, poolSize } : { pooled: false });
    console.log(`${ROW_PREFIX}${JSON.stringify(row)}`);
    process.exit(0);
  }
  const dedicated = list(opt('--accounts'), '1,30');
  const pooled = list(opt('--pooled'), '1,100,300,500');
  console.log(
    `ats benchmark on ${cpus().length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GB; dedicated N = ${dedicated.join(', ') || 'none'}; pooled N = ${pooled.join(', ') || 'none'} (${poolSize} per pool); steady window ${steady} s; each case in a fresh process`,
  );
  const rows: BenchRow[] = [];
  for (const [n, placement] of [...dedicated.map((n) => [n, { pooled: false }] as const), ...pooled.map((n) => [n, { pooled: true, poolSize }] as const)]) {
    process.stdout.write(`N=${n} ${placement.pooled ? 'pooled' : 'dedicated'}… `);
    rows.push(await benchInChild(n, steady, placement));
    console.log('done');
  }
  const ded = rows.filter((r) => r.placement === 'dedicated');
  const pool = rows.filter((r) => r.placement !== 'dedicated');
  console.log(`\n${formatTable(rows)}\n\n${ded.length ? projection(ded) : ''}\n${pool.length ? poolProjection(pool) : ''}`);
  process.exit(0);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) void main();
