import { z } from 'zod';
import { redisKeys, statsDay } from '../../core/redis-contract.js';
import { userOf, type Api, type ConsoleContext } from '../context.js';
import { readLogs } from '../log-reader.js';
import { accountIdParams } from './account-routes.js';

const pageQuery = z.object({ page: z.coerce.number().int().min(1).default(1), pageSize: z.coerce.number().int().min(1).max(200).default(25) });
const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), total: z.number(), page: z.number(), pageSize: z.number() });
/** Exact decimals (Postgres numeric) travel as strings; times as ISO 8601. */
const dec = z.string();
const decOrNull = z.string().nullable();
const time = z.string();

const orderSchema = z.object({
  client_order_id: z.string(),
  exchange_order_id: z.string().nullable(),
  symbol: z.string(),
  side: z.string(),
  type: z.string(),
  purpose: z.string(),
  quantity: dec,
  price: decOrNull,
  trigger_price: decOrNull,
  status: z.string(),
  filled_quantity: dec,
  average_price: decOrNull,
  error: z.string().nullable(),
  created_at: time,
});
const fillSchema = z.object({
  exchange_trade_id: z.string(),
  symbol: z.string(),
  side: z.string(),
  price: dec,
  quantity: dec,
  commission: dec,
  commission_asset: z.string(),
  realized_pnl: dec,
  is_maker: z.boolean(),
  traded_at: time,
});
const closedPositionSchema = z.object({
  symbol: z.string(),
  side: z.string(),
  quantity: dec,
  entry_price: dec,
  exit_price: decOrNull,
  realized_pnl: dec,
  fees: dec,
  opened_at: time,
  closed_at: time.nullable(),
});
const equityPointSchema = z.object({ at: time, equity: dec, walletBalance: dec, unrealizedPnl: dec });
const denialsSchema = z.object({
  /** Today's (UTC) denials per reason. */
  today: z.record(z.string(), z.number()),
  recent: z.array(z.object({ time: z.string(), symbol: z.string(), reason: z.string(), detail: z.string() })),
});

/** Dates as ISO strings: what the schemas above say a time is. */
const plain = <T extends Record<string, unknown>>(row: T) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v])) as {
    [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K];
  };

/** One account's records from Postgres, a page at a time, and its equity curve. */
export function recordRoutes(app: Api, c: ConsoleContext): void {
  const db = c.o.db;
  app.get(
    '/api/accounts/:id/orders',
    { schema: { summary: "The account's orders, newest first", params: accountIdParams, querystring: pageQuery, response: { 200: page(orderSchema) } } },
    async (req) => {
      const { id } = await c.access.account(userOf(req), req.params.id);
      const { page: n, pageSize } = req.query;
      const [items, total] = await Promise.all([
        db
          .selectFrom('orders')
          .select([
            'client_order_id',
            'exchange_order_id',
            'symbol',
            'side',
            'type',
            'purpose',
            'quantity',
            'price',
            'trigger_price',
            'status',
            'filled_quantity',
            'average_price',
            'error',
            'created_at',
          ])
          .where('account_id', '=', id)
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(pageSize)
          .offset((n - 1) * pageSize)
          .execute(),
        db
          .selectFrom('orders')
          .select((e) => e.fn.countAll<string>().as('n'))
          .where('account_id', '=', id)
          .executeTakeFirstOrThrow(),
      ]);
      return { items: items.map(plain), total: Number(total.n), page: n, pageSize };
    },
  );

  app.get(
    '/api/accounts/:id/fills',
    { schema: { summary: "The account's fills (trades), newest first", params: accountIdParams, querystring: pageQuery, response: { 200: page(fillSchema) } } },
    async (req) => {
      const { id } = await c.access.account(userOf(req), req.params.id);
      const { page: n, pageSize } = req.query;
      const [items, total] = await Promise.all([
        db
          .selectFrom('trades')
          .select(['exchange_trade_id', 'symbol', 'side', 'price', 'quantity', 'commission', 'commission_asset', 'realized_pnl', 'is_maker', 'traded_at'])
          .where('account_id', '=', id)
          .orderBy('traded_at', 'desc')
          .orderBy('id', 'desc')
          .limit(pageSize)
          .offset((n - 1) * pageSize)
          .execute(),
        db
          .selectFrom('trades')
          .select((e) => e.fn.countAll<string>().as('n'))
          .where('account_id', '=', id)
          .executeTakeFirstOrThrow(),
      ]);
      return { items: items.map(plain), total: Number(total.n), page: n, pageSize };
    },
  );

  app.get(
    '/api/accounts/:id/closed-positions',
    {
      schema: {
        summary: "The account's closed positions with their PnL, newest first",
        params: accountIdParams,
        querystring: pageQuery,
        response: { 200: page(closedPositionSchema) },
      },
    },
    async (req) => {
      const { id } = await c.access.account(userOf(req), req.params.id);
      const { page: n, pageSize } = req.query;
      const closed = db.selectFrom('positions').where('account_id', '=', id).where('status', '=', 'closed');
      const [items, total] = await Promise.all([
        closed
          .select(['symbol', 'side', 'quantity', 'entry_price', 'exit_price', 'realized_pnl', 'fees', 'opened_at', 'closed_at'])
          .orderBy('closed_at', 'desc')
          .orderBy('id', 'desc')
          .limit(pageSize)
          .offset((n - 1) * pageSize)
          .execute(),
        closed.select((e) => e.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
      ]);
      return { items: items.map(plain), total: Number(total.n), page: n, pageSize };
    },
  );

  app.get(
    '/api/accounts/:id/equity',
    {
      schema: {
        summary: 'The equity curve from account_snapshots (at most 2,000 points, evenly thinned)',
        params: accountIdParams,
        querystring: z.object({
          hours: z.coerce
            .number()
            .positive()
            .max(24 * 365)
            .default(24 * 7),
        }),
        response: { 200: z.array(equityPointSchema) },
      },
    },
    async (req) => {
      const { id } = await c.access.account(userOf(req), req.params.id);
      const rows = await db
        .selectFrom('account_snapshots')
        .select(['taken_at', 'equity', 'wallet_balance', 'unrealized_pnl'])
        .where('account_id', '=', id)
        .where('taken_at', '>=', new Date(Date.now() - req.query.hours * 3_600_000))
        .orderBy('taken_at')
        .execute();
      const step = Math.max(1, Math.ceil(rows.length / 2_000));
      return rows
        .filter((_, i) => i % step === 0 || i === rows.length - 1)
        .map((r) => ({ at: r.taken_at.toISOString(), equity: r.equity, walletBalance: r.wallet_balance, unrealizedPnl: r.unrealized_pnl }));
    },
  );

  app.get(
    '/api/accounts/:id/denials',
    { schema: { summary: 'Recommendations the account denied, and why', params: accountIdParams, response: { 200: denialsSchema } } },
    async (req) => {
      const { id } = await c.access.account(userOf(req), req.params.id);
      const stats = await c.o.redis.hgetall(redisKeys.stats(id, statsDay()));
      const today = Object.fromEntries(
        Object.entries(stats)
          .filter(([k]) => k.startsWith('denied:'))
          .map(([k, v]) => [k.slice('denied:'.length), Number(v)]),
      );
      const logs = await readLogs(c.o.redis, {
        levels: ['info'],
        limit: 50,
        scan: 5_000,
        keep: (e) => e.accountId === id && e.msg === 'recommendation denied',
      });
      const recent = logs.map((e) => ({
        time: e.time,
        symbol: String(e.fields['symbol'] ?? ''),
        reason: String(e.fields['reason'] ?? ''),
        detail: String(e.fields['detail'] ?? ''),
      }));
      return { today, recent };
    },
  );
}
