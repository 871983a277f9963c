import { ADX, ATR, EMA } from 'trading-signals';
import type { Candle } from '../../core/market-data/types.js';
import type { Signal, Strategy } from './strategy.js';

export interface TrendFollowingOptions {
  readonly fast: number;
  readonly slow: number;
  /** A cross older than this many bars is no longer fresh. */
  readonly freshBars: number;
  /** Minimum trend strength (ADX). */
  readonly minAdx: number;
  readonly stopAtr: number;
  readonly targetAtr: number;
}

const DEFAULTS: TrendFollowingOptions = { fast: 20, slow: 50, freshBars: 3, minAdx: 20, stopAtr: 2, targetAtr: 3 };

/**
 * The default strategy: a fresh EMA(20)/EMA(50) cross in the direction of a trend strong enough
 * by ADX(14); stop-loss 2 ATR(14) away, take-profit 3 ATR (reward/risk 1.5). Score grows with the
 * trend's strength and the gap between the averages.
 */
export class TrendFollowing implements Strategy {
  readonly name = 'trend-following';
  readonly #o: TrendFollowingOptions;

  constructor(options: Partial<TrendFollowingOptions> = {}) {
    this.#o = { ...DEFAULTS, ...options };
  }

  get lookback(): number {
    return this.#o.slow * 3;
  }

  evaluate(symbol: string, candles: readonly Candle[]): Signal | undefined {
    if (candles.length < this.#o.slow + this.#o.freshBars + 1) return undefined;
    const fast = new EMA(this.#o.fast);
    const slow = new EMA(this.#o.slow);
    const adx = new ADX(14);
    const atr = new ATR(14);
    const diffs: number[] = [];
    let adxValue = 0;
    let atrValue = 0;
    for (const [, , high, low, close] of candles) {
      fast.update(close, false);
      slow.update(close, false);
      adxValue = adx.update({ high, low, close }, false) ?? adxValue;
      atrValue = atr.update({ high, low, close }, false) ?? atrValue;
      if (fast.isStable && slow.isStable) diffs.push(fast.getResultOrThrow() - slow.getResultOrThrow());
    }
    if (diffs.length <= this.#o.freshBars || atrValue <= 0) return undefined;
    const now = diffs.at(-1)!;
    const barsSinceCross = [...diffs].reverse().findIndex((d) => Math.sign(d) !== Math.sign(now));
    if (barsSinceCross < 1 || barsSinceCross > this.#o.freshBars) return undefined;
    if (adxValue < this.#o.minAdx) return undefined;
    const side = now > 0 ? 'long' : 'short';
    const entry = candles.at(-1)![4];
    const dir = side === 'long' ? 1 : -1;
    // Strength of the trend (ADX, full at 40) and how far price has left the slow average (full at 2 ATR).
    const stretch = Math.abs(entry - slow.getResultOrThrow()) / atrValue;
    const score = Math.min(1, 0.6 * Math.min(1, adxValue / 40) + 0.4 * Math.min(1, stretch / 2));
    return {
      side,
      entry,
      stopLoss: entry - dir * this.#o.stopAtr * atrValue,
      takeProfit: entry + dir * this.#o.targetAtr * atrValue,
      score: Math.round(score * 1000) / 1000,
      reason: `EMA${this.#o.fast} crossed ${side === 'long' ? 'above' : 'below'} EMA${this.#o.slow} ${barsSinceCross} bar(s) ago; ADX ${adxValue.toFixed(1)}; ATR ${((atrValue / entry) * 100).toFixed(2)}% of price`,
    };
  }
}
