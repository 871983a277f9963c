import type { Recommendation } from '../core/recommendations.js';
import type { TradingConfig } from '../core/trading-config.js';

/** Why a recommendation is not acted on: the metric label, the daily counter and the log say the same. */
export const DENIAL_REASONS = [
  'expired',
  'trading_disabled',
  'daily_loss_limit',
  'symbol_not_allowed',
  'unknown_market',
  'score_below_threshold',
  'no_mark_price',
  'position_exists',
  'max_open_positions',
  'max_orders_per_day',
  'size_below_minimum',
  'insufficient_margin',
] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];

/** What a market allows, from exchange info (via ccxt's market structure). */
export interface MarketRules {
  readonly amountStep: number;
  readonly minAmount: number;
  readonly minNotional: number;
  readonly maxLeverage: number;
}

export interface RiskContext {
  readonly config: TradingConfig;
  readonly now: number;
  readonly market: MarketRules | undefined;
  /** The shared mark price now; undefined when marketdata has none (the entry waits). */
  readonly markPrice: number | undefined;
  readonly equity: number;
  readonly available: number;
  readonly dayStartEquity: number;
  readonly openSymbols: ReadonlySet<string>;
  readonly ordersToday: number;
  readonly takerFee: number;
}

export interface EntryPlan {
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  readonly amount: number;
  readonly notional: number;
  readonly margin: number;
  readonly leverage: number;
}

export type RiskDecision = { readonly ok: true; readonly plan: EntryPlan } | { readonly ok: false; readonly reason: DenialReason; readonly detail: string };

/** Orders one entry costs against the daily limit: the entry, its stop-loss and take-profit. */
export const ORDERS_PER_ENTRY = 3;

const deny = (reason: DenialReason, detail: string): RiskDecision => ({ ok: false, reason, detail });

/**
 * Decides whether to act on a recommendation, and how big. Every refusal names its reason; the
 * checks run in a fixed order so the reason given is the first that applies.
 */
export function assessEntry(rec: Recommendation, ctx: RiskContext): RiskDecision {
  const { config } = ctx;
  if (rec.expiresAt <= ctx.now) return deny('expired', `recommendation expired at ${new Date(rec.expiresAt).toISOString()}`);
  if (!config.tradingEnabled) return deny('trading_disabled', 'trading is disabled for this account (paused)');
  const lossPercent = ctx.dayStartEquity > 0 ? ((ctx.dayStartEquity - ctx.equity) / ctx.dayStartEquity) * 100 : 0;
  if (lossPercent >= config.dailyLossLimitPercent) {
    return deny(
      'daily_loss_limit',
      `equity is down ${lossPercent.toFixed(2)}% today (limit ${config.dailyLossLimitPercent}%): new entries halted until 00:00 UTC`,
    );
  }
  if (config.symbols.length > 0 && !config.symbols.includes(rec.symbol)) return deny('symbol_not_allowed', `${rec.symbol} is not in this account's symbols`);
  if (!ctx.market) return deny('unknown_market', `${rec.symbol} is not a tradable market`);
  if (rec.score < config.minScore) return deny('score_below_threshold', `score ${rec.score} is below ${config.minScore}`);
  if (ctx.markPrice === undefined || !(ctx.markPrice > 0))
    return deny('no_mark_price', `no fresh mark price for ${rec.symbol}: the size cannot be computed, the entry waits for one`);
  const markPrice = ctx.markPrice;
  if (ctx.openSymbols.has(rec.symbol)) return deny('position_exists', `a position in ${rec.symbol} is already open`);
  if (ctx.openSymbols.size >= config.maxOpenPositions)
    return deny('max_open_positions', `${ctx.openSymbols.size} positions open (max ${config.maxOpenPositions})`);
  if (ctx.ordersToday + ORDERS_PER_ENTRY > config.maxOrdersPerDay) {
    return deny('max_orders_per_day', `${ctx.ordersToday} orders placed today; an entry needs ${ORDERS_PER_ENTRY} more (max ${config.maxOrdersPerDay})`);
  }
  const leverage = Math.min(config.leverage, ctx.market.maxLeverage);
  const wantedMargin = config.sizing.mode === 'fixed' ? config.sizing.usdt : (ctx.equity * config.sizing.percent) / 100;
  const step = ctx.market.amountStep;
  const amount = Math.floor((wantedMargin * leverage) / markPrice / step + 1e-9) * step;
  const rounded = Number(amount.toFixed(decimals(step)));
  const notional = rounded * markPrice;
  if (rounded < ctx.market.minAmount || notional < ctx.market.minNotional) {
    return deny(
      'size_below_minimum',
      `position of ${(wantedMargin * leverage).toFixed(2)} USDT notional is below the market minimum (${ctx.market.minNotional} USDT, ${ctx.market.minAmount} ${rec.symbol})`,
    );
  }
  const margin = notional / leverage;
  const needed = margin + notional * ctx.takerFee;
  if (needed > ctx.available) return deny('insufficient_margin', `needs ${needed.toFixed(2)} USDT margin, ${ctx.available.toFixed(2)} available`);
  return { ok: true, plan: { symbol: rec.symbol, side: rec.side === 'long' ? 'buy' : 'sell', amount: rounded, notional, margin, leverage } };
}

const decimals = (step: number) => {
  const text = step.toString();
  return text.includes('e-') ? Number(text.split('e-')[1]) : (text.split('.')[1]?.length ?? 0);
};
