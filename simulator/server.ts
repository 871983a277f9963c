import type { BookShape } from './market/order-book.js';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { BinanceError, err } from './binance-error.js';
import { ExchangeEngine, type Fees } from './engine/exchange-engine.js';
import type { SimAccount } from './engine/types.js';
import { accountV3, positionRiskV3 } from './engine/views.js';
import { generateBars, HOUR, readReplayDir, type Bar } from './market/bars.js';
import { MarketBook } from './market/market-book.js';
import { SimClock } from './market/sim-clock.js';
import { loadSymbols } from './market/symbols.js';
import { authenticate } from './http/auth.js';
import { Faults } from './http/faults.js';
import { MAINNET_LIMITS, RateLimiter, type RateLimits } from './http/rate-limiter.js';
import { parseRequest } from './http/request.js';
import { routeFor } from './http/routes.js';
import { MarketStreams } from './ws/market-streams.js';
import { UserStreams } from './ws/user-streams.js';
import { AdminError, handleAdmin } from './admin.js';

import { DEFAULT_SYMBOLS } from './defaults.js';

export { DEFAULT_SIM_PORT, DEFAULT_SYMBOLS } from './defaults.js';

export interface SimulatorOptions {
  readonly symbols?: readonly string[];
  /** Folder of `<SYMBOL>-1h.csv[.gz]` kline files to replay; `null` for the seeded generator. Default: `defaultDataDir()`. */
  readonly dataDir?: string | null;
  /** A mainnet exchangeInfo response to take symbol filters from. Default: the one in `defaultDataDir()`. */
  readonly exchangeInfoFile?: string | null;
  /** Market time per wall-clock time (3600: an hourly bar a second; 0: frozen). */
  readonly speed?: number;
  readonly seed?: number;
  /** Bars of history before "now" (replay: index of the first live bar). */
  readonly historyBars?: number;
  readonly limits?: Partial<RateLimits>;
  readonly fees?: Fees;
  /** The order book's shape around the replayed price (spread, depth). */
  readonly bookShape?: BookShape;
  /** The largest gap between mark and last price, as a fraction (default 0.0002). */
  readonly markPremium?: number;
  /** How often resting and conditional orders are checked against the market. */
  readonly tickMs?: number;
  /** Server pings on WebSockets (Binance: every 3 minutes). */
  readonly pingIntervalMs?: number;
  readonly logger?: Logger;
}

/**
 * Real Binance market data to replay: the full year in `../shared/data` beside the project when
 * it is there, else the compact sample the repository carries (`simulator/data`).
 */
export function defaultDataDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  // The project root is one level up from the sources (simulator/) or two from dist/simulator/.
  const roots = ['..', '../..'].map((up) => resolve(here, up));
  const candidates = [...roots.map((root) => resolve(root, '..', 'shared', 'data')), ...roots.map((root) => resolve(root, 'simulator', 'data'))];
  return candidates.find((dir) => existsSync(join(dir, 'futures-klines-1h')));
}

/**
 * A local Binance USDⓈ-M Futures: REST and WebSocket on one port, plus an admin API under
 * `/_sim`. Build with `new Simulator(opts)`, then `listen()`.
 */
export class Simulator {
  readonly engine: ExchangeEngine;
  readonly limiter: RateLimiter;
  readonly faults = new Faults();
  readonly userStreams: UserStreams;
  readonly marketStreams: MarketStreams;
  readonly source: 'replay' | 'generated';
  /** The folder of the replayed klines, when replaying. */
  readonly dataDir: string | undefined;
  readonly #server: Server;
  /** The admin API's own server, when `listen` was given an admin port. */
  #adminServer: Server | undefined;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<WebSocket>();
  readonly #requests = new Map<string, number>();
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #opts: SimulatorOptions;
  #started = false;

  constructor(opts: SimulatorOptions = {}) {
    this.#opts = opts;
    const symbols = opts.symbols ?? DEFAULT_SYMBOLS;
    const shared = defaultDataDir();
    const dataDir = opts.dataDir === undefined ? shared && join(shared, 'futures-klines-1h') : (opts.dataDir ?? undefined);
    const infoFile =
      opts.exchangeInfoFile === undefined ? shared && join(shared, 'binance-json', 'fapi-v1-exchangeInfo.json') : (opts.exchangeInfoFile ?? undefined);
    const history = opts.historyBars ?? 1000;
    const replay = dataDir ? readReplayDir(dataDir, symbols) : new Map<string, Bar[]>();
    this.source = replay.size > 0 ? 'replay' : 'generated';
    this.dataDir = replay.size > 0 ? dataDir : undefined;
    let bars: Map<string, Bar[]>;
    let start: number;
    if (replay.size > 0) {
      bars = replay;
      const first = [...replay.values()][0]!;
      start = first[Math.min(history, first.length - 1)]!.openTime;
    } else {
      start = Math.floor(Date.now() / HOUR) * HOUR;
      bars = new Map(symbols.map((s) => [s, generateBars(s, opts.seed ?? 42, history + 24 * 365, start - history * HOUR)]));
      start = Date.now();
    }
    const clock = new SimClock(start, opts.speed ?? 1);
    const book = new MarketBook(bars, clock);
    this.engine = new ExchangeEngine({
      symbols: loadSymbols(book.symbols(), infoFile),
      book,
      ...(opts.fees ? { fees: opts.fees } : {}),
      ...(opts.bookShape ? { bookShape: opts.bookShape } : {}),
      ...(opts.markPremium !== undefined ? { markPremium: opts.markPremium } : {}),
      fundingRates: loadFundingRates(infoFile ? join(dirname(infoFile), 'fapi-v1-premiumIndex.json') : undefined),
    });
    this.limiter = new RateLimiter({ ...MAINNET_LIMITS, ...opts.limits });
    this.userStreams = new UserStreams(this.engine);
    this.marketStreams = new MarketStreams(this.engine, () => this.serverTime());
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('upgrade', (req, socket, head) => this.#upgrade(req, socket, head));
  }

  serverTime(): number {
    return Date.now() + this.faults.clockSkewMs;
  }

  /**
   * Serves the exchange on `port`. With `admin`, the admin API (`/_sim`) is served there instead,
   * on a port of its own (in a cluster: bound to the pod's loopback, out of the cluster's reach),
   * and the exchange's port answers `/_sim` with 404.
   */
  async listen(port = 0, host = '127.0.0.1', admin?: { port: number; host?: string }): Promise<{ url: string; wsUrl: string; port: number; adminUrl: string }> {
    const actual = await listenOn(this.#server, port, host);
    let adminUrl = `http://${host}:${actual}`;
    if (admin) {
      const adminHost = admin.host ?? '127.0.0.1';
      this.#adminServer = createServer((req, res) => void this.#handleAdminOnly(req, res));
      adminUrl = `http://${adminHost}:${await listenOn(this.#adminServer, admin.port, adminHost)}`;
    }
    this.#start();
    return { url: `http://${host}:${actual}`, wsUrl: `ws://${host}:${actual}`, port: actual, adminUrl };
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    for (const s of this.#sockets) s.terminate();
    this.marketStreams.closeAll();
    for (const server of [this.#server, this.#adminServer].filter((x): x is Server => x !== undefined)) {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  createAccount(opts: { id?: string | undefined; apiKey: string; apiSecret: string; balance: number }): SimAccount {
    return this.engine.createAccount(opts);
  }

  /** Closes every WebSocket, as a network drop would. */
  dropSockets(): void {
    for (const s of this.#sockets) s.terminate();
  }

  accountSummary(id: string) {
    const account = this.engine.account(id);
    if (!account) throw new AdminError(404, `unknown account ${id}`);
    const info = accountV3(this.engine, account);
    return {
      id: account.id,
      walletBalance: info.totalWalletBalance,
      availableBalance: info.availableBalance,
      unrealizedProfit: info.totalUnrealizedProfit,
      positions: positionRiskV3(this.engine, account).filter((p) => Number(p.positionAmt) !== 0),
      openOrders: this.engine.openOrders(account).length,
      openAlgoOrders: this.engine.openAlgos(account).length,
      /** Symbols with an open stop-loss (STOP / STOP_MARKET) order. */
      stopSymbols: [
        ...new Set(
          this.engine
            .openAlgos(account)
            .filter((a) => a.orderType.startsWith('STOP'))
            .map((a) => a.symbol),
        ),
      ],
      ordersPlaced: account.ordersPlaced,
      trades: account.trades.length,
      fundingPayments: account.funding.length,
    };
  }

  counters() {
    return {
      requestsByEndpoint: Object.fromEntries(this.#requests),
      weightByIpPerMinute: this.limiter.history(),
      sent429: this.limiter.sent429,
      sent418: this.limiter.sent418,
      sent5xx: this.faults.sent5xx,
      ordersByAccount: Object.fromEntries(this.engine.accounts().map((a) => [a.id, a.ordersPlaced])),
      webSockets: this.#sockets.size,
    };
  }

  resetCounters(): void {
    this.#requests.clear();
    this.limiter.reset();
    this.faults.sent5xx = 0;
  }

  #start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#timers.push(
      setInterval(
        () =>
          this.#safely(() => {
            this.engine.tick();
            this.userStreams.expire();
          }),
        this.#opts.tickMs ?? 250,
      ),
    );
    this.#timers.push(setInterval(() => this.#safely(() => this.marketStreams.publish()), 1000));
    this.#timers.push(
      setInterval(() => {
        for (const s of this.#sockets) if (s.readyState === s.OPEN) s.ping();
      }, this.#opts.pingIntervalMs ?? 180_000),
    );
    for (const t of this.#timers) t.unref();
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#opts.logger?.error({ err: e }, 'simulator tick failed');
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let parsed;
    try {
      parsed = await parseRequest(req);
    } catch {
      return send(res, 400, { code: -1000, msg: 'bad request' });
    }
    if (parsed.path.startsWith('/_sim/') && !this.#adminServer) return this.#handleAdmin(parsed, req, res);
    const key = `${parsed.method} ${parsed.path}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    if (this.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, this.faults.latencyMs));
    const headers: Record<string, string> = {};
    try {
      const injected429 = this.faults.take429();
      if (injected429 !== undefined) {
        this.limiter.sent429 += 1;
        throw err.tooManyRequests(parsed.ip, this.limiter.limits.requestWeightPerMinute, injected429);
      }
      const status5xx = this.faults.take5xx(parsed.path);
      if (status5xx !== undefined) throw err.unavailable(status5xx);
      const route = routeFor(parsed.method, parsed.path);
      if (!route) throw err.notFound();
      const weight = typeof route.weight === 'function' ? route.weight(parsed.params) : route.weight;
      try {
        headers['X-MBX-USED-WEIGHT-1M'] = String(this.limiter.charge(parsed.ip, weight, route.security === 'NONE' ? 'public' : 'private'));
      } finally {
        headers['X-MBX-USED-WEIGHT-1M'] ??= String(this.limiter.used(parsed.ip));
      }
      const serverTime = this.serverTime();
      const account = authenticate(parsed, route.security, this.engine, serverTime);
      if (route.order && account) {
        const counts = this.limiter.chargeOrder(account.id);
        headers['X-MBX-ORDER-COUNT-10S'] = String(counts.tenSeconds);
        headers['X-MBX-ORDER-COUNT-1M'] = String(counts.minute);
      }
      const body = route.handle({ params: parsed.params, account, engine: this.engine, limiter: this.limiter, userStreams: this.userStreams, serverTime });
      send(res, 200, body, headers);
    } catch (e) {
      const error = e instanceof BinanceError ? e : err.internal();
      if (!(e instanceof BinanceError)) this.#opts.logger?.error({ err: e, path: parsed.path }, 'simulator request failed');
      if (error.retryAfter !== undefined) headers['Retry-After'] = String(error.retryAfter);
      send(res, error.status, error.body(), headers);
    }
  }

  async #handleAdminOnly(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let parsed;
    try {
      parsed = await parseRequest(req);
    } catch {
      return send(res, 400, { error: 'bad request' });
    }
    if (!parsed.path.startsWith('/_sim/')) return send(res, 404, { error: `the admin port serves /_sim only, not ${parsed.path}` });
    return this.#handleAdmin(parsed, req, res);
  }

  #handleAdmin(parsed: Awaited<ReturnType<typeof parseRequest>>, req: IncomingMessage, res: ServerResponse): void {
    try {
      const raw = parsed.body.trim();
      let body: unknown = {};
      if (raw) body = JSON.parse(raw);
      send(res, 200, handleAdmin(this, parsed.method, parsed.path, new URL(req.url ?? '/', 'http://sim').searchParams, body, parsed.ip));
    } catch (e) {
      const status = e instanceof AdminError ? e.status : e instanceof SyntaxError ? 400 : 500;
      send(res, status, { error: e instanceof Error ? e.message : String(e) });
    }
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://sim');
    const parts = url.pathname.split('/').filter(Boolean);
    const reject = (status: number) => {
      socket.write(`HTTP/1.1 ${status} ${status === 400 ? 'Bad Request' : 'Not Found'}\r\n\r\n`);
      socket.destroy();
    };
    // Layouts: /ws[/<n>|/<stream>|/<listenKey>], /{market,public}/ws[/<n>], /[{market,public}/]stream?streams=,
    // /private/ws?listenKey=, /private/ws/<listenKey>.
    const area = parts[0] === 'market' || parts[0] === 'public' || parts[0] === 'private' ? parts.shift() : undefined;
    const kind = parts.shift();
    const tail = parts.join('/');
    const listenKey = url.searchParams.get('listenKey') ?? (area === 'private' ? tail : undefined);
    if (kind !== 'ws' && kind !== 'stream') return reject(404);
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#sockets.add(ws);
      ws.on('close', () => this.#sockets.delete(ws));
      // A client that vanished: its close event cleans up.
      ws.on('error', () => undefined);
      if (area === 'private' || listenKey || (kind === 'ws' && tail && this.#isListenKey(tail))) {
        if (!this.userStreams.attach(listenKey || tail, ws)) ws.close(4001, 'invalid listenKey');
        return;
      }
      const initial = kind === 'stream' ? (url.searchParams.get('streams') ?? '').split('/').filter(Boolean) : tail && !/^\d+$/.test(tail) ? [tail] : [];
      this.marketStreams.attach(ws, initial, kind === 'stream');
    });
  }

  #isListenKey(text: string): boolean {
    return text.length >= 40 && !text.includes('@');
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** Each symbol's `lastFundingRate` from a real premiumIndex response, when one is at hand. */
function loadFundingRates(file: string | undefined): Map<string, number> {
  if (!file || !existsSync(file)) return new Map();
  const rows = JSON.parse(readFileSync(file, 'utf8')) as Array<{ symbol: string; lastFundingRate: string }>;
  return new Map(rows.map((r) => [r.symbol, Number(r.lastFundingRate)]));
}

/** Listens and returns the port (the one the system chose, for port 0). */
async function listenOn(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolveListen());
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}
