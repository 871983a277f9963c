import { bracketsOf, type Bracket } from './leverage-brackets.js';
import { existsSync, readFileSync } from 'node:fs';

/** What the simulator needs of one symbol; the raw mainnet entry is served as is. */
export interface SymbolSpec {
  readonly symbol: string;
  readonly baseAsset: string;
  readonly pricePrecision: number;
  readonly quantityPrecision: number;
  readonly tickSize: number;
  readonly stepSize: number;
  readonly minQty: number;
  readonly maxQty: number;
  readonly marketMaxQty: number;
  readonly minPrice: number;
  readonly minNotional: number;
  readonly maxLeverage: number;
  /** Notional brackets: maximum leverage and maintenance margin by position size. */
  readonly brackets: readonly Bracket[];
  /** PERCENT_PRICE: a limit price must lie within [mark × multiplierDown, mark × multiplierUp]. */
  readonly multiplierUp: number;
  readonly multiplierDown: number;
  /** How far from the mark (a fraction) a market order may take liquidity. */
  readonly marketTakeBound: number;
  /** The exchangeInfo entry served to clients. */
  readonly raw: Record<string, unknown>;
}

type Filter = Record<string, string | number>;

const ORDER_TYPES = ['LIMIT', 'MARKET', 'STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'];

/**
 * Symbols from a real mainnet exchangeInfo response when one is at hand (`../shared/data` or the repository's sample), else
 * entries built with the same shape and realistic filters.
 */
export function loadSymbols(symbols: readonly string[], exchangeInfoFile?: string): Map<string, SymbolSpec> {
  const real =
    exchangeInfoFile && existsSync(exchangeInfoFile)
      ? new Map<string, Record<string, unknown>>(
          (JSON.parse(readFileSync(exchangeInfoFile, 'utf8')).symbols as Array<Record<string, unknown>>).map((s) => [s.symbol as string, s]),
        )
      : new Map<string, Record<string, unknown>>();
  const out = new Map<string, SymbolSpec>();
  for (const symbol of symbols) {
    const raw = real.get(symbol) ?? syntheticEntry(symbol);
    out.set(symbol, toSpec({ ...raw, orderTypes: ORDER_TYPES }));
  }
  return out;
}

function toSpec(raw: Record<string, unknown>): SymbolSpec {
  const filters = raw.filters as Filter[];
  const f = (type: string) => filters.find((x) => x.filterType === type) ?? {};
  const num = (v: unknown, fallback = 0) => (v === undefined ? fallback : Number(v));
  const symbol = raw.symbol as string;
  return {
    symbol,
    baseAsset: raw.baseAsset as string,
    pricePrecision: num(raw.pricePrecision),
    quantityPrecision: num(raw.quantityPrecision),
    tickSize: num(f('PRICE_FILTER').tickSize),
    minPrice: num(f('PRICE_FILTER').minPrice),
    stepSize: num(f('LOT_SIZE').stepSize),
    minQty: num(f('LOT_SIZE').minQty),
    maxQty: num(f('LOT_SIZE').maxQty, Infinity),
    marketMaxQty: num(f('MARKET_LOT_SIZE').maxQty, Infinity),
    minNotional: num(f('MIN_NOTIONAL').notional),
    maxLeverage: bracketsOf(symbol)[0]!.initialLeverage,
    brackets: bracketsOf(symbol),
    multiplierUp: num(f('PERCENT_PRICE').multiplierUp, 1.05),
    multiplierDown: num(f('PERCENT_PRICE').multiplierDown, 0.95),
    marketTakeBound: num(raw.marketTakeBound, 0.05),
    raw,
  };
}

/** Filters for a symbol with no real entry at hand, scaled to a typical price. */
const SYNTHETIC: Record<string, { price: number; tick: string; step: string; notional: string }> = {
  BTCUSDT: { price: 2, tick: '0.10', step: '0.001', notional: '100' },
  ETHUSDT: { price: 2, tick: '0.01', step: '0.001', notional: '20' },
  BNBUSDT: { price: 3, tick: '0.010', step: '0.01', notional: '5' },
  SOLUSDT: { price: 4, tick: '0.0100', step: '1', notional: '5' },
  XRPUSDT: { price: 4, tick: '0.0001', step: '0.1', notional: '5' },
  DOGEUSDT: { price: 6, tick: '0.000010', step: '1', notional: '5' },
};

function syntheticEntry(symbol: string): Record<string, unknown> {
  const s = SYNTHETIC[symbol] ?? { price: 4, tick: '0.0001', step: '0.1', notional: '5' };
  const qp = s.step.includes('.') ? s.step.split('.')[1]!.length : 0;
  return {
    symbol,
    pair: symbol,
    contractType: 'PERPETUAL',
    deliveryDate: 4133404800000,
    onboardDate: 1569398400000,
    status: 'TRADING',
    maintMarginPercent: '2.5000',
    requiredMarginPercent: '5.0000',
    baseAsset: symbol.replace(/USDT$/, ''),
    quoteAsset: 'USDT',
    marginAsset: 'USDT',
    pricePrecision: s.price,
    quantityPrecision: qp,
    baseAssetPrecision: 8,
    quotePrecision: 8,
    underlyingType: 'COIN',
    underlyingSubType: [],
    triggerProtect: '0.0500',
    liquidationFee: '0.020000',
    marketTakeBound: '0.30',
    maxMoveOrderLimit: 1000,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: s.tick, maxPrice: '1000000', tickSize: s.tick },
      { filterType: 'LOT_SIZE', stepSize: s.step, minQty: s.step, maxQty: '10000000' },
      { filterType: 'MARKET_LOT_SIZE', stepSize: s.step, minQty: s.step, maxQty: '10000000' },
      { filterType: 'MAX_NUM_ORDERS', limit: 200 },
      { filterType: 'MAX_NUM_ALGO_ORDERS', limit: 10 },
      { filterType: 'MIN_NOTIONAL', notional: s.notional },
      { filterType: 'PERCENT_PRICE', multiplierUp: '1.0500', multiplierDown: '0.9500', multiplierDecimal: '4' },
    ],
    timeInForce: ['GTC', 'IOC', 'FOK', 'GTX', 'GTD'],
  };
}

/** Decimal places of a step such as 0.001 → 3, 1 → 0. */
export const decimalsOf = (step: number) => {
  const text = step.toFixed(12).replace(/0+$/, '');
  const dot = text.indexOf('.');
  return dot < 0 || dot === text.length - 1 ? 0 : text.length - dot - 1;
};

/** True when value is a whole multiple of step (tolerant of float noise). */
export const isMultipleOf = (value: number, step: number) => {
  if (step <= 0) return true;
  const ratio = value / step;
  return Math.abs(ratio - Math.round(ratio)) < 1e-7;
};
