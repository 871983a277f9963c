import { decimalsOf, type SymbolSpec } from './symbols.js';

/** One price level: a price and the quantity resting there. */
export interface Level {
  readonly price: number;
  readonly qty: number;
}

/** The book at one moment: best first on both sides. */
export interface Book {
  readonly bids: readonly Level[];
  readonly asks: readonly Level[];
}

/**
 * How the simulated book is shaped around the replayed price. Deterministic: the same symbol
 * at the same market time gives the same book, so tests can count on every fill price.
 */
export interface BookShape {
  /** Half the spread, as a fraction of the price (at least one tick). */
  readonly halfSpread: number;
  /** Distance between levels, as a fraction of the price (at least one tick). */
  readonly levelGap: number;
  readonly levels: number;
  /** Notional (USDT) resting at the best level; each deeper level holds `growth` times more. */
  readonly topNotional: number;
  readonly growth: number;
}

export const DEFAULT_BOOK_SHAPE: BookShape = { halfSpread: 0.00005, levelGap: 0.0001, levels: 100, topNotional: 20_000, growth: 1.15 };

/** A deterministic number in [0, 1) from integers (a small hash). */
export function unitHash(...parts: number[]): number {
  let h = 2166136261;
  for (const p of parts) {
    h ^= p | 0;
    h = Math.imul(h, 16777619);
    h ^= h >>> 13;
  }
  return ((h >>> 0) % 1_000_003) / 1_000_003;
}

const roundTo = (x: number, decimals: number) => Number(x.toFixed(decimals));

/**
 * The book around `mid` (the replayed price): bids below and asks above, `shape.levels` each,
 * with depth that grows away from the top and varies a little per level and per market second.
 */
export function bookAround(mid: number, spec: SymbolSpec, shape: BookShape, salt: number, marketTime: number): Book {
  const tick = spec.tickSize;
  const pd = decimalsOf(tick);
  const qd = decimalsOf(spec.stepSize);
  const half = Math.max(tick, mid * shape.halfSpread);
  const gap = Math.max(tick, Math.round((mid * shape.levelGap) / tick) * tick);
  const bestBid = Math.floor((mid - half) / tick) * tick;
  const bestAsk = Math.max(bestBid + tick, Math.ceil((mid + half) / tick) * tick);
  const second = Math.floor(marketTime / 1000);
  const side = (sign: 1 | -1, best: number): Level[] => {
    const out: Level[] = [];
    for (let i = 0; i < shape.levels; i++) {
      const price = roundTo(best + sign * i * gap, pd);
      if (price <= 0) break;
      const vary = 0.6 + 0.8 * unitHash(salt, i, sign, second);
      const qty = roundTo(Math.max(spec.stepSize, (shape.topNotional * shape.growth ** i * vary) / price), qd);
      out.push({ price, qty });
    }
    return out;
  };
  return { bids: side(-1, bestBid), asks: side(1, bestAsk) };
}

/**
 * Takes `qty` from the levels best first, up to `limit` (a BUY takes asks at or below it, a SELL
 * bids at or above it): the fills, one per level, and what is left.
 */
export function walk(
  levels: readonly Level[],
  qty: number,
  stepSize: number,
  limit?: { side: 'BUY' | 'SELL'; price: number },
): { fills: Level[]; remaining: number } {
  const qd = decimalsOf(stepSize);
  const fills: Level[] = [];
  let remaining = qty;
  for (const level of levels) {
    if (remaining <= 1e-12) break;
    if (limit && (limit.side === 'BUY' ? level.price > limit.price : level.price < limit.price)) break;
    const take = roundTo(Math.min(remaining, level.qty), qd);
    if (take <= 0) continue;
    fills.push({ price: level.price, qty: take });
    remaining = roundTo(remaining - take, qd);
  }
  return { fills, remaining };
}
