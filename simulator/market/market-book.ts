import { HOUR, type Bar } from './bars.js';
import type { SimClock } from './sim-clock.js';

export interface Ohlcv {
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
}

interface Series {
  readonly bars: readonly Bar[];
  readonly first: number;
  readonly salt: number;
  /** Manual price moves: from this market time on, prices are multiplied by factor. */
  readonly moves: Array<{ from: number; factor: number }>;
}

const INTERVALS: Record<string, number> = {
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': HOUR,
  '2h': 2 * HOUR,
  '4h': 4 * HOUR,
  '6h': 6 * HOUR,
  '8h': 8 * HOUR,
  '12h': 12 * HOUR,
  '1d': 24 * HOUR,
  '3d': 72 * HOUR,
  '1w': 168 * HOUR,
};
/** Binance weeks start on Monday; the epoch was a Thursday. */
const WEEK_OFFSET = 4 * 24 * HOUR;

export const intervalMs = (interval: string): number | undefined => INTERVALS[interval];

/**
 * Prices of every symbol at any market time: inside each hourly bar, a path from the open through
 * the high and low (in the order the bar's direction makes plausible) to the close.
 */
export class MarketBook {
  readonly #series = new Map<string, Series>();
  readonly clock: SimClock;

  constructor(bars: Map<string, readonly Bar[]>, clock: SimClock) {
    this.clock = clock;
    let salt = 1;
    for (const [symbol, list] of bars) {
      if (list.length === 0) throw new Error(`no bars for ${symbol}`);
      this.#series.set(symbol, { bars: list, first: list[0]!.openTime, salt: salt++ * 7919, moves: [] });
    }
  }

  symbols(): string[] {
    return [...this.#series.keys()];
  }

  has(symbol: string): boolean {
    return this.#series.has(symbol);
  }

  /** Market time of the first bar: no kline exists before it. */
  start(symbol: string): number {
    return this.#get(symbol).first;
  }

  price(symbol: string, at = this.clock.now()): number {
    const s = this.#get(symbol);
    return this.#rawPrice(s, at) * factorAt(s, at);
  }

  /** Moves the price from now on; history stays as it was. */
  setPrice(symbol: string, price: number): void {
    const s = this.#get(symbol);
    const now = this.clock.now();
    s.moves.push({ from: now, factor: price / this.#rawPrice(s, now) });
  }

  ohlcv(symbol: string, from: number, to: number): Ohlcv | undefined {
    const s = this.#get(symbol);
    const end = Math.min(to, this.clock.now());
    if (end < from) return undefined;
    const times = [from, end];
    const firstBar = Math.max(0, Math.floor((from - s.first) / HOUR));
    const lastBar = Math.min(s.bars.length - 1, Math.floor((end - s.first) / HOUR));
    let volume = 0;
    for (let i = firstBar; i <= lastBar; i++) {
      const bar = s.bars[i]!;
      for (const t of this.#vertexTimes(s, i)) if (t > from && t < end) times.push(t);
      const overlap = Math.min(end, bar.openTime + HOUR) - Math.max(from, bar.openTime);
      if (overlap > 0) volume += (bar.volume * overlap) / HOUR;
    }
    for (const move of s.moves) if (move.from > from && move.from <= end) times.push(move.from - 1, move.from);
    const prices = times.map((t) => this.price(symbol, t));
    return {
      open: prices[0]!,
      close: prices[1]!,
      high: Math.max(...prices),
      low: Math.min(...prices),
      volume,
    };
  }

  /** Bars of `interval` as Binance returns them (the last one may still be forming). */
  klines(symbol: string, interval: string, opts: { limit: number; startTime?: number; endTime?: number }) {
    const step = INTERVALS[interval];
    if (!step) throw new Error(`unknown interval ${interval}`);
    const align = (t: number) => (interval === '1w' ? Math.floor((t - WEEK_OFFSET) / step) * step + WEEK_OFFSET : Math.floor(t / step) * step);
    const now = this.clock.now();
    const end = Math.min(opts.endTime ?? now, now);
    const earliest = align(this.start(symbol));
    let first = opts.startTime !== undefined ? align(opts.startTime) : align(end) - (opts.limit - 1) * step;
    if (first < earliest) first = earliest;
    const rows: Array<{ openTime: number; closeTime: number } & Ohlcv> = [];
    for (let open = first; open <= end && rows.length < opts.limit; open += step) {
      const bar = this.ohlcv(symbol, open, open + step - 1);
      if (bar) rows.push({ openTime: open, closeTime: open + step - 1, ...bar });
    }
    return rows;
  }

  #rawPrice(s: Series, at: number): number {
    const index = Math.floor((at - s.first) / HOUR);
    if (index < 0) return s.bars[0]!.open;
    if (index >= s.bars.length) return s.bars[s.bars.length - 1]!.close;
    const bar = s.bars[index]!;
    const times = this.#vertexTimes(s, index);
    const values = bar.close >= bar.open ? [bar.open, bar.low, bar.high, bar.close] : [bar.open, bar.high, bar.low, bar.close];
    for (let k = 1; k < times.length; k++) {
      if (at <= times[k]!) {
        const t0 = times[k - 1]!;
        const w = (at - t0) / (times[k]! - t0);
        return values[k - 1]! + (values[k]! - values[k - 1]!) * w;
      }
    }
    return bar.close;
  }

  /** Times of the open, the two extremes and the close inside bar `index` (deterministic). */
  #vertexTimes(s: Series, index: number): number[] {
    const t = s.bars[index]!.openTime;
    const r1 = unit(s.salt, index * 2);
    const r2 = unit(s.salt, index * 2 + 1);
    return [t, t + Math.floor((0.15 + 0.3 * r1) * HOUR), t + Math.floor((0.55 + 0.3 * r2) * HOUR), t + HOUR - 1];
  }

  #get(symbol: string): Series {
    const s = this.#series.get(symbol);
    if (!s) throw new Error(`unknown symbol ${symbol}`);
    return s;
  }
}

function factorAt(s: Series, at: number): number {
  let factor = 1;
  for (const move of s.moves) if (move.from <= at) factor = move.factor;
  return factor;
}

/** A deterministic number in [0, 1) from two integers. */
function unit(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return (h >>> 0) / 4294967296;
}
