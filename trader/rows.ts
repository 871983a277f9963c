import type { NewOrderRow, NewTradeRow, OrderPurpose } from '../core/runtime-values.js';
import type { BinanceClient } from '../core/exchange/binance-client.js';
import type { Fill } from './position-fills.js';

type Order = Awaited<ReturnType<BinanceClient['fetchOrder']>>;

/** The exchange's decimal string when it sent one, else ccxt's parsed value; null when absent or zero. */
function exact(raw: unknown, parsed: unknown): string | null {
  const value = raw ?? parsed;
  if (value === undefined || value === null || value === '') return null;
  const text = String(value);
  return Number(text) === 0 ? null : text;
}

/** An `orders` row from what the exchange says of the order. */
export function orderRow(accountId: string, symbol: string, purpose: OrderPurpose, o: Order, recommendationId: string | undefined, error?: string): NewOrderRow {
  const info = (o.info ?? {}) as Record<string, unknown>;
  return {
    account_id: accountId,
    client_order_id: String(o.clientOrderId ?? info.clientOrderId ?? info.clientAlgoId),
    exchange_order_id: o.id ? String(o.id) : null,
    symbol,
    side: o.side === 'sell' ? 'sell' : 'buy',
    type: String(info.orderType ?? info.type ?? o.type ?? 'unknown'),
    purpose,
    quantity: exact(info.origQty ?? info.quantity, o.amount) ?? '0',
    price: exact(info.price, o.price),
    trigger_price: exact(info.triggerPrice ?? info.stopPrice, o.triggerPrice),
    reduce_only: Boolean(o.reduceOnly ?? info.reduceOnly ?? info.closePosition ?? false),
    status: String(info.algoStatus ?? info.status ?? o.status ?? 'unknown'),
    filled_quantity: exact(info.executedQty ?? info.actualQty, o.filled) ?? '0',
    average_price: exact(info.avgPrice ?? info.actualPrice, o.average),
    recommendation_id: recommendationId ?? null,
    error: error ?? null,
  };
}

/** An `orders` row for an order the exchange refused (it has no exchange id). */
export function rejectedOrderRow(accountId: string, symbol: string, purpose: OrderPurpose, clientOrderId: string, side: 'buy' | 'sell', amount: number, recommendationId: string | undefined, error: string): NewOrderRow {
  return {
    account_id: accountId, client_order_id: clientOrderId, exchange_order_id: null, symbol, side, type: purpose === 'entry' ? 'MARKET' : 'CONDITIONAL',
    purpose, quantity: amount, status: 'REJECTED', recommendation_id: recommendationId ?? null, error,
  };
}

/** A `trades` row (a fill) with its fee and realized PnL exactly as the exchange printed them. */
export function tradeRow(accountId: string, symbol: string, f: Fill): NewTradeRow {
  return {
    account_id: accountId, exchange_trade_id: f.id, exchange_order_id: f.orderId, client_order_id: null, symbol, side: f.side,
    price: f.price, quantity: f.qty, quote_quantity: f.quoteQty, commission: f.commission, commission_asset: f.commissionAsset,
    realized_pnl: f.realizedPnl, is_maker: f.maker, traded_at: new Date(f.time).toISOString(),
  };
}
