import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export const TRADER_STATES = ['starting', 'active', 'paused', 'halted', 'error', 'stopping'] as const;
export type TraderState = (typeof TRADER_STATES)[number];

export function traderMetrics(registry: Registry) {
  const registers = [registry];
  return {
    orders: new Counter({
      name: 'ats_trader_orders_total',
      help: 'Orders by purpose and outcome (placed, filled, rejected, failed)',
      labelNames: ['purpose', 'outcome'],
      registers,
    }),
    denials: new Counter({ name: 'ats_trader_denials_total', help: 'Recommendations denied by the risk checks, by reason', labelNames: ['reason'], registers }),
    openPositions: new Gauge({ name: 'ats_trader_open_positions', help: 'Open positions', registers }),
    equity: new Gauge({ name: 'ats_trader_equity_usdt', help: 'Account equity (margin balance) in USDT', registers }),
    unrealized: new Gauge({ name: 'ats_trader_unrealized_pnl_usdt', help: 'Unrealized PnL in USDT', registers }),
    realized: new Gauge({ name: 'ats_trader_realized_pnl_usdt', help: 'Realized PnL net of fees of the positions this process closed', registers }),
    pnlToday: new Gauge({ name: 'ats_trader_pnl_today_usdt', help: 'Equity change since the start of the UTC day', registers }),
    state: new Gauge({ name: 'ats_trader_state', help: '1 for the current trading state', labelNames: ['state'], registers }),
    loop: new Histogram({
      name: 'ats_trader_loop_seconds',
      help: 'Duration of trading loop steps',
      labelNames: ['step'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    unprotected: new Gauge({ name: 'ats_trader_unprotected_positions', help: 'Open positions without a stop-loss on the exchange', registers }),
  };
}

export type TraderMetrics = ReturnType<typeof traderMetrics>;
