import { maintenanceMargin } from '../market/leverage-brackets.js';
import type { SymbolSpec } from '../market/symbols.js';
import type { Position, SimAccount, SymbolSettings } from './types.js';

export const DEFAULT_LEVERAGE = 20;

export const settingsOf = (account: SimAccount, symbol: string): SymbolSettings => {
  let s = account.settings.get(symbol);
  if (!s) {
    s = { leverage: DEFAULT_LEVERAGE, marginType: 'CROSSED' };
    account.settings.set(symbol, s);
  }
  return s;
};

export interface PositionView {
  readonly position: Position;
  readonly mark: number;
  readonly notional: number;
  readonly unrealized: number;
  readonly initialMargin: number;
  readonly maintMargin: number;
  readonly isolated: boolean;
  readonly leverage: number;
}

export interface AccountView {
  readonly wallet: number;
  readonly crossWallet: number;
  readonly unrealized: number;
  readonly crossUnrealized: number;
  readonly marginBalance: number;
  readonly positionInitialMargin: number;
  readonly openOrderInitialMargin: number;
  readonly maintMargin: number;
  readonly available: number;
  readonly positions: PositionView[];
}

type Lookup = (symbol: string) => { spec: SymbolSpec; mark: number };

/** Margin arithmetic of a USDⓈ-M account in one-way mode (cross and isolated). */
export function viewAccount(account: SimAccount, lookup: Lookup): AccountView {
  const positions: PositionView[] = [];
  for (const position of account.positions.values()) {
    if (position.amt === 0) continue;
    const { spec, mark } = lookup(position.symbol);
    const settings = settingsOf(account, position.symbol);
    const notional = position.amt * mark;
    positions.push({
      position,
      mark,
      notional,
      unrealized: (mark - position.entryPrice) * position.amt,
      initialMargin: Math.abs(notional) / settings.leverage,
      maintMargin: maintenanceMargin(spec.brackets, notional),
      isolated: settings.marginType === 'ISOLATED',
      leverage: settings.leverage,
    });
  }
  let openOrderInitialMargin = 0;
  for (const order of account.orders.values()) {
    if (order.type !== 'LIMIT' || (order.status !== 'NEW' && order.status !== 'PARTIALLY_FILLED') || order.reduceOnly) continue;
    openOrderInitialMargin += ((order.origQty - order.executedQty) * order.price) / settingsOf(account, order.symbol).leverage;
  }
  const isolatedWallets = positions.filter((p) => p.isolated).reduce((sum, p) => sum + p.position.isolatedWallet, 0);
  const cross = positions.filter((p) => !p.isolated);
  const crossUnrealized = cross.reduce((sum, p) => sum + p.unrealized, 0);
  const unrealized = positions.reduce((sum, p) => sum + p.unrealized, 0);
  const crossInitial = cross.reduce((sum, p) => sum + p.initialMargin, 0);
  const crossWallet = account.wallet - isolatedWallets;
  return {
    wallet: account.wallet,
    crossWallet,
    unrealized,
    crossUnrealized,
    marginBalance: account.wallet + unrealized,
    positionInitialMargin: positions.reduce((sum, p) => sum + p.initialMargin, 0),
    openOrderInitialMargin,
    maintMargin: positions.reduce((sum, p) => sum + p.maintMargin, 0),
    available: Math.max(0, crossWallet + Math.min(0, crossUnrealized) - crossInitial - openOrderInitialMargin),
    positions,
  };
}
