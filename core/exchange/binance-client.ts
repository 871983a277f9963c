import { BinanceUsdm } from './ccxt-binance.js';

export type BinanceClient = InstanceType<typeof BinanceUsdm>;

export interface BinanceClientOptions {
  /** REST base (e.g. http://127.0.0.1:8480); unset: Binance's production host. */
  readonly restUrl?: string | undefined;
  /** WebSocket base (e.g. ws://127.0.0.1:8480); unset: derived from restUrl, or production. */
  readonly wsUrl?: string | undefined;
  readonly apiKey?: string | undefined;
  readonly apiSecret?: string | undefined;
  /** Binance's demo-trading environment (demo-fapi.binance.com). */
  readonly demo?: boolean;
  readonly options?: Record<string, unknown>;
}

/**
 * ccxt `binanceusdm` (REST and websocket) set up the one way ats uses it: no spot-host calls while
 * loading markets, error classes of the linear market whatever the host, and any base URL (the
 * simulator) honoured for REST and streams (reference §C).
 */
export async function createBinanceClient(opts: BinanceClientOptions): Promise<BinanceClient> {
  const urls = opts.restUrl ? localUrls(opts.restUrl, opts.wsUrl ?? opts.restUrl.replace(/^http/, 'ws')) : undefined;
  const exchange = new BinanceUsdm({
    apiKey: opts.apiKey,
    secret: opts.apiSecret,
    enableRateLimit: true,
    options: {
      fetchCurrencies: false,
      fetchMargins: false,
      adjustForTimeDifference: true,
      fetchMarkets: { types: ['linear'] },
      fetchOpenOrders: { warnWithoutSymbol: false },
      warnOnFetchOpenOrdersWithoutSymbol: false,
      ...opts.options,
    },
    ...(urls ? { urls: { api: urls } } : {}),
  });
  if (opts.demo) exchange.enableDemoTrading(true);
  // ccxt picks its linear error table by host name; with any other host the codes would all be
  // plain ExchangeError, so merge the linear table in once.
  const exceptions = exchange.exceptions as {
    exact: Record<string, unknown>;
    broad: Record<string, unknown>;
    linear?: { exact: Record<string, unknown>; broad: Record<string, unknown> };
  };
  if (exceptions.linear) {
    exceptions.exact = { ...exceptions.exact, ...exceptions.linear.exact };
    exceptions.broad = { ...exceptions.broad, ...exceptions.linear.broad };
  }
  if (urls && urls.ws.future.startsWith('ws://')) await exchange.loadHttpProxyAgent();
  return exchange;
}

function localUrls(rest: string, ws: string) {
  const h = rest.replace(/\/$/, '');
  const w = ws.replace(/\/$/, '');
  return {
    fapiPublic: `${h}/fapi/v1`,
    fapiPublicV2: `${h}/fapi/v2`,
    fapiPublicV3: `${h}/fapi/v3`,
    fapiPrivate: `${h}/fapi/v1`,
    fapiPrivateV2: `${h}/fapi/v2`,
    fapiPrivateV3: `${h}/fapi/v3`,
    fapiData: `${h}/futures/data`,
    sapi: `${h}/sapi/v1`,
    ws: { future: `${w}/ws` },
  };
}
