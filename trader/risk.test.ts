import { describe, expect, it } from 'vitest';
import { tradingConfigSchema } from '../core/trading-config.js';
import type { Recommendation } from '../core/recommendations.js';
import { assessEntry, type RiskContext } from './risk.js';

const NOW = 1_800_000_000_000;
const rec: Recommendation = {
  id: 'ETHUSDT-1h-1-long-abc',
  symbol: 'ETHUSDT',
  side: 'long',
  entry: 2000,
  stopLoss: 1900,
  takeProfit: 2150,
  score: 0.7,
  reason: 'test',
  strategy: 'trend-following',
  interval: '1h',
  barTime: 1,
  expiresAt: NOW + 60_000,
};
const context = (over: Partial<RiskContext> = {}, config: Record<string, unknown> = {}): RiskContext => ({
  config: tradingConfigSchema.parse({ sizing: { mode: 'fixed', usdt: 100 }, leverage: 3, ...config }),
  now: NOW,
  market: { amountStep: 0.001, minAmount: 0.001, minNotional: 20, maxLeverage: 125 },
  markPrice: 2000,
  equity: 1_000,
  available: 1_000,
  dayStartEquity: 1_000,
  openSymbols: new Set(),
  ordersToday: 0,
  takerFee: 0.0005,
  ...over,
});
const reasonOf = (d: ReturnType<typeof assessEntry>) => (d.ok ? 'ok' : `${d.reason}: ${d.detail}`);

describe('risk checks', () => {
  it('sizes an allowed entry from fixed margin × leverage, rounded down to the step', () => {
    const d = assessEntry(rec, context());
    expect(d).toEqual({ ok: true, plan: { symbol: 'ETHUSDT', side: 'buy', amount: 0.15, notional: 300, margin: 100, leverage: 3 } });
  });

  it('sizes from a percentage of equity', () => {
    const d = assessEntry(rec, context({ equity: 2_000, available: 2_000 }, { sizing: { mode: 'equity', percent: 10 } }));
    expect(d.ok && d.plan.amount).toBe(0.3);
  });

  it.each([
    ['denies an expired recommendation', { now: NOW + 120_000 }, {}, /^expired: recommendation expired at/],
    ['denies when trading is disabled', {}, { tradingEnabled: false }, /^trading_disabled: trading is disabled/],
    [
      'halts new entries when the daily loss limit is hit',
      { equity: 940, dayStartEquity: 1_000 },
      { dailyLossLimitPercent: 5 },
      /^daily_loss_limit: equity is down 6.00% today \(limit 5%\)/,
    ],
    ['denies a symbol outside the allowed list', {}, { symbols: ['BTCUSDT'] }, /^symbol_not_allowed: ETHUSDT is not in this account's symbols/],
    ['denies a market the exchange does not list', { market: undefined }, {}, /^unknown_market:/],
    ['denies a score below the threshold', {}, { minScore: 0.8 }, /^score_below_threshold: score 0.7 is below 0.8/],
    ['denies without a mark price instead of sizing from the recommendation', { markPrice: undefined }, {}, /^no_mark_price: no fresh mark price for ETHUSDT/],
    ['denies a second position in one symbol', { openSymbols: new Set(['ETHUSDT']) }, {}, /^position_exists:/],
    [
      'denies past the maximum of open positions',
      { openSymbols: new Set(['BTCUSDT', 'SOLUSDT']) },
      { maxOpenPositions: 2 },
      /^max_open_positions: 2 positions open \(max 2\)/,
    ],
    ['denies past the maximum of orders per day', { ordersToday: 58 }, { maxOrdersPerDay: 60 }, /^max_orders_per_day: 58 orders placed today/],
    ['denies a size under the minimum notional or precision', {}, { sizing: { mode: 'fixed', usdt: 5 } }, /^size_below_minimum:/],
    ['denies without enough available margin', { available: 50 }, {}, /^insufficient_margin: needs 100.15 USDT margin, 50.00 available/],
  ])('%s', (_name, over, config, expected) => {
    expect(reasonOf(assessEntry(rec, context(over, config)))).toMatch(expected);
  });

  it('caps leverage at what the market allows', () => {
    const d = assessEntry(rec, context({ market: { amountStep: 0.001, minAmount: 0.001, minNotional: 20, maxLeverage: 2 } }, { leverage: 10 }));
    expect(d.ok && d.plan.leverage).toBe(2);
  });
});
