import { sql } from 'kysely';
import type { Db } from '../core/db/connection.js';
import { statsDay } from '../core/redis-contract.js';
import type { PendingOrder, TrackedPosition } from '../core/runtime-values.js';
import { clientOrderId } from './client-order-id.js';
import { positionKey } from './runtime-state.js';

/** What the trader tracks in Redis, as far as its records in Postgres know it. */
export interface TrackingFromRecords {
  readonly positions: TrackedPosition[];
  readonly pending: PendingOrder[];
  /** The equity of today's first snapshot, where the daily-loss limit measures from. */
  readonly dayStartEquity: number | undefined;
}

/** How far back an entry without a position yet is looked for (an entry lives until its recommendation expires). */
const PENDING_LOOKBACK_MS = 2 * 24 * 3600_000;

/**
 * Rebuilds the trader's tracking state from its records, for when Redis came back empty: every
 * position the records hold open (with its key, stop-loss and take-profit from its own orders),
 * and every entry that reached the exchange but has no position yet. The exchange then decides
 * which are still open; the rest are settled from their fills as usual.
 */
export async function trackingFromRecords(db: Db, accountId: string): Promise<TrackingFromRecords> {
  const rows = await db.selectFrom('positions').selectAll().where('account_id', '=', accountId).where('status', '=', 'open').execute();
  const positions: TrackedPosition[] = [];
  for (const row of rows) {
    const openedAt = new Date(row.opened_at).getTime();
    const key = row.position_key ?? positionKey({ recommendationId: row.recommendation_id ?? undefined, symbol: row.symbol, openedAt });
    const ids = {
      stop_loss: clientOrderId(accountId, key, 'stop_loss'),
      take_profit: clientOrderId(accountId, key, 'take_profit'),
      entry: row.recommendation_id ? clientOrderId(accountId, row.recommendation_id, 'entry') : '-',
    };
    const orders = await db
      .selectFrom('orders')
      .select(['client_order_id', 'exchange_order_id', 'trigger_price'])
      .where('account_id', '=', accountId)
      .where('client_order_id', 'in', Object.values(ids))
      .execute();
    const order = (id: string) => orders.find((o) => o.client_order_id === id);
    const recommendation = row.recommendation_id
      ? await db.selectFrom('recommendations').select(['stop_loss', 'take_profit']).where('id', '=', row.recommendation_id).executeTakeFirst()
      : undefined;
    const price = (v: string | number | null | undefined) => (v === null || v === undefined ? undefined : Number(v));
    const entryOrderId = order(ids.entry)?.exchange_order_id ?? undefined;
    positions.push({
      symbol: row.symbol,
      side: row.side,
      amount: Number(row.quantity),
      entryPrice: Number(row.entry_price),
      markPrice: Number(row.entry_price),
      unrealizedPnl: 0,
      stopLoss: price(order(ids.stop_loss)?.trigger_price) ?? price(recommendation?.stop_loss),
      takeProfit: price(order(ids.take_profit)?.trigger_price) ?? price(recommendation?.take_profit),
      ...(row.recommendation_id ? { recommendationId: row.recommendation_id } : {}),
      openedAt,
      ...(entryOrderId ? { entryOrderId } : {}),
    });
  }

  // Entries on the exchange (resting, or filled while nothing was tracked) that no position holds yet.
  const entries = await db
    .selectFrom('orders as o')
    .innerJoin('recommendations as r', 'r.id', 'o.recommendation_id')
    .select(['o.client_order_id', 'o.symbol', 'o.side', 'o.quantity', 'o.recommendation_id', 'o.created_at', 'r.stop_loss', 'r.take_profit', 'r.expires_at'])
    .where('o.account_id', '=', accountId)
    .where('o.purpose', '=', 'entry')
    .where('o.created_at', '>', new Date(Date.now() - PENDING_LOOKBACK_MS))
    .where((eb) => eb.or([eb('o.status', 'in', ['NEW', 'PARTIALLY_FILLED']), eb('o.filled_quantity', '>', '0')]))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('positions as p')
            .select(sql.lit(1).as('one'))
            .whereRef('p.account_id', '=', 'o.account_id')
            .whereRef('p.recommendation_id', '=', 'o.recommendation_id'),
        ),
      ),
    )
    .execute();
  const pending: PendingOrder[] = entries.map((e) => ({
    clientOrderId: e.client_order_id,
    recommendationId: e.recommendation_id!,
    symbol: e.symbol,
    purpose: 'entry',
    side: e.side,
    amount: Number(e.quantity),
    stopLoss: Number(e.stop_loss),
    takeProfit: Number(e.take_profit),
    createdAt: new Date(e.created_at).getTime(),
    expiresAt: new Date(e.expires_at).getTime(),
  }));

  const first = await db
    .selectFrom('account_snapshots')
    .select('equity')
    .where('account_id', '=', accountId)
    .where('taken_at', '>=', new Date(`${statsDay()}T00:00:00Z`))
    .orderBy('taken_at')
    .limit(1)
    .executeTakeFirst();
  return { positions, pending, dayStartEquity: first ? Number(first.equity) : undefined };
}
