import type { Logger } from 'pino';
import type { TradingConfig } from '../core/trading-config.js';
import { TRADER_STATES, type TraderMetrics, type TraderState } from './metrics.js';

/** States in which the trader follows its account (whether or not it may enter). */
const CONNECTED: ReadonlySet<TraderState> = new Set(['active', 'paused', 'halted']);

/**
 * The trading state and its reason, decided in one place: starting → active | paused | halted
 * (from the config and the day's loss), error (with the reason), stopping.
 */
export class TradingState {
  #state: TraderState = 'starting';
  #reason: string | undefined;

  constructor(private readonly o: { log: Logger; metrics: TraderMetrics; onChange: () => void }) {}

  get current(): TraderState {
    return this.#state;
  }

  /** Why the state is what it is (the error, the halt), when there is a reason to give. */
  get reason(): string | undefined {
    return this.#reason;
  }

  get connected(): boolean {
    return CONNECTED.has(this.#state);
  }

  /**
   * Connected: halted once equity has fallen `dailyLossLimitPercent` since the day began,
   * paused when trading is disabled, else active.
   */
  decide(config: TradingConfig, equity: number, dayStartEquity: number): TraderState {
    const loss = dayStartEquity > 0 ? ((dayStartEquity - equity) / dayStartEquity) * 100 : 0;
    if (loss >= config.dailyLossLimitPercent) this.#set('halted', `equity is down ${loss.toFixed(2)}% today (limit ${config.dailyLossLimitPercent}%)`);
    else if (!config.tradingEnabled) this.#set('paused', undefined);
    else this.#set('active', undefined);
    return this.#state;
  }

  starting(): void {
    this.#set('starting', undefined);
  }

  error(reason: string): void {
    this.#set('error', reason);
  }

  stopping(): void {
    this.#set('stopping', this.#reason);
  }

  #set(state: TraderState, reason: string | undefined): void {
    if (this.#state !== state) this.o.log.info({ from: this.#state, to: state, ...(reason ? { reason } : {}) }, 'trading state changed');
    this.#state = state;
    this.#reason = reason;
    for (const s of TRADER_STATES) this.o.metrics.state.set({ state: s }, s === state ? 1 : 0);
    this.o.onChange();
  }
}
