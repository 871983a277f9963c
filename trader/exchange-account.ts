import type { SharedMarkets } from './shared-markets.js';
import type { ExchangePosition } from '../core/runtime-values.js';
import { ccxtErrors as ccxt } from '../core/exchange/ccxt-binance.js';
import type { BinanceClient } from '../core/exchange/binance-client.js';
import type { MarketRules } from './risk.js';
import { isOrderNotFound } from './errors.js';
import type { Fill } from './position-fills.js';
import { describeError } from '../core/errors.js';

type CcxtOrder = Awaited<ReturnType<BinanceClient['fetchOrder']>>;
type Trade = Awaited<ReturnType<BinanceClient['fetchMyTrades']>>[number];

export type { ExchangePosition } from '../core/runtime-values.js';

/**
 * An order as the trader sees it: amounts and prices as the exchange printed them (decimal
 * strings), conditional (algo) orders and plain ones alike.
 */
export interface ExchangeOrder {
  /** The exchange's order id (an algo id for a conditional order). */
  readonly id: string;
  readonly clientOrderId: string | undefined;
  /** The Binance id (ETHUSDT). */
  readonly symbol: string;
  readonly side: 'buy' | 'sell';
  /** Binance's order type: MARKET, LIMIT, STOP_MARKET, TAKE_PROFIT_MARKET, … */
  readonly type: string;
  /** Where the order is in its life: open (or waiting for its trigger), filled, or ended without a fill. */
  readonly state: 'open' | 'filled' | 'canceled' | 'rejected' | 'expired';
  /** Binance's own status word (FILLED, NEW, CANCELED, TRIGGERED, …). */
  readonly exchangeStatus: string;
  readonly quantity: string;
  readonly price: string | null;
  readonly triggerPrice: string | null;
  readonly reduceOnly: boolean;
  readonly filledQuantity: string;
  readonly averagePrice: string | null;
  /** For a triggered conditional order: the id of the order it placed. */
  readonly triggeredOrderId: string | undefined;
  /** stop_loss or take_profit for a conditional order, from its type. */
  readonly protection: 'stop_loss' | 'take_profit' | undefined;
}

/** One funding payment: negative when paid, positive when received. */
export interface FundingPayment {
  readonly symbol: string;
  readonly amount: string;
  readonly time: number;
  readonly tranId: string;
}

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

  private constructor(private readonly client: BinanceClient) {}

  /**
   * An account on a signed client whose markets come from `exchangeInfo` (marketdata's shared
   * cache) instead of one more exchangeInfo request per trader; in a pool, parsed once for all
   * its accounts (`shared`).
   */
  static async connect(client: BinanceClient, exchangeInfo: () => Promise<unknown>, shared?: SharedMarkets): Promise<ExchangeAccount> {
    (client as unknown as { fapiPublicGetExchangeInfo: () => Promise<unknown> }).fapiPublicGetExchangeInfo = exchangeInfo;
    await (shared ? shared.load(client) : client.loadMarkets());
    return new ExchangeAccount(client);
  }

  async close(): Promise<void> {
    await this.client.close();
  }

  /** The next order updates from the user data stream (waits for them). */
  async orderUpdates(): Promise<ExchangeOrder[]> {
    return (await this.client.watchOrders()).map(toExchangeOrder);
  }

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
        symbol: id,
        side: p.side === 'short' ? 'short' : 'long',
        amount,
        entryPrice: Number(p.entryPrice),
        markPrice: Number(p.markPrice ?? 0),
        unrealizedPnl: Number(p.unrealizedPnl ?? 0),
      });
    }
    return out;
  }

  /** Open conditional (algo) orders, for one symbol (weight 1) or all (weight 40). */
  async openTriggers(id?: string): Promise<ExchangeOrder[]> {
    return (await this.client.fetchOpenOrders(id ? this.#unified(id) : undefined, undefined, undefined, { trigger: true })).map(toExchangeOrder);
  }

  async prepare(id: string, leverage: number, marginMode: 'isolated' | 'cross'): Promise<void> {
    if (this.#prepared.get(id) === `${leverage}|${marginMode}`) return;
    const symbol = this.#unified(id);
    // The two settings are independent: one round trip for both.
    const margin = this.client.setMarginMode(marginMode, symbol).catch((err: unknown) => {
      // Already set, or cannot change while a position or order exists: trade with what is set.
      if (!(err instanceof ccxt.MarginModeAlreadySet) && !/-4046|-4047|-4048/.test(describeError(err))) throw err;
    });
    await Promise.all([margin, this.client.setLeverage(leverage, symbol)]);
    this.#prepared.set(id, `${leverage}|${marginMode}`);
  }

  async entry(id: string, side: 'buy' | 'sell', amount: number, clientOrderId: string, limitPrice?: number): Promise<ExchangeOrder> {
    const symbol = this.#unified(id);
    return toExchangeOrder(
      limitPrice === undefined
        ? await this.client.createOrder(symbol, 'market', side, amount, undefined, { clientOrderId })
        : await this.client.createOrder(symbol, 'limit', side, amount, limitPrice, { clientOrderId, timeInForce: 'GTC' }),
    );
  }

  /** A stop-loss or take-profit closing the whole position, triggered by the mark price. */
  async protect(
    id: string,
    positionSide: 'long' | 'short',
    kind: 'stop_loss' | 'take_profit',
    triggerPrice: number,
    clientOrderId: string,
  ): Promise<ExchangeOrder> {
    const symbol = this.#unified(id);
    const price = Number(this.client.priceToPrecision(symbol, triggerPrice));
    const params = {
      clientOrderId,
      closePosition: true,
      workingType: 'MARK_PRICE',
      ...(kind === 'stop_loss' ? { stopLossPrice: price } : { takeProfitPrice: price }),
    };
    return toExchangeOrder(
      await this.client.createOrder(symbol, 'market', positionSide === 'long' ? 'sell' : 'buy', undefined as unknown as number, undefined, params),
    );
  }

  /** Closes a position at market now (reduce-only). */
  async closePosition(id: string, position: ExchangePosition, clientOrderId: string): Promise<ExchangeOrder> {
    return toExchangeOrder(
      await this.client.createOrder(this.#unified(id), 'market', position.side === 'long' ? 'sell' : 'buy', position.amount, undefined, {
        clientOrderId,
        reduceOnly: true,
      }),
    );
  }

  async cancelOrder(id: string, orderId: string): Promise<ExchangeOrder> {
    return toExchangeOrder(await this.client.cancelOrder(orderId, this.#unified(id)));
  }

  async cancelTrigger(id: string, orderId: string): Promise<void> {
    try {
      await this.client.cancelOrder(orderId, this.#unified(id), { trigger: true });
    } catch (err) {
      if (!isOrderNotFound(err)) throw err;
    }
  }

  /** The order with this client id, or undefined if the exchange never got it. */
  async findOrder(id: string, clientOrderId: string, trigger = false): Promise<ExchangeOrder | undefined> {
    try {
      return toExchangeOrder(
        await this.client.fetchOrder(
          undefined as unknown as string,
          this.#unified(id),
          trigger ? { clientAlgoId: clientOrderId, trigger: true } : { origClientOrderId: clientOrderId },
        ),
      );
    } catch (err) {
      if (isOrderNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Funding the account paid or received since `since` (ms), as the exchange printed it (`GET /fapi/v1/income`, weight 30). */
  async funding(since: number): Promise<FundingPayment[]> {
    const rows = await this.client.fetchFundingHistory(undefined, since, 1000);
    return rows.map((r) => {
      const info = (r.info ?? {}) as Record<string, unknown>;
      return {
        symbol: String(info.symbol ?? ''),
        amount: String(info.income ?? r.amount),
        time: Number(info.time ?? r.timestamp),
        tranId: String(info.tranId ?? r.id),
      };
    });
  }

  /** The account's fills of one symbol, from `since` (or the most recent ones), as the exchange printed them. */
  async fills(id: string, since: number | undefined): Promise<Fill[]> {
    return (await this.client.fetchMyTrades(this.#unified(id), since, 1000)).map(toFill);
  }
}

/** A fill with Binance's own decimal strings (ccxt's parsed numbers would lose digits in sums). */
function toFill(t: Trade): Fill {
  const info = (t.info ?? {}) as Record<string, unknown>;
  const text = (raw: unknown, parsed: unknown, fallback = '0') => String(raw ?? parsed ?? fallback);
  return {
    id: String(t.id),
    orderId: text(info.orderId, t.order),
    side: t.side === 'sell' ? 'sell' : 'buy',
    price: text(info.price, t.price),
    qty: text(info.qty, t.amount),
    quoteQty: text(info.quoteQty, t.cost),
    commission: text(info.commission, t.fee?.cost),
    commissionAsset: text(info.commissionAsset, t.fee?.currency, 'USDT'),
    realizedPnl: text(info.realizedPnl, undefined),
    maker: t.takerOrMaker === 'maker',
    time: Number(t.timestamp),
  };
}

/** The exchange's decimal string when it sent one, else ccxt's parsed value; null when absent or zero. */
function exact(raw: unknown, parsed: unknown): string | null {
  const value = raw ?? parsed;
  if (value === undefined || value === null || value === '') return null;
  const text = String(value);
  return Number(text) === 0 ? null : text;
}

const STATES: Record<string, ExchangeOrder['state']> = { open: 'open', closed: 'filled', canceled: 'canceled', rejected: 'rejected', expired: 'expired' };

/** ccxt's order (and Binance's fields inside it) as the trader's ExchangeOrder. */
function toExchangeOrder(o: CcxtOrder): ExchangeOrder {
  const info = (o.info ?? {}) as Record<string, unknown>;
  const type = String(info.orderType ?? info.type ?? o.type ?? 'unknown').toUpperCase();
  const actual = info.actualOrderId;
  return {
    id: String(o.id ?? info.algoId ?? info.orderId ?? ''),
    clientOrderId: (o.clientOrderId ?? info.clientOrderId ?? info.clientAlgoId ?? undefined) as string | undefined,
    symbol: String(info.symbol ?? info.s ?? ''),
    side: o.side === 'sell' ? 'sell' : 'buy',
    type,
    state: STATES[String(o.status)] ?? 'open',
    exchangeStatus: String(info.algoStatus ?? info.status ?? info.X ?? o.status ?? 'unknown'),
    quantity: exact(info.origQty ?? info.quantity, o.amount) ?? '0',
    price: exact(info.price, o.price),
    triggerPrice: exact(info.triggerPrice ?? info.stopPrice, o.triggerPrice),
    reduceOnly: Boolean(o.reduceOnly ?? info.reduceOnly ?? info.closePosition ?? false),
    filledQuantity: exact(info.executedQty ?? info.actualQty, o.filled) ?? '0',
    averagePrice: exact(info.avgPrice ?? info.actualPrice, o.average),
    triggeredOrderId: actual === undefined || actual === null || actual === '' ? undefined : String(actual),
    protection: type.startsWith('STOP') ? 'stop_loss' : type.startsWith('TAKE_PROFIT') ? 'take_profit' : undefined,
  };
}
