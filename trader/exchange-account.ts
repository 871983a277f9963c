import type { ExchangePosition } from '../core/runtime-values.js';
import { ccxtErrors as ccxt } from '../core/exchange/ccxt-binance.js';
import type { BinanceClient } from '../core/exchange/binance-client.js';
import type { MarketRules } from './risk.js';
import { isOrderNotFound } from './errors.js';
import type { Fill } from './position-fills.js';

type Order = Awaited<ReturnType<BinanceClient['fetchOrder']>>;
type Trade = Awaited<ReturnType<BinanceClient['fetchMyTrades']>>[number];

export type { ExchangePosition } from '../core/runtime-values.js';

export interface Balance {
  readonly wallet: number;
  readonly equity: number;
  readonly available: number;
  readonly unrealizedPnl: number;
}

/**
 * The one place the trader speaks to the exchange (through ccxt, governed). Symbols in and out
 * are Binance ids (ETHUSDT); everything else in the trader speaks the project's own types.
 */
export class ExchangeAccount {
  /** Symbols whose leverage and margin mode this process has set (saves two calls per entry). */
  readonly #prepared = new Map<string, string>();

  constructor(readonly client: BinanceClient) {}

  #unified(id: string): string {
    const market = Object.values(this.client.markets ?? {}).find((m) => m?.id === id);
    if (!market) throw new ccxt.BadSymbol(`unknown market ${id}`);
    return market.symbol;
  }

  rules(id: string): MarketRules | undefined {
    const market = Object.values(this.client.markets ?? {}).find((m) => m?.id === id);
    if (!market || !market.active) return undefined;
    return {
      amountStep: Number(market.precision.amount ?? 0.001),
      minAmount: Number(market.limits.amount?.min ?? 0),
      minNotional: Number(market.limits.cost?.min ?? 0),
      maxLeverage: Number(market.limits.leverage?.max ?? 125),
    };
  }

  /** The price at the market's tick, as a decimal string. */
  roundPrice(id: string, price: number | string): string {
    return String(this.client.priceToPrecision(this.#unified(id), price as number));
  }

  async balance(): Promise<Balance> {
    const b = await this.client.fetchBalance();
    const info = b.info as Record<string, string>;
    return {
      wallet: Number(info.totalWalletBalance ?? b.USDT?.total ?? 0),
      equity: Number(info.totalMarginBalance ?? b.USDT?.total ?? 0),
      available: Number(info.availableBalance ?? b.USDT?.free ?? 0),
      unrealizedPnl: Number(info.totalUnrealizedProfit ?? 0),
    };
  }

  async positions(): Promise<Map<string, ExchangePosition>> {
    const list = await this.client.fetchPositions();
    const out = new Map<string, ExchangePosition>();
    for (const p of list) {
      const amount = Math.abs(Number(p.contracts ?? 0));
      if (amount === 0) continue;
      const id = String((p.info as Record<string, string>).symbol);
      out.set(id, {
        symbol: id, side: p.side === 'short' ? 'short' : 'long', amount, entryPrice: Number(p.entryPrice),
        markPrice: Number(p.markPrice ?? 0), unrealizedPnl: Number(p.unrealizedPnl ?? 0),
      });
    }
    return out;
  }

  /** Open conditional (algo) orders, for one symbol (weight 1) or all (weight 40). */
  async openTriggers(id?: string): Promise<Order[]> {
    return this.client.fetchOpenOrders(id ? this.#unified(id) : undefined, undefined, undefined, { trigger: true });
  }

  async prepare(id: string, leverage: number, marginMode: 'isolated' | 'cross'): Promise<void> {
    if (this.#prepared.get(id) === `${leverage}|${marginMode}`) return;
    const symbol = this.#unified(id);
    try {
      await this.client.setMarginMode(marginMode, symbol);
    } catch (err) {
      // Already set, or cannot change while a position or order exists: trade with what is set.
      if (!(err instanceof ccxt.MarginModeAlreadySet) && !/-4046|-4047|-4048/.test((err as Error).message)) throw err;
    }
    await this.client.setLeverage(leverage, symbol);
    this.#prepared.set(id, `${leverage}|${marginMode}`);
  }

  async entry(id: string, side: 'buy' | 'sell', amount: number, clientOrderId: string, limitPrice?: number): Promise<Order> {
    const symbol = this.#unified(id);
    return limitPrice === undefined
      ? this.client.createOrder(symbol, 'market', side, amount, undefined, { clientOrderId })
      : this.client.createOrder(symbol, 'limit', side, amount, limitPrice, { clientOrderId, timeInForce: 'GTC' });
  }

  /** A stop-loss or take-profit closing the whole position, triggered by the mark price. */
  async protect(id: string, positionSide: 'long' | 'short', kind: 'stop_loss' | 'take_profit', triggerPrice: number, clientOrderId: string): Promise<Order> {
    const symbol = this.#unified(id);
    const price = Number(this.client.priceToPrecision(symbol, triggerPrice));
    const params = { clientOrderId, closePosition: true, workingType: 'MARK_PRICE', ...(kind === 'stop_loss' ? { stopLossPrice: price } : { takeProfitPrice: price }) };
    return this.client.createOrder(symbol, 'market', positionSide === 'long' ? 'sell' : 'buy', undefined as unknown as number, undefined, params);
  }

  /** Closes a position at market now (reduce-only). */
  async close(id: string, position: ExchangePosition, clientOrderId: string): Promise<Order> {
    return this.client.createOrder(this.#unified(id), 'market', position.side === 'long' ? 'sell' : 'buy', position.amount, undefined, { clientOrderId, reduceOnly: true });
  }

  async cancelOrder(id: string, orderId: string): Promise<Order> {
    return this.client.cancelOrder(orderId, this.#unified(id));
  }

  async cancelTrigger(id: string, orderId: string): Promise<void> {
    try {
      await this.client.cancelOrder(orderId, this.#unified(id), { trigger: true });
    } catch (err) {
      if (!isOrderNotFound(err)) throw err;
    }
  }

  /** The order with this client id, or undefined if the exchange never got it. */
  async findOrder(id: string, clientOrderId: string, trigger = false): Promise<Order | undefined> {
    try {
      return await this.client.fetchOrder(undefined as unknown as string, this.#unified(id), trigger ? { clientAlgoId: clientOrderId, trigger: true } : { origClientOrderId: clientOrderId });
    } catch (err) {
      if (isOrderNotFound(err)) return undefined;
      throw err;
    }
  }

  /** The account's fills of one symbol, from `since` (or the most recent ones), as the exchange printed them. */
  async fills(id: string, since: number | undefined): Promise<Fill[]> {
    return (await this.client.fetchMyTrades(this.#unified(id), since, 1000)).map(toFill);
  }

  /** The id of the order a triggered conditional order placed, if it did. */
  triggeredOrderId(o: Order): string | undefined {
    const actual = (o.info as Record<string, unknown>).actualOrderId;
    return actual === undefined || actual === null || actual === '' ? undefined : String(actual);
  }
}

/** A fill with Binance's own decimal strings (ccxt's parsed numbers would lose digits in sums). */
function toFill(t: Trade): Fill {
  const info = (t.info ?? {}) as Record<string, unknown>;
  const text = (raw: unknown, parsed: unknown, fallback = '0') => String(raw ?? parsed ?? fallback);
  return {
    id: String(t.id), orderId: text(info.orderId, t.order), side: t.side === 'sell' ? 'sell' : 'buy',
    price: text(info.price, t.price), qty: text(info.qty, t.amount), quoteQty: text(info.quoteQty, t.cost),
    commission: text(info.commission, t.fee?.cost), commissionAsset: text(info.commissionAsset, t.fee?.currency, 'USDT'),
    realizedPnl: text(info.realizedPnl, undefined), maker: t.takerOrMaker === 'maker', time: Number(t.timestamp),
  };
}
