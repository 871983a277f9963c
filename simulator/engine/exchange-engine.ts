import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { err } from '../binance-error.js';
import type { MarketBook } from '../market/market-book.js';
import { maxNotionalAt } from '../market/leverage-brackets.js';
import { bookAround, DEFAULT_BOOK_SHAPE, walk, type Book, type BookShape, type Level } from '../market/order-book.js';
import { decimalsOf, type SymbolSpec } from '../market/symbols.js';
import { settingsOf, viewAccount, type AccountView } from './margin.js';
import type { AlgoOrder, EngineEvent, Order, Position, SimAccount, Side, Trade } from './types.js';
import * as v from './validate.js';
import type { Params } from './validate.js';

export interface Fees {
  readonly maker: number;
  readonly taker: number;
}

const CONDITIONAL = ['STOP', 'STOP_MARKET', 'TAKE_PROFIT', 'TAKE_PROFIT_MARKET', 'TRAILING_STOP_MARKET'];
const EPS = 1e-12;
const MAX_ALGO_PER_SYMBOL = 10;
const MONEY_DECIMALS = 8;
const FUNDING_PERIOD_MS = 8 * 3_600_000;

/**
 * The exchange: accounts, orders, conditional (algo) orders, fills, positions, margin and
 * liquidation, in Binance's one-way mode. It validates as Binance does and throws BinanceError.
 */
export class ExchangeEngine extends EventEmitter<{ event: [EngineEvent] }> {
  readonly symbols: Map<string, SymbolSpec>;
  readonly book: MarketBook;
  readonly fees: Fees;
  readonly #accounts = new Map<string, SimAccount>();
  readonly #byKey = new Map<string, SimAccount>();
  readonly #now: () => number;
  #nextOrderId = 4_000_000_001;
  #nextAlgoId = 3_000_001;
  #nextTradeId = 270_000_001;
  /** Injected: the next fills of resting limit orders take only part of what is left. */
  partialFills: { remaining: number; ratio: number } | undefined;
  readonly #shape: BookShape;
  readonly #markPremium: number;
  readonly #salts = new Map<string, number>();
  readonly #fundingRates: ReadonlyMap<string, number>;
  /** The last funding time settled, as the index of its 8-hour period of market time. */
  #fundingPeriod: number;
  #nextTranId = 9_000_000_001;

  constructor(opts: {
    symbols: Map<string, SymbolSpec>;
    book: MarketBook;
    fees?: Fees;
    now?: () => number;
    /** The order book's shape around the replayed price. */
    bookShape?: BookShape;
    /** The largest gap between the mark and the last price, as a fraction (a slow wave, like a funding basis). */
    markPremium?: number;
    /** Funding rate per symbol (a real premiumIndex `lastFundingRate`); 0.0001 where unknown. */
    fundingRates?: ReadonlyMap<string, number>;
  }) {
    super();
    this.symbols = opts.symbols;
    this.book = opts.book;
    this.fees = opts.fees ?? { maker: 0.0002, taker: 0.0005 };
    this.#now = opts.now ?? Date.now;
    this.#shape = opts.bookShape ?? DEFAULT_BOOK_SHAPE;
    this.#markPremium = opts.markPremium ?? 0.0002;
    let salt = 1;
    for (const symbol of this.symbols.keys()) this.#salts.set(symbol, salt++ * 7_919);
    this.#fundingRates = opts.fundingRates ?? new Map();
    this.#fundingPeriod = Math.floor(this.book.clock.now() / FUNDING_PERIOD_MS);
  }

  // --- funding ---

  fundingRate(symbol: string): number {
    return this.#fundingRates.get(symbol) ?? 0.0001;
  }

  /** The market time of the next funding (every 8 hours: 00:00, 08:00, 16:00 UTC of market time). */
  nextFundingTime(): number {
    return (this.#fundingPeriod + 1) * FUNDING_PERIOD_MS;
  }

  /**
   * Every funding time that market time has passed: each open position pays (a long, at a positive
   * rate) or receives −position × mark × rate, moving the wallet by exactly the printed amount.
   */
  #settleFunding(): void {
    const period = Math.floor(this.book.clock.now() / FUNDING_PERIOD_MS);
    while (this.#fundingPeriod < period) {
      this.#fundingPeriod += 1;
      for (const account of this.#accounts.values()) {
        const paid: string[] = [];
        for (const position of account.positions.values()) {
          if (position.amt === 0) continue;
          const amount = v.roundTo(-position.amt * this.mark(position.symbol) * this.fundingRate(position.symbol), MONEY_DECIMALS);
          if (amount === 0) continue;
          const now = this.#now();
          account.wallet = v.roundTo(account.wallet + amount, MONEY_DECIMALS);
          if (settingsOf(account, position.symbol).marginType === 'ISOLATED') position.isolatedWallet += amount;
          account.funding.push({ tranId: this.#nextTranId++, symbol: position.symbol, amount, time: now });
          account.updateTime = now;
          paid.push(position.symbol);
        }
        if (paid.length > 0) this.#emit({ kind: 'account', account, reason: 'FUNDING_FEE', symbols: paid });
      }
    }
  }

  // --- accounts ---

  createAccount(opts: { id?: string; apiKey: string; apiSecret: string; balance: number }): SimAccount {
    if (this.#byKey.has(opts.apiKey)) throw new Error('an account with this API key exists');
    const id = opts.id ?? `acct-${this.#accounts.size + 1}`;
    if (this.#accounts.has(id)) throw new Error(`account ${id} exists`);
    const account: SimAccount = {
      id,
      apiKey: opts.apiKey,
      apiSecret: opts.apiSecret,
      wallet: opts.balance,
      positions: new Map(),
      settings: new Map(),
      orders: new Map(),
      algoOrders: new Map(),
      trades: [],
      funding: [],
      orderTimes: [],
      ordersPlaced: 0,
      updateTime: this.#now(),
    };
    this.#accounts.set(id, account);
    this.#byKey.set(opts.apiKey, account);
    return account;
  }

  /** A new key pair for the account; the old key stops working at once (-2015), as on Binance when a key is deleted. */
  rotateKey(id: string, apiKey: string, apiSecret: string): void {
    const account = this.#accounts.get(id);
    if (!account) throw new Error(`unknown account ${id}`);
    if (this.#byKey.has(apiKey)) throw new Error('an account with this API key exists');
    this.#byKey.delete(account.apiKey);
    account.apiKey = apiKey;
    account.apiSecret = apiSecret;
    this.#byKey.set(apiKey, account);
  }

  byApiKey(apiKey: string): SimAccount | undefined {
    return this.#byKey.get(apiKey);
  }

  account(id: string): SimAccount | undefined {
    return this.#accounts.get(id);
  }

  accounts(): SimAccount[] {
    return [...this.#accounts.values()];
  }

  view(account: SimAccount): AccountView {
    return viewAccount(account, (symbol) => ({ spec: this.spec(symbol), mark: this.mark(symbol) }));
  }

  // --- market ---

  spec(symbol: string | undefined): SymbolSpec {
    const spec = symbol ? this.symbols.get(symbol) : undefined;
    if (!spec) throw symbol ? err.badSymbol() : err.mandatory('symbol');
    return spec;
  }

  /** The last traded price: the replayed price, at the tick (also the index price). */
  last(symbol: string): number {
    const spec = this.spec(symbol);
    return v.roundTo(this.book.price(symbol), decimalsOf(spec.tickSize));
  }

  /**
   * The mark price: the index plus a small, slowly moving premium (a wave over the 8-hour funding
   * period, at most `markPremium`), at the tick. Margin, liquidation and MARK_PRICE triggers use it.
   */
  mark(symbol: string): number {
    const spec = this.spec(symbol);
    return v.roundTo(this.book.price(symbol) * this.markFactor(spec.symbol, this.book.clock.now()), decimalsOf(spec.tickSize));
  }

  /** mark = index × this factor at market time `t`. */
  markFactor(symbol: string, t: number): number {
    const wave = Math.sin((2 * Math.PI * (t + (this.#salts.get(symbol) ?? 0) * 1_000)) / (8 * 3_600_000));
    return 1 + this.#markPremium * wave;
  }

  /** The order book now, around the last price (`levels` per side; the book's own depth by default). */
  depth(symbol: string, levels = this.#shape.levels): Book {
    const spec = this.spec(symbol);
    return bookAround(this.last(spec.symbol), spec, { ...this.#shape, levels }, this.#salts.get(spec.symbol) ?? 0, this.book.clock.now());
  }

  /** The price a trigger of this working type watches. */
  #watched(symbol: string, workingType: string): number {
    return workingType === 'MARK_PRICE' ? this.mark(symbol) : this.last(symbol);
  }

  // --- settings ---

  setLeverage(account: SimAccount, params: Params) {
    const spec = this.spec(v.required(params, 'symbol'));
    const text = v.required(params, 'leverage');
    const leverage = Number(text);
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > spec.maxLeverage) throw err.invalidLeverage(text);
    settingsOf(account, spec.symbol).leverage = leverage;
    return { leverage, maxNotionalValue: String(maxNotionalAt(spec.brackets, leverage)), symbol: spec.symbol };
  }

  setMarginType(account: SimAccount, params: Params) {
    const spec = this.spec(v.required(params, 'symbol'));
    const type = v.required(params, 'marginType');
    if (type !== 'ISOLATED' && type !== 'CROSSED') throw err.illegalParam('marginType');
    const settings = settingsOf(account, spec.symbol);
    if (settings.marginType === type) throw err.noNeedMarginType();
    if ((account.positions.get(spec.symbol)?.amt ?? 0) !== 0) throw err.marginTypeWithPosition();
    if (this.openOrders(account, spec.symbol).length > 0) throw err.marginTypeWithOrders();
    settings.marginType = type;
    return { code: 200, msg: 'success' };
  }

  // --- orders ---

  placeOrder(account: SimAccount, params: Params): Order {
    const spec = this.spec(v.required(params, 'symbol'));
    const side = v.side(params);
    const type = v.required(params, 'type');
    if (CONDITIONAL.includes(type)) throw err.useAlgoEndpoint();
    if (type !== 'MARKET' && type !== 'LIMIT') throw err.invalidOrderType();
    this.#checkPositionSide(params);
    if (v.bool(params, 'closePosition')) throw err.notRequired('closePosition');
    const qty = v.quantity(spec, v.required(params, 'quantity'), type === 'MARKET');
    const reduceOnly = v.bool(params, 'reduceOnly');
    let limitPrice = 0;
    let tif = 'GTC';
    if (type === 'LIMIT') {
      limitPrice = v.price(spec, v.required(params, 'price'));
      tif = v.required(params, 'timeInForce');
      if (!['GTC', 'IOC', 'FOK', 'GTX', 'GTD'].includes(tif)) throw err.invalidTif();
    } else if (params.price !== undefined) {
      throw err.notRequired('price');
    }
    const clientOrderId = v.clientId(params.newClientOrderId, 'newClientOrderId', () => generatedId());
    if (this.openOrders(account).some((o) => o.clientOrderId === clientOrderId)) throw err.duplicateClientId();
    const mark = this.mark(spec.symbol);
    const places = decimalsOf(spec.tickSize);
    // PERCENT_PRICE: a limit price within [mark × multiplierDown, mark × multiplierUp].
    if (type === 'LIMIT' && limitPrice > mark * spec.multiplierUp) throw err.priceAboveBand(String(v.roundTo(mark * spec.multiplierUp, places)));
    if (type === 'LIMIT' && limitPrice < mark * spec.multiplierDown) throw err.priceBelowBand(String(v.roundTo(mark * spec.multiplierDown, places)));
    const book = this.depth(spec.symbol);
    const opposite = side === 'BUY' ? book.asks : book.bids;
    const best = opposite[0]?.price ?? mark;
    const refPrice = type === 'LIMIT' ? limitPrice : best;
    if (!reduceOnly && qty * refPrice < spec.minNotional) throw err.minNotional(String(spec.minNotional));
    if (reduceOnly) this.#checkReduceOnly(account, spec.symbol, side);
    else this.#checkMargin(account, spec.symbol, side, qty, refPrice);

    const marketable = type === 'MARKET' || (side === 'BUY' ? limitPrice >= best : limitPrice <= best);
    if (type === 'LIMIT' && tif === 'GTX' && marketable) throw err.gtxRejected();
    // What the order would take from the book now (a market order: at most marketTakeBound from the mark).
    const taken = marketable ? walk(opposite, qty, spec.stepSize, type === 'LIMIT' ? { side, price: limitPrice } : undefined) : { fills: [], remaining: qty };
    const worst = taken.fills.at(-1)?.price;
    if (type === 'MARKET' && worst !== undefined && Math.abs(worst - mark) > mark * spec.marketTakeBound) throw err.marketTakeBound();
    if (tif === 'FOK' && taken.remaining > EPS) throw err.fokRejected();

    const order = this.#newOrder(account, {
      clientOrderId,
      symbol: spec.symbol,
      side,
      type,
      origType: type,
      origQty: qty,
      price: limitPrice,
      timeInForce: type === 'MARKET' ? 'GTC' : tif,
      reduceOnly,
      closePosition: false,
      stopPrice: 0,
      workingType: 'CONTRACT_PRICE',
    });
    // Taker: the fills walk the book level by level (slippage grows with size).
    this.#take(account, order, taken.fills);
    const open = order.status === 'NEW' || order.status === 'PARTIALLY_FILLED';
    // What is left rests on the book (GTC) or expires (IOC, a market order the book could not fill).
    if (open && (type === 'MARKET' || tif === 'IOC' || tif === 'FOK')) this.#finish(account, order, 'EXPIRED');
    return order;
  }

  /** Fills `order` from book levels (taker), each level one trade, within what it may still fill. */
  #take(account: SimAccount, order: Order, levels: readonly Level[]): void {
    for (const level of levels) {
      if (order.status !== 'NEW' && order.status !== 'PARTIALLY_FILLED') return;
      const qty = Math.min(level.qty, this.#reducibleQty(account, order));
      if (qty <= EPS) {
        this.#finish(account, order, 'EXPIRED');
        return;
      }
      this.#fill(account, order, qty, level.price, false);
    }
  }

  cancelOrder(account: SimAccount, params: Params): Order {
    const order = this.#findOrder(account, params, err.cancelRejected);
    if (order.status !== 'NEW' && order.status !== 'PARTIALLY_FILLED') throw err.cancelRejected();
    this.#finish(account, order, 'CANCELED');
    return order;
  }

  getOrder(account: SimAccount, params: Params): Order {
    return this.#findOrder(account, params, err.noSuchOrder);
  }

  openOrders(account: SimAccount, symbol?: string): Order[] {
    if (symbol !== undefined) this.spec(symbol);
    return [...account.orders.values()].filter((o) => (o.status === 'NEW' || o.status === 'PARTIALLY_FILLED') && (symbol === undefined || o.symbol === symbol));
  }

  cancelAllAlgos(account: SimAccount, symbol: string): void {
    for (const algo of this.openAlgos(account, symbol)) this.#setAlgo(account, algo, 'CANCELED');
  }

  cancelAll(account: SimAccount, symbol: string): void {
    for (const order of this.openOrders(account, symbol)) this.#finish(account, order, 'CANCELED');
    for (const algo of this.openAlgos(account, symbol)) this.#setAlgo(account, algo, 'CANCELED');
  }

  // --- conditional (algo) orders ---

  placeAlgo(account: SimAccount, params: Params): AlgoOrder {
    if (v.required(params, 'algoType') !== 'CONDITIONAL') throw err.illegalParam('algoType');
    const spec = this.spec(v.required(params, 'symbol'));
    const side = v.side(params);
    const type = v.required(params, 'type');
    if (type === 'TRAILING_STOP_MARKET' || type === 'MARKET' || type === 'LIMIT') throw err.invalidOrderType();
    if (!['STOP_MARKET', 'TAKE_PROFIT_MARKET', 'STOP', 'TAKE_PROFIT'].includes(type)) throw err.invalidOrderType();
    this.#checkPositionSide(params);
    const closePosition = v.bool(params, 'closePosition');
    const reduceOnly = v.bool(params, 'reduceOnly');
    if (closePosition && params.quantity !== undefined) throw err.notRequired('quantity');
    if (closePosition && reduceOnly) throw err.notRequired('reduceOnly');
    const quantity = closePosition ? 0 : v.quantity(spec, v.required(params, 'quantity'), type.endsWith('_MARKET'));
    const triggerPrice = v.price(spec, v.required(params, 'triggerPrice'), 'triggerPrice');
    const limitPrice = type === 'STOP' || type === 'TAKE_PROFIT' ? v.price(spec, v.required(params, 'price')) : 0;
    const workingType = params.workingType ?? 'CONTRACT_PRICE';
    if (workingType !== 'CONTRACT_PRICE' && workingType !== 'MARK_PRICE') throw err.illegalParam('workingType');
    const clientAlgoId = v.clientId(params.clientAlgoId, 'clientAlgoId', () => generatedId());
    const open = this.openAlgos(account);
    if (open.some((a) => a.clientAlgoId === clientAlgoId)) throw err.duplicateClientId();
    if (open.filter((a) => a.symbol === spec.symbol).length >= MAX_ALGO_PER_SYMBOL) throw err.maxStopOrders();
    if (!closePosition && !reduceOnly && quantity * triggerPrice < spec.minNotional) throw err.minNotional(String(spec.minNotional));
    if (triggered(type, side, triggerPrice, this.#watched(spec.symbol, workingType))) throw err.wouldTrigger();

    const now = this.#now();
    const algo: AlgoOrder = {
      algoId: this.#nextAlgoId++,
      clientAlgoId,
      symbol: spec.symbol,
      side,
      orderType: type as AlgoOrder['orderType'],
      quantity,
      price: limitPrice,
      triggerPrice,
      timeInForce: params.timeInForce ?? 'GTC',
      workingType,
      closePosition,
      reduceOnly,
      priceProtect: v.bool(params, 'priceProtect'),
      algoStatus: 'NEW',
      createTime: now,
      updateTime: now,
      triggerTime: 0,
      actualOrderId: undefined,
      actualPrice: 0,
      actualQty: 0,
      rejectReason: '',
    };
    account.algoOrders.set(algo.algoId, algo);
    this.#emit({ kind: 'algo', account, algo });
    return algo;
  }

  cancelAlgo(account: SimAccount, params: Params): AlgoOrder {
    const algo = this.#findAlgo(account, params, err.cancelRejected);
    if (algo.algoStatus !== 'NEW') throw err.cancelRejected();
    this.#setAlgo(account, algo, 'CANCELED');
    return algo;
  }

  getAlgo(account: SimAccount, params: Params): AlgoOrder {
    return this.#findAlgo(account, params, err.noSuchOrder);
  }

  openAlgos(account: SimAccount, symbol?: string): AlgoOrder[] {
    if (symbol !== undefined) this.spec(symbol);
    return [...account.algoOrders.values()].filter((a) => a.algoStatus === 'NEW' && (symbol === undefined || a.symbol === symbol));
  }

  // --- the market moves ---

  /**
   * The market moved: resting limit orders fill (as makers, at their price) once the last price
   * trades at or through them, conditional orders trigger on the price their working type
   * watches, and positions past their maintenance margin are liquidated at the mark.
   */
  tick(): void {
    this.#settleFunding();
    for (const account of this.#accounts.values()) {
      for (const order of this.openOrders(account)) {
        if (order.type !== 'LIMIT') continue;
        const last = this.last(order.symbol);
        if (order.side === 'BUY' ? last <= order.price : last >= order.price) {
          const qty = this.#partial(order, this.#reducibleQty(account, order));
          if (qty > EPS) this.#fill(account, order, qty, order.price, true);
          else this.#finish(account, order, 'EXPIRED');
        }
      }
      for (const algo of this.openAlgos(account)) {
        if (triggered(algo.orderType, algo.side, algo.triggerPrice, this.#watched(algo.symbol, algo.workingType))) this.#trigger(account, algo);
      }
      this.#liquidate(account);
    }
  }

  // --- internals ---

  #partial(order: Order, qty: number): number {
    const p = this.partialFills;
    if (!p || p.remaining <= 0 || qty <= EPS) return qty;
    const step = this.spec(order.symbol).stepSize;
    const part = v.roundTo(Math.floor((qty * p.ratio) / step) * step, decimalsOf(step));
    if (part <= EPS) return qty;
    p.remaining -= 1;
    return part;
  }

  #checkPositionSide(params: Params): void {
    if (params.positionSide !== undefined && params.positionSide !== 'BOTH') throw err.positionSideMismatch();
  }

  #checkReduceOnly(account: SimAccount, symbol: string, side: Side): void {
    const amt = account.positions.get(symbol)?.amt ?? 0;
    if (amt === 0 || (side === 'BUY' ? amt > 0 : amt < 0)) throw err.reduceOnlyRejected();
  }

  #checkMargin(account: SimAccount, symbol: string, side: Side, qty: number, atPrice: number): void {
    const amt = account.positions.get(symbol)?.amt ?? 0;
    const opposite = side === 'BUY' ? amt < 0 : amt > 0;
    const increase = opposite ? Math.max(0, qty - Math.abs(amt)) : qty;
    if (increase <= EPS) return;
    const leverage = settingsOf(account, symbol).leverage;
    // The position it would make may not exceed what its bracket allows at this leverage.
    const after = Math.abs(amt + (side === 'BUY' ? qty : -qty)) * atPrice;
    if (after > maxNotionalAt(this.spec(symbol).brackets, leverage)) throw err.maxLeverageRatio();
    const notional = increase * atPrice;
    const required = notional / leverage + notional * this.fees.taker;
    if (required > this.view(account).available + 1e-9) throw err.marginInsufficient();
  }

  /** How much of an order may fill now: all of it, or for reduce-only up to the position. */
  #reducibleQty(account: SimAccount, order: Order): number {
    const remaining = order.origQty - order.executedQty;
    if (!order.reduceOnly) return remaining;
    const amt = account.positions.get(order.symbol)?.amt ?? 0;
    const reduces = order.side === 'BUY' ? amt < 0 : amt > 0;
    return reduces ? Math.min(remaining, Math.abs(amt)) : 0;
  }

  #newOrder(account: SimAccount, fields: Omit<Order, 'orderId' | 'status' | 'executedQty' | 'cumQuote' | 'time' | 'updateTime'>): Order {
    const now = this.#now();
    const order: Order = { ...fields, orderId: this.#nextOrderId++, status: 'NEW', executedQty: 0, cumQuote: 0, time: now, updateTime: now };
    account.orders.set(order.orderId, order);
    account.ordersPlaced += 1;
    this.#emit({ kind: 'order', account, order, execution: 'NEW' });
    return order;
  }

  #finish(account: SimAccount, order: Order, status: 'CANCELED' | 'EXPIRED'): void {
    order.status = status;
    order.updateTime = this.#now();
    this.#emit({ kind: 'order', account, order, execution: status });
    this.#settleAlgoFor(account, order);
  }

  #fill(account: SimAccount, order: Order, qty: number, price: number, maker: boolean, lossCap?: number): void {
    if (qty <= EPS) {
      this.#finish(account, order, 'EXPIRED');
      return;
    }
    const spec = this.spec(order.symbol);
    const settings = settingsOf(account, order.symbol);
    const isolated = settings.marginType === 'ISOLATED';
    const now = this.#now();
    const position = this.#position(account, order.symbol);
    const signed = order.side === 'BUY' ? qty : -qty;
    // Money moves in the 8 decimals Binance prints: the wallet changes by exactly the printed
    // realized PnL minus the printed commission, so records can agree with it to the last digit.
    const fee = v.roundTo(qty * price * (maker ? this.fees.maker : this.fees.taker), MONEY_DECIMALS);
    let realized = 0;
    if (position.amt === 0 || Math.sign(position.amt) === Math.sign(signed)) {
      const amt = position.amt + signed;
      position.entryPrice = (Math.abs(position.amt) * position.entryPrice + qty * price) / Math.abs(amt);
      if (isolated) position.isolatedWallet += (qty * price) / settings.leverage;
      position.amt = amt;
    } else {
      const closing = Math.min(qty, Math.abs(position.amt));
      realized = (price - position.entryPrice) * closing * Math.sign(position.amt);
      if (lossCap !== undefined) realized = Math.max(realized, -lossCap);
      realized = v.roundTo(realized, MONEY_DECIMALS);
      if (isolated) position.isolatedWallet -= (position.isolatedWallet * closing) / Math.abs(position.amt);
      position.amt -= Math.sign(position.amt) * closing;
      const rest = qty - closing;
      if (Math.abs(position.amt) < EPS) {
        position.amt = 0;
        position.entryPrice = 0;
        position.isolatedWallet = 0;
      }
      if (rest > EPS) {
        position.amt = Math.sign(signed) * rest;
        position.entryPrice = price;
        position.isolatedWallet = isolated ? (rest * price) / settings.leverage : 0;
      }
    }
    position.amt = v.roundTo(position.amt, decimalsOf(spec.stepSize));
    position.accumulatedRealized += realized;
    position.updateTime = now;
    account.wallet = v.roundTo(Math.max(0, account.wallet + realized - fee), MONEY_DECIMALS);
    account.updateTime = now;

    order.executedQty = v.roundTo(order.executedQty + qty, decimalsOf(spec.stepSize));
    order.cumQuote += qty * price;
    order.status = order.executedQty >= order.origQty - EPS ? 'FILLED' : 'PARTIALLY_FILLED';
    order.updateTime = now;
    const trade: Trade = {
      id: this.#nextTradeId++,
      orderId: order.orderId,
      symbol: order.symbol,
      side: order.side,
      price,
      qty,
      quoteQty: qty * price,
      commission: fee,
      realizedPnl: realized,
      maker,
      time: now,
    };
    account.trades.push(trade);
    this.#emit({ kind: 'order', account, order, execution: 'TRADE', trade });
    this.#emit({ kind: 'account', account, reason: 'ORDER', symbols: [order.symbol] });
    if (order.status === 'FILLED') this.#settleAlgoFor(account, order);
    // A reduce-only order never opens a position: what is left once the position is gone expires.
    else if (order.reduceOnly && this.#reducibleQty(account, order) <= EPS) this.#finish(account, order, 'EXPIRED');
  }

  #trigger(account: SimAccount, algo: AlgoOrder): void {
    algo.triggerTime = this.#now();
    this.#setAlgo(account, algo, 'TRIGGERING');
    const amt = account.positions.get(algo.symbol)?.amt ?? 0;
    const reduces = algo.side === 'BUY' ? amt < 0 : amt > 0;
    let qty = algo.quantity;
    if (algo.closePosition || algo.reduceOnly) {
      if (!reduces) {
        algo.rejectReason = algo.closePosition ? 'No position to close' : 'Reduce Only reject';
        this.#setAlgo(account, algo, algo.closePosition ? 'EXPIRED' : 'REJECTED');
        return;
      }
      qty = algo.closePosition ? Math.abs(amt) : Math.min(qty, Math.abs(amt));
    } else {
      const mark = this.mark(algo.symbol);
      try {
        this.#checkMargin(account, algo.symbol, algo.side, qty, mark);
      } catch (e) {
        algo.rejectReason = (e as Error).message;
        this.#setAlgo(account, algo, 'REJECTED');
        return;
      }
    }
    const market = algo.orderType.endsWith('_MARKET');
    const order = this.#newOrder(account, {
      clientOrderId: algo.clientAlgoId,
      symbol: algo.symbol,
      side: algo.side,
      type: market ? 'MARKET' : 'LIMIT',
      origType: algo.orderType,
      origQty: qty,
      price: algo.price,
      timeInForce: algo.timeInForce,
      reduceOnly: algo.closePosition || algo.reduceOnly,
      closePosition: algo.closePosition,
      stopPrice: algo.triggerPrice,
      workingType: algo.workingType,
    });
    algo.actualOrderId = order.orderId;
    this.#setAlgo(account, algo, 'TRIGGERED');
    // The order it places takes from the book like any other: a stop fills worse than its trigger.
    const book = this.depth(algo.symbol);
    const levels = algo.side === 'BUY' ? book.asks : book.bids;
    const taken = walk(levels, qty, this.spec(algo.symbol).stepSize, market ? undefined : { side: algo.side, price: algo.price });
    this.#take(account, order, taken.fills);
    if (market && (order.status === 'NEW' || order.status === 'PARTIALLY_FILLED')) this.#finish(account, order, 'EXPIRED');
  }

  /** A conditional order is finished when the order it placed is done. */
  #settleAlgoFor(account: SimAccount, order: Order): void {
    for (const algo of account.algoOrders.values()) {
      if (algo.actualOrderId !== order.orderId || algo.algoStatus !== 'TRIGGERED') continue;
      algo.actualQty = order.executedQty;
      algo.actualPrice = order.executedQty > 0 ? order.cumQuote / order.executedQty : 0;
      this.#setAlgo(account, algo, order.executedQty > 0 ? 'FINISHED' : 'CANCELED');
    }
  }

  #setAlgo(account: SimAccount, algo: AlgoOrder, status: AlgoOrder['algoStatus']): void {
    algo.algoStatus = status;
    algo.updateTime = this.#now();
    this.#emit({ kind: 'algo', account, algo });
  }

  #liquidate(account: SimAccount): void {
    const view = this.view(account);
    if (view.positions.length === 0) return;
    const cross = view.positions.filter((p) => !p.isolated);
    const crossMaint = cross.reduce((sum, p) => sum + p.maintMargin, 0);
    const victims = cross.length > 0 && view.crossWallet + view.crossUnrealized < crossMaint ? [...cross] : [];
    for (const p of view.positions) {
      if (p.isolated && p.position.isolatedWallet + p.unrealized < p.maintMargin) victims.push(p);
    }
    for (const p of victims) {
      const order = this.#newOrder(account, {
        clientOrderId: `autoclose-${this.#now()}${p.position.symbol.length}`,
        symbol: p.position.symbol,
        side: p.position.amt > 0 ? 'SELL' : 'BUY',
        type: 'MARKET',
        origType: 'LIQUIDATION',
        origQty: Math.abs(p.position.amt),
        price: 0,
        timeInForce: 'IOC',
        reduceOnly: true,
        closePosition: false,
        stopPrice: 0,
        workingType: 'CONTRACT_PRICE',
      });
      this.#fill(account, order, Math.abs(p.position.amt), p.mark, false, p.isolated ? p.position.isolatedWallet : undefined);
    }
  }

  #position(account: SimAccount, symbol: string): Position {
    let p = account.positions.get(symbol);
    if (!p) {
      p = { symbol, amt: 0, entryPrice: 0, isolatedWallet: 0, accumulatedRealized: 0, updateTime: this.#now() };
      account.positions.set(symbol, p);
    }
    return p;
  }

  #findOrder(account: SimAccount, params: Params, missing: () => Error): Order {
    this.spec(v.required(params, 'symbol'));
    const id = params.orderId;
    const client = params.origClientOrderId;
    if (id === undefined && client === undefined) throw err.mandatory('orderId');
    const found = id !== undefined ? account.orders.get(Number(id)) : [...account.orders.values()].reverse().find((o) => o.clientOrderId === client);
    if (!found || found.symbol !== params.symbol) throw missing();
    return found;
  }

  #findAlgo(account: SimAccount, params: Params, missing: () => Error): AlgoOrder {
    const id = params.algoId;
    const client = params.clientAlgoId;
    if (id === undefined && client === undefined) throw err.mandatory('algoId');
    const found = id !== undefined ? account.algoOrders.get(Number(id)) : [...account.algoOrders.values()].reverse().find((a) => a.clientAlgoId === client);
    if (!found || (params.symbol !== undefined && found.symbol !== params.symbol)) throw missing();
    return found;
  }

  #emit(event: EngineEvent): void {
    this.emit('event', event);
  }
}

/** Whether a conditional order's trigger condition holds at `price`. */
export function triggered(type: string, side: Side, trigger: number, price: number): boolean {
  const stop = type === 'STOP_MARKET' || type === 'STOP';
  // A stop buys on the way up and sells on the way down; a take-profit the other way round.
  return stop === (side === 'BUY') ? price >= trigger : price <= trigger;
}

const generatedId = () => randomBytes(16).toString('base64url').slice(0, 22);
