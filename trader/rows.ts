import type { NewOrderRow, NewTradeRow, OrderPurpose } from '../core/runtime-values.js';
import type { ExchangeOrder } from './exchange-account.js';
import type { Fill } from './position-fills.js';

/** An `orders` row from what the exchange says of the order. */
export function orderRow(
  accountId: string,
  symbol: string,
  purpose: OrderPurpose,
  o: ExchangeOrder,
  recommendationId: string | undefined,
  error?: string,
): NewOrderRow {
  return {
    account_id: accountId,
    client_order_id: String(o.clientOrderId),
    exchange_order_id: o.id || null,
    symbol,
    side: o.side,
    type: o.type,
    purpose,
    quantity: o.quantity,
    price: o.price,
    trigger_price: o.triggerPrice,
    reduce_only: o.reduceOnly,
    status: o.exchangeStatus,
    filled_quantity: o.filledQuantity,
    average_price: o.averagePrice,
    recommendation_id: recommendationId ?? null,
    error: error ?? null,
  };
}

/** An `orders` row for an order the exchange refused (it has no exchange id). */
export function rejectedOrderRow(
  accountId: string,
  symbol: string,
  purpose: OrderPurpose,
  clientOrderId: string,
  side: 'buy' | 'sell',
  amount: number,
  recommendationId: string | undefined,
  error: string,
): NewOrderRow {
  return {
    account_id: accountId,
    client_order_id: clientOrderId,
    exchange_order_id: null,
    symbol,
    side,
    type: purpose === 'entry' ? 'MARKET' : 'CONDITIONAL',
    purpose,
    quantity: amount,
    status: 'REJECTED',
    recommendation_id: recommendationId ?? null,
    error,
  };
}

/** A `trades` row (a fill) with its fee and realized PnL exactly as the exchange printed them. */
export function tradeRow(accountId: string, symbol: string, f: Fill): NewTradeRow {
  return {
    account_id: accountId,
    exchange_trade_id: f.id,
    exchange_order_id: f.orderId,
    client_order_id: null,
    symbol,
    side: f.side,
    price: f.price,
    quantity: f.qty,
    quote_quantity: f.quoteQty,
    commission: f.commission,
    commission_asset: f.commissionAsset,
    realized_pnl: f.realizedPnl,
    is_maker: f.maker,
    traded_at: new Date(f.time).toISOString(),
  };
}
