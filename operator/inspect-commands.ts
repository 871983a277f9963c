import { Command } from 'commander';
import { resolve } from 'node:path';
import { loadEnv } from '../core/env.js';
import { AtsError } from '../core/errors.js';
import { createDb } from '../core/db/connection.js';
import { createRedis, type Redis } from '../core/redis.js';
import { redisKeys, type LogLevelName } from '../core/redis-keys.js';
import { readRuntime } from '../core/runtime-file.js';
import { recommendationsSnapshotSchema } from '../core/recommendations.js';
import type { LocalAccountStatus } from './local/local-operator.js';

/** Redis (and Postgres) of the running system: the environment, else what `ats up` wrote. */
function connections() {
  const env = loadEnv();
  const runtime = readRuntime(resolve(env.ATS_STATE_DIR));
  const redisUrl = env.REDIS_URL ?? runtime?.redisUrl;
  const databaseUrl = env.DATABASE_URL ?? runtime?.databaseUrl;
  if (!redisUrl) throw new AtsError('ATS_NOT_RUNNING', 'ats is not running here: start it with `npx ats up`, or set REDIS_URL and DATABASE_URL.');
  return { env, redisUrl, databaseUrl };
}

async function withRedis<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
  const { env, redisUrl } = connections();
  const redis = createRedis({ REDIS_URL: redisUrl, REDIS_KEY_PREFIX: env.REDIS_KEY_PREFIX }, { maxRetriesPerRequest: 1 });
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** A plain aligned table, like kubectl prints. */
export function table(header: string[], rows: Array<Array<string | number | undefined>>): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === undefined || c === '' ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]! + 3))).join('')).join('\n');
}

const age = (iso: string | undefined) => {
  if (!iso) return undefined;
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : s < 172800 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
};

export async function readStatuses(redis: Redis): Promise<LocalAccountStatus[]> {
  const prefix = redis.options.keyPrefix ?? '';
  const keys = (await redis.keys(`${prefix}ats:status:*`)).map((k) => k.slice(prefix.length));
  const values = keys.length ? await redis.mget(...keys) : [];
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as LocalAccountStatus).sort((a, b) => a.name.localeCompare(b.name));
}

export const statusCommand = () =>
  new Command('status')
    .description('every account as `kubectl get tradingaccounts` shows it')
    .option('--json', 'machine-readable output')
    .option('-o, --wide', 'also the exchange and the last error')
    .action((opts: { json?: boolean; wide?: boolean }) =>
      withRedis(async (redis) => {
        const statuses = await readStatuses(redis);
        if (opts.json) return void console.log(JSON.stringify(statuses, null, 2));
        if (statuses.length === 0) return void console.log('No TradingAccounts.');
        const header = ['NAME', 'PHASE', 'POSITIONS', 'EQUITY', 'PNL', 'AGE', ...(opts.wide ? ['EXCHANGE', 'MESSAGE'] : [])];
        console.log(table(header, statuses.map((s) => [
          s.name, s.phase, s.openPositions, s.equity?.toFixed(2), s.pnlToday?.toFixed(2), age(s.createdAt),
          ...(opts.wide ? [s.exchange, s.lastError] : []),
        ])));
      }));

export const tradesCommand = () =>
  new Command('trades')
    .description("an account's fills and positions")
    .requiredOption('--account <id>', 'account id')
    .option('--limit <n>', 'rows', (v) => Number(v), 20)
    .action(async (opts: { account: string; limit: number }) => {
      const { databaseUrl } = connections();
      if (!databaseUrl) throw new AtsError('ATS_NOT_RUNNING', 'no database: set DATABASE_URL or start `npx ats up`.');
      const db = createDb(databaseUrl, 1);
      try {
        const positions = await db.selectFrom('positions').selectAll().where('account_id', '=', opts.account).orderBy('opened_at', 'desc').limit(opts.limit).execute();
        console.log(`Positions of ${opts.account}:`);
        console.log(table(['SYMBOL', 'SIDE', 'STATUS', 'QTY', 'ENTRY', 'EXIT', 'PNL', 'FEES', 'OPENED'], positions.map((p) => [
          p.symbol, p.side, p.status, Number(p.quantity), Number(p.entry_price), p.exit_price === null ? undefined : Number(p.exit_price),
          Number(p.realized_pnl).toFixed(4), Number(p.fees).toFixed(4), p.opened_at.toISOString(),
        ])));
        const trades = await db.selectFrom('trades').selectAll().where('account_id', '=', opts.account).orderBy('traded_at', 'desc').limit(opts.limit).execute();
        console.log(`\nFills of ${opts.account}:`);
        console.log(table(['TIME', 'SYMBOL', 'SIDE', 'QTY', 'PRICE', 'FEE', 'REALIZED PNL', 'ORDER'], trades.map((t) => [
          t.traded_at.toISOString(), t.symbol, t.side, Number(t.quantity), Number(t.price), Number(t.commission).toFixed(6),
          Number(t.realized_pnl).toFixed(4), t.client_order_id ?? t.exchange_order_id,
        ])));
      } finally {
        await db.destroy();
      }
    });

export const logsCommand = () =>
  new Command('logs')
    .description('the global log streams (ats:logs:*)')
    .option('--level <level>', 'error, warning or info', 'warning')
    .option('--account <id>', 'only this account')
    .option('--limit <n>', 'entries', (v) => Number(v), 50)
    .action((opts: { level: string; account?: string; limit: number }) =>
      withRedis(async (redis) => {
        if (!['error', 'warning', 'info'].includes(opts.level)) throw new AtsError('ATS_BAD_OPTION', '--level takes error, warning or info');
        const entries = await redis.xrevrange(redisKeys.logs(opts.level as LogLevelName), '+', '-', 'COUNT', opts.account ? opts.limit * 20 : opts.limit);
        const rows = entries
          .map(([, fields]) => Object.fromEntries(fields.flatMap((_, i) => (i % 2 === 0 ? [[fields[i], fields[i + 1]]] : []))) as Record<string, string>)
          .filter((f) => !opts.account || f.account_id === opts.account)
          .slice(0, opts.limit)
          .reverse();
        for (const f of rows) console.log(`${f.time}  ${(f.component ?? '').padEnd(10)} ${(f.account_id || '-').padEnd(10)} ${f.msg}  ${detail(f.entry)}`);
        if (rows.length === 0) console.log('No entries.');
      }));

function detail(entry: string | undefined): string {
  if (!entry) return '';
  const { level, level_name, time, component, account_id, msg, pid, hostname, ...rest } = JSON.parse(entry) as Record<string, unknown>;
  void level; void level_name; void time; void component; void account_id; void msg; void pid; void hostname;
  return Object.keys(rest).length ? JSON.stringify(rest) : '';
}

export const recommendationsCommand = () =>
  new Command('recommendations')
    .description('the current global recommendations')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      withRedis(async (redis) => {
        const raw = await redis.get(redisKeys.recommendationsSnapshot());
        if (!raw) return void console.log('No recommendations published yet.');
        const snapshot = recommendationsSnapshotSchema.parse(JSON.parse(raw));
        if (opts.json) return void console.log(JSON.stringify(snapshot, null, 2));
        console.log(`Snapshot v${snapshot.version}, generated ${new Date(snapshot.generatedAt).toISOString()}`);
        console.log(table(['SYMBOL', 'SIDE', 'SCORE', 'ENTRY', 'STOP', 'TARGET', 'EXPIRES', 'REASON'], snapshot.recommendations.map((r) => [
          r.symbol, r.side, r.score, r.entry, Number(r.stopLoss.toPrecision(6)), Number(r.takeProfit.toPrecision(6)), new Date(r.expiresAt).toISOString(), r.reason,
        ])));
      }));
