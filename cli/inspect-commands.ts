import { Command } from 'commander';
import { table } from '../core/table.js';
import { AtsError, describeError } from '../core/errors.js';
import { countOption } from '../core/cli-options.js';
import { decimal } from '../core/decimal.js';
import { createDb, type Db } from '../core/db/connection.js';
import { markPricesSchema } from '../core/market-data/types.js';
import type { Redis } from '../core/redis.js';
import { parseJson, readHashJson, readJson, redisKeys, type LogLevelName } from '../core/redis-contract.js';
import { connections, withRedis } from './connections.js';
import { recommendationsSnapshotSchema } from '../core/recommendations.js';
import { localAccountStatusSchema, type LocalAccountStatus } from '../core/account-status.js';
import { trackedPositionSchema } from '../core/runtime-values.js';

const age = (iso: string | undefined) => {
  if (!iso) return undefined;
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : s < 172800 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`;
};

export async function readStatuses(redis: Redis): Promise<LocalAccountStatus[]> {
  const prefix = redis.options.keyPrefix ?? '';
  const keys = (await redis.keys(`${prefix}ats:status:*`)).map((k) => k.slice(prefix.length));
  const values = keys.length ? await redis.mget(...keys) : [];
  const statuses = keys.flatMap((key, i) => {
    const raw = values[i];
    if (raw === null || raw === undefined) return [];
    try {
      return [parseJson(key, raw, localAccountStatusSchema)];
    } catch (err) {
      console.error(`ats: skipped ${describeError(err)}`);
      return [];
    }
  });
  return statuses.sort((a, b) => a.name.localeCompare(b.name));
}

export const statusCommand = () =>
  new Command('status')
    .description('every account as `kubectl get tradingaccounts` shows it')
    .option('-o, --output <format>', 'wide (also the exchange and the last error) or json')
    .option('--json', 'machine-readable output (same as -o json)')
    .option('--wide', 'same as -o wide')
    .action((opts: { output?: string; json?: boolean; wide?: boolean }) => {
      if (opts.output !== undefined && !['wide', 'json'].includes(opts.output))
        throw new AtsError('ATS_BAD_OPTION', `-o takes wide or json (got "${opts.output}")`);
      const json = opts.json || opts.output === 'json';
      const wide = opts.wide || opts.output === 'wide';
      return withRedis(async (redis) => {
        const statuses = await readStatuses(redis);
        if (json) return void console.log(JSON.stringify(statuses, null, 2));
        if (statuses.length === 0) return void console.log('No TradingAccounts.');
        // As `kubectl get ta`: the pool column shows when some account trades in a pool.
        const pooled = statuses.some((s) => s.pool !== undefined);
        const header = [
          'NAME',
          'PHASE',
          'POSITIONS',
          'EQUITY',
          'UNREALIZED',
          'PNL',
          ...(pooled ? ['POOL'] : []),
          'AGE',
          ...(wide ? ['EXCHANGE', 'MESSAGE'] : []),
        ];
        console.log(
          table(
            header,
            statuses.map((s) => [
              s.name,
              s.phase,
              s.openPositions,
              s.equity?.toFixed(2),
              s.unrealizedPnl?.toFixed(2),
              s.pnlToday?.toFixed(2),
              ...(pooled ? [s.pool] : []),
              age(s.createdAt),
              ...(wide ? [s.exchange, s.lastError] : []),
            ]),
          ),
        );
      });
    });

export const tradesCommand = () =>
  new Command('trades')
    .description("an account's positions (open ones with live PnL) and fills")
    .requiredOption('--account <id>', 'account id')
    .option('--limit <n>', 'rows', countOption('--limit'), 20)
    .option('--json', 'machine-readable output, exact decimals')
    .action(async (opts: { account: string; limit: number; json?: boolean }) => {
      const { databaseUrl } = connections();
      if (!databaseUrl) throw new AtsError('ATS_NOT_RUNNING', 'no database: set DATABASE_URL or start `npx ats up`.');
      const db = createDb(databaseUrl, 1);
      try {
        await requireAccount(db, opts.account);
        const positions = await db
          .selectFrom('positions')
          .selectAll()
          .where('account_id', '=', opts.account)
          .orderBy('opened_at', 'desc')
          .limit(opts.limit)
          .execute();
        const trades = await db
          .selectFrom('trades')
          .selectAll()
          .where('account_id', '=', opts.account)
          .orderBy('traded_at', 'desc')
          .limit(opts.limit)
          .execute();
        const funding = await db
          .selectFrom('funding_payments')
          .selectAll()
          .where('account_id', '=', opts.account)
          .orderBy('paid_at', 'desc')
          .limit(opts.limit)
          .execute();
        const fundingTotal = await db
          .selectFrom('funding_payments')
          .select((eb) => [eb.fn.coalesce(eb.fn.sum<string>('amount'), eb.val('0')).as('total'), eb.fn.countAll<string>().as('count')])
          .where('account_id', '=', opts.account)
          .executeTakeFirstOrThrow();
        const live = await withRedis((redis) => livePositions(redis, opts.account)).catch(() => new Map<string, LivePosition>());
        if (opts.json)
          return void console.log(
            JSON.stringify(
              {
                positions: positions.map((p) => ({ ...p, unrealized_pnl: p.status === 'open' ? live.get(p.symbol)?.unrealizedPnl : undefined })),
                fills: trades,
                funding,
              },
              null,
              2,
            ),
          );
        console.log(`Positions of ${opts.account}:`);
        console.log(
          table(
            ['SYMBOL', 'SIDE', 'STATUS', 'QTY', 'ENTRY', 'EXIT/MARK', 'PNL', 'FEES', 'OPENED'],
            positions.map((p) => {
              const now = p.status === 'open' ? live.get(p.symbol) : undefined;
              return [
                p.symbol,
                p.side,
                p.status,
                plain(p.quantity),
                plain(p.entry_price),
                p.exit_price === null ? now?.markPrice : plain(p.exit_price),
                p.status === 'open' ? (now ? `${decimal.round(now.unrealizedPnl, 2)} (open)` : undefined) : decimal.round(p.realized_pnl, 2),
                decimal.round(p.fees, 4),
                p.opened_at.toISOString(),
              ];
            }),
          ),
        );
        console.log(`\nFills of ${opts.account}:`);
        console.log(
          table(
            ['TIME', 'SYMBOL', 'SIDE', 'QTY', 'PRICE', 'FEE', 'REALIZED PNL', 'ORDER'],
            trades.map((t) => [
              t.traded_at.toISOString(),
              t.symbol,
              t.side,
              plain(t.quantity),
              plain(t.price),
              decimal.round(t.commission, 4),
              decimal.round(t.realized_pnl, 2),
              t.client_order_id ?? t.exchange_order_id,
            ]),
          ),
        );
        console.log(`\nFunding of ${opts.account}: ${decimal.round(String(fundingTotal.total), 4)} USDT over ${fundingTotal.count} payment(s)`);
        if (funding.length > 0) {
          console.log(
            table(
              ['TIME', 'SYMBOL', 'AMOUNT'],
              funding.map((f) => [f.paid_at.toISOString(), f.symbol, decimal.round(f.amount, 4)]),
            ),
          );
        }
      } finally {
        await db.destroy();
      }
    });

/** A numeric column as the exchange printed it, without trailing zeros. */
const plain = (value: string) => (value.includes('.') ? value.replace(/0+$/, '').replace(/\.$/, '') : value);

interface LivePosition {
  readonly markPrice: string;
  readonly unrealizedPnl: string;
}

/** Open positions valued at the shared mark prices now (`ats:positions:{id}` and `ats:md:mark_price:all`). */
async function livePositions(redis: Redis, accountId: string): Promise<Map<string, LivePosition>> {
  const tracked = await readHashJson(redis, redisKeys.positions(accountId), trackedPositionSchema, (field, problem) =>
    console.error(`ats: skipped ${problem}`),
  );
  // Without shared mark prices (marketdata down, or a damaged value) the trader's last mark values them.
  const marks = await readJson(redis, redisKeys.markPriceAll(), markPricesSchema).catch(() => undefined);
  const out = new Map<string, LivePosition>();
  for (const [symbol, t] of tracked) {
    const mark = String(marks?.prices[symbol]?.markPrice ?? t.markPrice);
    const diff = decimal.sub(mark, t.entryPrice);
    out.set(symbol, { markPrice: mark, unrealizedPnl: decimal.mul(decimal.mul(diff, t.amount), t.side === 'long' ? 1 : -1) });
  }
  return out;
}

/** An account id the records know; anything else is an error naming the ones that exist. */
async function requireAccount(db: Db, id: string): Promise<void> {
  const rows = await db.selectFrom('accounts').select('id').execute();
  if (rows.some((r) => r.id === id)) return;
  const known = rows.map((r) => r.id).sort();
  throw new AtsError('ATS_UNKNOWN_ACCOUNT', `no account "${id}"${known.length ? ` (accounts: ${known.join(', ')})` : ' (no accounts recorded yet)'}.`);
}

export const logsCommand = () =>
  new Command('logs')
    .description('the global log streams (ats:logs:*)')
    .option('--level <level>', 'error, warning or info', 'warning')
    .option('--account <id>', 'only this account')
    .option('--limit <n>', 'entries', countOption('--limit'), 50)
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
      }),
    );

function detail(entry: string | undefined): string {
  if (!entry) return '';
  const { level, level_name, time, component, account_id, msg, pid, hostname, ...rest } = JSON.parse(entry) as Record<string, unknown>;
  void level;
  void level_name;
  void time;
  void component;
  void account_id;
  void msg;
  void pid;
  void hostname;
  return Object.keys(rest).length ? JSON.stringify(rest) : '';
}

export const recommendationsCommand = () =>
  new Command('recommendations')
    .description('the current global recommendations')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      withRedis(async (redis) => {
        const snapshot = await readJson(redis, redisKeys.recommendationsSnapshot(), recommendationsSnapshotSchema);
        if (!snapshot) return void console.log('No recommendations published yet (marketdata has not finished a scan).');
        if (opts.json) return void console.log(JSON.stringify(snapshot, null, 2));
        if (snapshot.recommendations.length === 0)
          return void console.log(`None now (last scan ${new Date(snapshot.generatedAt).toISOString()}, snapshot v${snapshot.version}).`);
        console.log(`Snapshot v${snapshot.version}, generated ${new Date(snapshot.generatedAt).toISOString()}`);
        console.log(
          table(
            ['SYMBOL', 'SIDE', 'SCORE', 'ENTRY', 'STOP', 'TARGET', 'EXPIRES', 'REASON'],
            snapshot.recommendations.map((r) => [
              r.symbol,
              r.side,
              r.score,
              r.entry,
              Number(r.stopLoss.toPrecision(6)),
              Number(r.takeProfit.toPrecision(6)),
              new Date(r.expiresAt).toISOString(),
              r.reason,
            ]),
          ),
        );
      }),
    );
