import type { Candle } from '../../core/market-data/types.js';

export interface Signal {
  readonly side: 'long' | 'short';
  readonly entry: number;
  readonly stopLoss: number;
  readonly takeProfit: number;
  /** 0..1 */
  readonly score: number;
  readonly reason: string;
}

/**
 * A strategy looks at one symbol's closed candles and may recommend a trade. It is pure: the
 * same candles give the same signal, so a re-scan of the same bar republishes the same thing.
 */
export interface Strategy {
  readonly name: string;
  /** Candles it needs (closed ones, oldest first). */
  readonly lookback: number;
  evaluate(symbol: string, candles: readonly Candle[]): Signal | undefined;
}
