import { z } from 'zod';

/**
 * The trader's runtime values as they pass through Redis (see redis-contract.ts): what it
 * tracks, what it is placing, and the records waiting for Postgres. The trader writes them; the
 * trader after a restart, the CLI and the operator read them, always through these schemas.
 */

/** What an order is for. Its client order id, its `orders.purpose` and its counters say the same. */
/**
 * A request to close positions now (at market, reduce-only): `spec.closePositions` of a
 * TradingAccount, as the operator hands it to the trader. Each id is acted on once.
 */
export const closeRequestSchema = z
  .object({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,64}$/)
      .describe('Names this request: a new id asks again; the trader acts on each id once'),
    symbols: z
      .array(z.string().regex(/^[A-Z0-9]{2,20}$/))
      .max(500)
      .default([])
      .describe('The positions to close (Binance ids); empty: all of them'),
  })
  .strict();
export type CloseRequest = z.infer<typeof closeRequestSchema>;

export const ORDER_PURPOSES = ['entry', 'stop_loss', 'take_profit', 'close'] as const;
export const orderPurposeSchema = z.enum(ORDER_PURPOSES);
export type OrderPurpose = z.infer<typeof orderPurposeSchema>;

/** A position as the exchange reports it. */
export const exchangePositionSchema = z.object({
  symbol: z.string(),
  side: z.enum(['long', 'short']),
  amount: z.number(),
  entryPrice: z.number(),
  markPrice: z.number(),
  unrealizedPnl: z.number(),
});
export type ExchangePosition = Readonly<z.infer<typeof exchangePositionSchema>>;

/** `ats:positions:{account}`, one field per symbol: an open position as the trader tracks it. */
export const trackedPositionSchema = exchangePositionSchema.extend({
  stopLoss: z.number().optional(),
  takeProfit: z.number().optional(),
  recommendationId: z.string().optional(),
  openedAt: z.number(),
  /** The exchange id of the order that opened it, when ats opened it: its fills start there. */
  entryOrderId: z.string().optional(),
  /** Since when the exchange has refused its stop-loss (epoch ms): kept across restarts, for the deadline. */
  unprotectedSince: z.number().optional(),
});
export type TrackedPosition = Readonly<z.infer<typeof trackedPositionSchema>>;

/** `ats:orders:pending:{account}`, one field per client order id: an order placed and not yet seen finished. */
export const pendingOrderSchema = z.object({
  clientOrderId: z.string(),
  recommendationId: z.string(),
  symbol: z.string(),
  purpose: orderPurposeSchema,
  side: z.enum(['buy', 'sell']),
  amount: z.number(),
  stopLoss: z.number(),
  takeProfit: z.number(),
  createdAt: z.number(),
  /** The recommendation's expiry: an entry still unfilled then is cancelled. */
  expiresAt: z.number().optional(),
});
export type PendingOrder = Readonly<z.infer<typeof pendingOrderSchema>>;

// --- the outbox (`ats:outbox:{account}`): record operations waiting for Postgres ---

const numeric = z.union([z.string(), z.number()]);
const timestamp = z.string();

export const newOrderRowSchema = z.object({
  account_id: z.string(),
  client_order_id: z.string(),
  exchange_order_id: z.string().nullable(),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  type: z.string(),
  purpose: orderPurposeSchema,
  quantity: numeric,
  price: numeric.nullable().optional(),
  trigger_price: numeric.nullable().optional(),
  reduce_only: z.boolean().optional(),
  status: z.string(),
  filled_quantity: numeric.optional(),
  average_price: numeric.nullable().optional(),
  recommendation_id: z.string().nullable(),
  error: z.string().nullable(),
});

export type NewOrderRow = z.infer<typeof newOrderRowSchema>;

export const newTradeRowSchema = z.object({
  account_id: z.string(),
  exchange_trade_id: z.string(),
  exchange_order_id: z.string(),
  client_order_id: z.string().nullable(),
  symbol: z.string(),
  side: z.enum(['buy', 'sell']),
  price: numeric,
  quantity: numeric,
  quote_quantity: numeric,
  commission: numeric,
  commission_asset: z.string(),
  realized_pnl: numeric,
  is_maker: z.boolean(),
  traded_at: timestamp,
});

export type NewTradeRow = z.infer<typeof newTradeRowSchema>;

/** A closed position's numbers, computed from exactly its fills (decimal strings). */
export const positionCloseSchema = z.object({
  account_id: z.string(),
  position_key: z.string(),
  symbol: z.string(),
  quantity: z.string(),
  entry_price: z.string(),
  exit_price: z.string().nullable(),
  realized_pnl: z.string(),
  fees: z.string(),
  closed_at: timestamp,
  /** The position's fills, with the client order id of ats's own orders among them. */
  fills: z.array(z.object({ tradeId: z.string(), clientOrderId: z.string().nullable() })),
});
export type PositionClose = Readonly<z.infer<typeof positionCloseSchema>>;

export const recordOpSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('account'), row: z.object({ id: z.string(), name: z.string(), exchange: z.string() }) }),
  z.object({ kind: z.literal('order'), row: newOrderRowSchema }),
  z.object({ kind: z.literal('trade'), row: newTradeRowSchema }),
  z.object({
    kind: z.literal('position_open'),
    row: z.object({
      account_id: z.string(),
      position_key: z.string(),
      symbol: z.string(),
      side: z.enum(['long', 'short']),
      quantity: z.string(),
      entry_price: z.string(),
      recommendation_id: z.string().nullable(),
      opened_at: timestamp,
    }),
  }),
  z.object({
    kind: z.literal('position_update'),
    row: z.object({ account_id: z.string(), position_key: z.string(), quantity: z.string(), entry_price: z.string() }),
  }),
  z.object({ kind: z.literal('position_close'), row: positionCloseSchema }),
  z.object({
    kind: z.literal('funding'),
    row: z.object({ account_id: z.string(), symbol: z.string(), amount: z.string(), paid_at: timestamp, exchange_tran_id: z.string() }),
  }),
  z.object({
    kind: z.literal('snapshot'),
    row: z.object({
      account_id: z.string(),
      taken_at: timestamp,
      wallet_balance: z.number(),
      equity: z.number(),
      unrealized_pnl: z.number(),
      available_balance: z.number(),
      open_positions: z.number().int(),
    }),
  }),
]);
export type RecordOp = z.infer<typeof recordOpSchema>;
