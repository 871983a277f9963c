/** One notional bracket of a symbol, as `GET /fapi/v1/leverageBracket` prints it. */
export interface Bracket {
  readonly bracket: number;
  readonly initialLeverage: number;
  readonly notionalCap: number;
  readonly notionalFloor: number;
  readonly maintMarginRatio: number;
  /** Maintenance amount: maintenance margin = notional × maintMarginRatio − cum. */
  readonly cum: number;
}

/**
 * BTCUSDT's ladder as Binance answered `GET /fapi/v1/leverageBracket` (a captured mainnet
 * response kept in github.com/boolean404/heikin-ashi-trading-bot @ f4c6c76,
 * json/fapiPrivate_get_leverage_bracket.py): ten brackets, leverage falling from 125× to 1× as
 * the notional grows. Only the caps, ratios and leverages are taken; `cum` is recomputed below
 * by Binance's rule and matches the captured values.
 */
const BTC_LADDER: ReadonlyArray<readonly [cap: number, leverage: number, ratio: number]> = [
  [50_000, 125, 0.004],
  [250_000, 100, 0.005],
  [3_000_000, 50, 0.01],
  [20_000_000, 20, 0.025],
  [40_000_000, 10, 0.05],
  [100_000_000, 5, 0.1],
  [120_000_000, 4, 0.125],
  [200_000_000, 3, 0.15],
  [300_000_000, 2, 0.25],
  [500_000_000, 1, 0.5],
];

/**
 * The other replayed symbols have no captured answer at hand: their ladders keep BTCUSDT's
 * shape (ten brackets, the same ratios) with the caps scaled to a smaller market and the
 * leverage capped at the symbol's maximum. The README says so.
 */
const SCALE: Record<string, { caps: number; maxLeverage: number }> = {
  BTCUSDT: { caps: 1, maxLeverage: 125 },
  ETHUSDT: { caps: 0.5, maxLeverage: 125 },
  BNBUSDT: { caps: 0.1, maxLeverage: 75 },
  SOLUSDT: { caps: 0.1, maxLeverage: 75 },
  XRPUSDT: { caps: 0.1, maxLeverage: 75 },
  DOGEUSDT: { caps: 0.1, maxLeverage: 75 },
};

/** `cum` by Binance's rule: each bracket's maintenance amount keeps maintenance margin continuous at its floor. */
function ladder(scale: { caps: number; maxLeverage: number }): Bracket[] {
  const out: Bracket[] = [];
  let floor = 0;
  let cum = 0;
  let previousRatio = 0;
  for (const [i, [cap, leverage, ratio]] of BTC_LADDER.entries()) {
    cum += floor * (ratio - previousRatio);
    const notionalCap = cap * scale.caps;
    out.push({
      bracket: i + 1,
      initialLeverage: Math.min(leverage, scale.maxLeverage),
      notionalCap,
      notionalFloor: floor,
      maintMarginRatio: ratio,
      cum: Number(cum.toFixed(8)),
    });
    floor = notionalCap;
    previousRatio = ratio;
  }
  return out;
}

export function bracketsOf(symbol: string): Bracket[] {
  return ladder(SCALE[symbol] ?? { caps: 0.1, maxLeverage: 75 });
}

/** The bracket holding `notional` (the last one beyond its cap). */
export function bracketFor(brackets: readonly Bracket[], notional: number): Bracket {
  return brackets.find((b) => Math.abs(notional) < b.notionalCap) ?? brackets[brackets.length - 1]!;
}

/** Binance's maintenance margin of a position: notional × ratio − cum of its bracket. */
export function maintenanceMargin(brackets: readonly Bracket[], notional: number): number {
  const b = bracketFor(brackets, notional);
  return Math.max(0, Math.abs(notional) * b.maintMarginRatio - b.cum);
}

/** The largest notional a position may have at this leverage (the cap of the last bracket that allows it). */
export function maxNotionalAt(brackets: readonly Bracket[], leverage: number): number {
  return brackets.filter((b) => b.initialLeverage >= leverage).reduce((cap, b) => Math.max(cap, b.notionalCap), 0);
}
