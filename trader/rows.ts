import type { NewOrder, NewTrade } from '../core/db/schema.js';
import type { BinanceClient } from '../core/exchange/binance-client.js';
import type { Purpose } from './client-order-id.js';

type Order = Awaited<ReturnType<BinanceClient['fetchOrder']>>;
type Trade = Awaited<ReturnType<BinanceClient['fetchMyTrades']>>[number];

const num = (value: unknown) => (value === undefined || value === null || value === '' ? null : Number(value));

/** An `orders` row from what the exchange says of the order. */
export function orderRow(accountId: string, symbol: string, purpose: Purpose, o: Order, recommendationId: string | undefined, error?: string): NewOrder {
  const info = (o.info ?? {}) as Record<string, unknown>;
  return {
    account_id: accountId,
    client_order_id: String(o.clientOrderId ?? info.clientOrderId ?? info.clientAlgoId),
    exchange_order_id: o.id ? String(o.id) : null,
    symbol,
    side: o.side === 'sell' ? 'sell' : 'buy',
    type: String(info.orderType ?? info.type ?? o.type ?? 'unknown'),
    purpose,
    quantity: Number(o.amount ?? 0),
    price: num(o.price) || null,
    trigger_price: num(o.triggerPrice ?? info.triggerPrice) || null,
    reduce_only: Boolean(o.reduceOnly ?? info.reduceOnly ?? info.closePosition ?? false),
    status: String(info.algoStatus ?? info.status ?? o.status ?? 'unknown'),
    filled_quantity: Number(o.filled ?? 0),
    average_price: num(o.average) || null,
    recommendation_id: recommendationId ?? null,
    error: error ?? null,
  };
}

/** An `orders` row for an order the exchange refused (it has no exchange id). */
export function rejectedOrderRow(accountId: string, symbol: string, purpose: Purpose, clientOrderId: string, side: 'buy' | 'sell', amount: number, recommendationId: string | undefined, error: string): NewOrder {
  return {
    account_id: accountId, client_order_id: clientOrderId, exchange_order_id: null, symbol, side, type: purpose === 'entry' ? 'MARKET' : 'CONDITIONAL',
    purpose, quantity: amount, status: 'REJECTED', recommendation_id: recommendationId ?? null, error,
  };
}

/** A `trades` row (a fill) with its fee and realized PnL as Binance reports them. */
export function tradeRow(accountId: string, symbol: string, t: Trade, clientOrderId: string | null): NewTrade {
  const info = (t.info ?? {}) as Record<string, unknown>;
  return {
    account_id: accountId,
    exchange_trade_id: String(t.id),
    exchange_order_id: String(t.order ?? info.orderId),
    client_order_id: clientOrderId,
    symbol,
    side: t.side === 'sell' ? 'sell' : 'buy',
    price: Number(t.price),
    quantity: Number(t.amount),
    quote_quantity: Number(t.cost ?? Number(t.price) * Number(t.amount)),
    commission: Number(t.fee?.cost ?? info.commission ?? 0),
    commission_asset: String(t.fee?.currency ?? info.commissionAsset ?? 'USDT'),
    realized_pnl: Number(info.realizedPnl ?? 0),
    is_maker: t.takerOrMaker === 'maker',
    traded_at: new Date(Number(t.timestamp)).toISOString(),
  };
}
