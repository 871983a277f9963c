import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'ws';
import { err } from '../binance-error.js';
import type { ExchangeEngine } from '../engine/exchange-engine.js';
import type { AlgoOrder, EngineEvent, Order, SimAccount, Trade } from '../engine/types.js';
import { fmt } from '../engine/views.js';

const VALIDITY_MS = 60 * 60_000;

interface ListenKey {
  readonly key: string;
  readonly accountId: string;
  expiresAt: number;
  readonly sockets: Set<WebSocket>;
}

/**
 * Listen keys (one active per account, valid 60 minutes, extended by PUT) and the user data
 * stream events pushed to the sockets connected with them.
 */
export class UserStreams {
  readonly #byKey = new Map<string, ListenKey>();
  readonly #byAccount = new Map<string, ListenKey>();
  readonly #engine: ExchangeEngine;
  readonly #now: () => number;

  constructor(engine: ExchangeEngine, now: () => number = Date.now) {
    this.#engine = engine;
    this.#now = now;
    engine.on('event', (event) => this.#push(event));
  }

  create(account: SimAccount): string {
    const existing = this.#byAccount.get(account.id);
    if (existing && existing.expiresAt > this.#now()) {
      existing.expiresAt = this.#now() + VALIDITY_MS;
      return existing.key;
    }
    const lk: ListenKey = {
      key: randomBytes(32).toString('base64url').slice(0, 64),
      accountId: account.id,
      expiresAt: this.#now() + VALIDITY_MS,
      sockets: new Set(),
    };
    this.#byKey.set(lk.key, lk);
    this.#byAccount.set(account.id, lk);
    return lk.key;
  }

  keepAlive(account: SimAccount): string {
    const lk = this.#byAccount.get(account.id);
    if (!lk || lk.expiresAt <= this.#now()) throw err.invalidListenKey();
    lk.expiresAt = this.#now() + VALIDITY_MS;
    return lk.key;
  }

  close(account: SimAccount): void {
    const lk = this.#byAccount.get(account.id);
    if (!lk) return;
    this.#byAccount.delete(account.id);
    this.#byKey.delete(lk.key);
    for (const socket of lk.sockets) socket.close(1000, 'listenKey closed');
  }

  /** Attaches a socket; false when the key is unknown or expired. */
  attach(key: string, socket: WebSocket): boolean {
    const lk = this.#byKey.get(key);
    if (!lk || lk.expiresAt <= this.#now()) return false;
    lk.sockets.add(socket);
    socket.on('close', () => lk.sockets.delete(socket));
    return true;
  }

  /** Expires keys past their validity: `listenKeyExpired`, then the sockets close. */
  expire(): void {
    const now = this.#now();
    for (const lk of this.#byKey.values()) {
      if (lk.expiresAt > now) continue;
      this.#send(lk, { e: 'listenKeyExpired', E: String(now), listenKey: lk.key });
      for (const socket of lk.sockets) socket.close(1000, 'listenKey expired');
      this.#byKey.delete(lk.key);
      if (this.#byAccount.get(lk.accountId) === lk) this.#byAccount.delete(lk.accountId);
    }
  }

  /** Test hook: make an account's key expire now. */
  expireNow(accountId: string): void {
    const lk = this.#byAccount.get(accountId);
    if (lk) lk.expiresAt = this.#now();
    this.expire();
  }

  #push(event: EngineEvent): void {
    const lk = this.#byAccount.get(event.account.id);
    if (!lk || lk.sockets.size === 0) return;
    const now = this.#now();
    if (event.kind === 'order') {
      this.#send(lk, { e: 'ORDER_TRADE_UPDATE', E: now, T: now, o: this.#orderUpdate(event.order, event.execution, event.trade) });
    } else if (event.kind === 'algo') {
      this.#send(lk, { e: 'ALGO_UPDATE', E: now, T: now, o: this.#algoUpdate(event.algo) });
    } else {
      this.#send(lk, { e: 'ACCOUNT_UPDATE', E: now, T: now, a: this.#accountUpdate(event.account, event.reason, event.symbols) });
    }
  }

  #orderUpdate(o: Order, execution: string, trade: Trade | undefined) {
    return {
      s: o.symbol,
      c: o.clientOrderId,
      S: o.side,
      o: o.type,
      f: o.timeInForce,
      q: String(o.origQty),
      p: String(o.price),
      ap: fmt(o.executedQty > 0 ? o.cumQuote / o.executedQty : 0, 5),
      sp: String(o.stopPrice),
      x: execution,
      X: o.status,
      i: o.orderId,
      l: String(trade?.qty ?? 0),
      z: String(o.executedQty),
      L: String(trade?.price ?? 0),
      N: 'USDT',
      n: fmt(trade?.commission ?? 0, 8),
      T: trade?.time ?? o.updateTime,
      t: trade?.id ?? 0,
      b: '0',
      a: '0',
      m: trade?.maker ?? false,
      R: o.reduceOnly,
      wt: o.workingType,
      ot: o.origType,
      ps: 'BOTH',
      cp: o.closePosition,
      rp: fmt(trade?.realizedPnl ?? 0, 8),
      pP: false,
      si: 0,
      ss: 0,
      V: 'EXPIRE_MAKER',
      pm: 'NONE',
      gtd: 0,
      er: '0',
    };
  }

  #algoUpdate(a: AlgoOrder) {
    return {
      caid: a.clientAlgoId,
      aid: a.algoId,
      at: 'CONDITIONAL',
      o: a.orderType,
      s: a.symbol,
      S: a.side,
      ps: 'BOTH',
      f: a.timeInForce,
      q: String(a.quantity),
      X: a.algoStatus,
      ai: a.actualOrderId === undefined ? '' : String(a.actualOrderId),
      ap: fmt(a.actualPrice, 5),
      aq: String(a.actualQty),
      act: a.orderType.endsWith('_MARKET') ? 'MARKET' : 'LIMIT',
      tp: String(a.triggerPrice),
      p: String(a.price),
      V: 'EXPIRE_MAKER',
      wt: a.workingType,
      pm: 'NONE',
      cp: a.closePosition,
      pP: a.priceProtect,
      R: a.reduceOnly,
      tt: a.triggerTime,
      gtd: 0,
      rm: a.rejectReason,
    };
  }

  #accountUpdate(account: SimAccount, reason: string, symbols: string[]) {
    const view = this.#engine.view(account);
    return {
      m: reason,
      B: [{ a: 'USDT', wb: fmt(view.wallet, 8), cw: fmt(view.crossWallet, 8), bc: '0' }],
      P: symbols.map((symbol) => {
        const p = account.positions.get(symbol);
        const pv = view.positions.find((x) => x.position.symbol === symbol);
        return {
          s: symbol,
          pa: String(p?.amt ?? 0),
          ep: String(p?.entryPrice ?? 0),
          bep: String(p?.entryPrice ?? 0),
          cr: fmt(p?.accumulatedRealized ?? 0, 8),
          up: fmt(pv?.unrealized ?? 0, 8),
          mt: pv?.isolated ? 'isolated' : 'cross',
          iw: fmt(pv?.isolated ? (p?.isolatedWallet ?? 0) : 0, 8),
          ps: 'BOTH',
        };
      }),
    };
  }

  #send(lk: ListenKey, payload: unknown): void {
    const text = JSON.stringify(payload);
    for (const socket of lk.sockets) if (socket.readyState === socket.OPEN) socket.send(text);
  }
}
