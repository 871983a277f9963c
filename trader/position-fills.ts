import { decimal, type Decimal } from '../core/decimal.js';

/** A fill as the exchange reports it, amounts as its decimal strings. */
export interface Fill {
  readonly id: string;
  readonly orderId: string;
  readonly side: 'buy' | 'sell';
  readonly price: Decimal;
  readonly qty: Decimal;
  readonly quoteQty: Decimal;
  readonly commission: Decimal;
  readonly commissionAsset: string;
  readonly realizedPnl: Decimal;
  readonly maker: boolean;
  readonly time: number;
}

export interface PositionFills {
  readonly fills: readonly Fill[];
  /** True when the fills bring the position back to flat. */
  readonly closed: boolean;
}

const byExchangeOrder = (a: Fill, b: Fill) => a.time - b.time || (BigInt(a.id) < BigInt(b.id) ? -1 : BigInt(a.id) > BigInt(b.id) ? 1 : 0);
const signed = (f: Fill): Decimal => (f.side === 'buy' ? f.qty : decimal.neg(f.qty));

/**
 * The fills of one position in one-way mode, found by the position's own orders and never by a
 * time window: from the first fill of its entry order forward until the symbol is flat again (so a
 * stop-loss, take-profit, close order or a manual close all count, and a later position on the
 * same symbol does not). A position without a known entry order (adopted) is found backward from
 * the symbol's last fill, which left it flat, to the fill where it was flat before. The fills of
 * one symbol only.
 */
export function fillsOfPosition(symbolFills: readonly Fill[], entryOrderIds: ReadonlySet<string>): PositionFills | undefined {
  const fills = [...symbolFills].sort(byExchangeOrder);
  const start = fills.findIndex((f) => entryOrderIds.has(f.orderId));
  if (start >= 0) {
    let size: Decimal = '0';
    const mine: Fill[] = [];
    for (const f of fills.slice(start)) {
      mine.push(f);
      size = decimal.add(size, signed(f));
      if (decimal.isZero(size)) return { fills: mine, closed: true };
    }
    return { fills: mine, closed: false };
  }
  if (entryOrderIds.size > 0 || fills.length === 0) return undefined;
  let size: Decimal = '0';
  for (let i = fills.length - 1; i >= 0; i -= 1) {
    size = decimal.add(size, signed(fills[i]!));
    if (decimal.isZero(size)) return { fills: fills.slice(i), closed: true };
  }
  return undefined;
}

export interface PositionResult {
  /** Largest size the position reached, and the average price of the fills that built it. */
  readonly quantity: Decimal;
  readonly entryPrice: Decimal;
  /** Average price of the fills that reduced it; undefined while nothing reduced it. */
  readonly exitPrice: Decimal | undefined;
  readonly realizedPnl: Decimal;
  /** Fees in the margin asset; fees paid in another asset are listed apart. */
  readonly fees: Decimal;
  readonly otherFees: ReadonlyArray<{ asset: string; amount: Decimal }>;
}

/** A position's numbers, computed exactly from exactly its fills. */
export function summarize(fills: readonly Fill[], side: 'long' | 'short', marginAsset = 'USDT'): PositionResult {
  const opening = side === 'long' ? 'buy' : 'sell';
  const average = (list: readonly Fill[]) => {
    const qty = decimal.sum(list.map((f) => f.qty));
    return { qty, price: decimal.div(decimal.sum(list.map((f) => decimal.mul(f.price, f.qty))), qty, 8) };
  };
  const entries = average(fills.filter((f) => f.side === opening));
  const exits = average(fills.filter((f) => f.side !== opening));
  return {
    quantity: entries.qty,
    entryPrice: entries.price ?? '0',
    exitPrice: exits.price,
    realizedPnl: decimal.sum(fills.map((f) => f.realizedPnl)),
    fees: decimal.sum(fills.filter((f) => f.commissionAsset === marginAsset).map((f) => f.commission)),
    otherFees: fills.filter((f) => f.commissionAsset !== marginAsset).map((f) => ({ asset: f.commissionAsset, amount: f.commission })),
  };
}
