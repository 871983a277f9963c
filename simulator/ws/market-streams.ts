import type { WebSocket } from 'ws';
import type { ExchangeEngine } from '../engine/exchange-engine.js';
import { fmt } from '../engine/views.js';
import { intervalMs } from '../market/market-book.js';
import { premiumIndexJson, pricePlaces, ticker24hJson } from '../market/market-views.js';

interface Connection {
  readonly socket: WebSocket;
  readonly streams: Set<string>;
  /** Combined-stream connections wrap each payload as `{ stream, data }`. */
  readonly combined: boolean;
}

const STREAM = /^(!markPrice@arr(@1s)?|!miniTicker@arr|!ticker@arr|[a-z0-9]+@(markPrice(@1s)?|miniTicker|ticker|kline_[0-9]+[mhdwM]))$/;

/**
 * Binance market streams: SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS on `/ws`, `/market/ws/<n>`
 * and combined `/stream?streams=`; pushes mark prices, mini tickers and klines once a second
 * (3 s for the plain `@markPrice`).
 */
export class MarketStreams {
  readonly #connections = new Set<Connection>();
  readonly #engine: ExchangeEngine;
  readonly #serverTime: () => number;
  #ticks = 0;

  constructor(engine: ExchangeEngine, serverTime: () => number) {
    this.#engine = engine;
    this.#serverTime = serverTime;
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  attach(socket: WebSocket, initial: string[], combined: boolean): void {
    const conn: Connection = { socket, streams: new Set(initial.filter((s) => STREAM.test(s))), combined };
    this.#connections.add(conn);
    socket.on('close', () => this.#connections.delete(conn));
    socket.on('message', (data) => this.#onMessage(conn, data.toString()));
  }

  #onMessage(conn: Connection, text: string): void {
    let msg: { method?: unknown; params?: unknown; id?: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      conn.socket.send(JSON.stringify({ error: { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' } }));
      return;
    }
    const id = msg.id ?? null;
    const params = Array.isArray(msg.params) ? (msg.params as unknown[]).map(String) : [];
    if (msg.method === 'SUBSCRIBE' || msg.method === 'UNSUBSCRIBE') {
      const bad = params.find((p) => !STREAM.test(p));
      if (bad !== undefined) {
        conn.socket.send(JSON.stringify({ error: { code: 2, msg: `Invalid request: unknown stream ${bad}` }, id }));
        return;
      }
      for (const p of params) {
        if (msg.method === 'SUBSCRIBE') conn.streams.add(p);
        else conn.streams.delete(p);
      }
      conn.socket.send(JSON.stringify({ result: null, id }));
    } else if (msg.method === 'LIST_SUBSCRIPTIONS') {
      conn.socket.send(JSON.stringify({ result: [...conn.streams], id }));
    } else {
      conn.socket.send(JSON.stringify({ error: { code: 2, msg: 'Invalid request: unknown method' }, id }));
    }
  }

  /** Called once a second. */
  publish(): void {
    this.#ticks += 1;
    if (this.#connections.size === 0) return;
    const now = this.#serverTime();
    const cache = new Map<string, unknown>();
    const payload = (stream: string) => {
      if (!cache.has(stream)) cache.set(stream, this.#payload(stream, now));
      return cache.get(stream);
    };
    for (const conn of this.#connections) {
      if (conn.socket.readyState !== conn.socket.OPEN) continue;
      for (const stream of conn.streams) {
        const slow = stream.endsWith('@markPrice') || stream === '!markPrice@arr';
        if (slow && this.#ticks % 3 !== 0) continue;
        const data = payload(stream);
        if (data === undefined) continue;
        conn.socket.send(JSON.stringify(conn.combined ? { stream, data } : data));
      }
    }
  }

  closeAll(): void {
    for (const conn of this.#connections) conn.socket.terminate();
    this.#connections.clear();
  }

  #payload(stream: string, now: number): unknown {
    const symbols = [...this.#engine.symbols.keys()];
    if (stream.startsWith('!markPrice@arr')) return symbols.map((s) => this.#markPrice(s, now));
    if (stream === '!miniTicker@arr') return symbols.map((s) => this.#miniTicker(s, now));
    if (stream === '!ticker@arr') return symbols.map((s) => ({ e: '24hrTicker', E: now, ...ticker24hJson(this.#engine, s, now) }));
    const [lower, kind] = stream.split('@') as [string, string];
    const symbol = lower.toUpperCase();
    if (!this.#engine.symbols.has(symbol)) return undefined;
    if (kind === 'markPrice') return this.#markPrice(symbol, now);
    if (kind === 'miniTicker') return this.#miniTicker(symbol, now);
    if (kind === 'ticker') return { e: '24hrTicker', E: now, ...ticker24hJson(this.#engine, symbol, now) };
    if (kind.startsWith('kline_')) return this.#kline(symbol, kind.slice(6), now);
    return undefined;
  }

  #markPrice(symbol: string, now: number) {
    const p = premiumIndexJson(this.#engine, symbol, now);
    return { e: 'markPriceUpdate', E: now, s: symbol, p: p.markPrice, i: p.indexPrice, P: p.estimatedSettlePrice, r: p.lastFundingRate, T: p.nextFundingTime };
  }

  #miniTicker(symbol: string, now: number) {
    const t = ticker24hJson(this.#engine, symbol, now);
    return { e: '24hrMiniTicker', E: now, s: symbol, c: t.lastPrice, o: t.openPrice, h: t.highPrice, l: t.lowPrice, v: t.volume, q: t.quoteVolume };
  }

  #kline(symbol: string, interval: string, now: number) {
    if (!intervalMs(interval)) return undefined;
    const [k] = this.#engine.book.klines(symbol, interval, { limit: 1 });
    if (!k) return undefined;
    const simNow = this.#engine.book.clock.now();
    const px = (value: number) => fmt(value, pricePlaces(this.#engine, symbol));
    return {
      e: 'kline',
      E: now,
      s: symbol,
      k: {
        t: k.openTime,
        T: k.closeTime,
        s: symbol,
        i: interval,
        f: 1,
        L: Math.max(1, Math.round(k.volume)),
        o: px(k.open),
        c: px(k.close),
        h: px(k.high),
        l: px(k.low),
        v: fmt(k.volume, 3),
        n: Math.max(1, Math.round(k.volume)),
        x: simNow >= k.closeTime,
        q: fmt(k.volume * k.close, 5),
        V: fmt(k.volume / 2, 3),
        Q: fmt((k.volume * k.close) / 2, 5),
        B: '0',
      },
    };
  }
}
