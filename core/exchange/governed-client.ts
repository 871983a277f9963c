import type { RateGovernor } from './governor.js';
import { isOrderPlacement, requestWeight } from './request-weight.js';
import { requestPriority } from './priority.js';
import type { BinanceClient } from './binance-client.js';

type Fetch2Fn = (
  path: unknown,
  api?: unknown,
  method?: string,
  params?: Record<string, unknown>,
  headers?: unknown,
  body?: unknown,
  config?: unknown,
) => Promise<unknown>;
type SignFn = (
  path: unknown,
  api: unknown,
  method: string,
  params: Record<string, unknown>,
  headers?: unknown,
  body?: unknown,
) => { url: string; method: string; body?: unknown };
type OnRestResponse = (
  status: number,
  statusText: string,
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string,
  ...rest: unknown[]
) => string;

/**
 * Routes every REST call of a ccxt client through the governor: the request's weight (and, for
 * new orders, the account's order count) is reserved before it is signed and sent, so a request
 * that waited for budget carries a fresh timestamp (signed before a long wait, Binance refuses it
 * with -1021, outside recvWindow); every answer reports the exchange's count back; a 429 or 418
 * pauses the node for its Retry-After. ccxt's own throttle is switched off, since the governor
 * meters the whole node.
 */
export function governClient(exchange: BinanceClient, governor: RateGovernor, opts: { accountId?: string } = {}): BinanceClient {
  const ex = exchange as unknown as {
    fetch2: Fetch2Fn;
    sign: SignFn;
    onRestResponse: OnRestResponse;
    enableRateLimit: boolean;
    urls: { api?: Record<string, unknown> };
  };
  const originalFetch2 = ex.fetch2.bind(exchange);
  const sign = ex.sign.bind(exchange);
  const originalOnResponse = ex.onRestResponse.bind(exchange);
  ex.enableRateLimit = false;
  ex.fetch2 = async (path, api = 'public', method = 'GET', params = {}, headers, body, config) => {
    const { verb, pathname, query } = target(path, api, method, params, headers, body);
    await governor.acquire(requestWeight(verb, pathname, query), requestPriority(verb, pathname, query), opts.accountId);
    if (opts.accountId && isOrderPlacement(verb, pathname)) await governor.acquireOrder(opts.accountId);
    return originalFetch2(path, api, method, params, headers, body, config);
  };
  /**
   * The request's method, path and parameters, for its weight and priority: from the endpoint's
   * base URL and its parameters (ccxt signs the request itself after the wait); an endpoint
   * without a plain base URL is built as ccxt would send it (signing included).
   */
  const target = (path: unknown, api: unknown, method: string, params: Record<string, unknown>, headers: unknown, body: unknown) => {
    const base = typeof api === 'string' ? ex.urls.api?.[api] : undefined;
    if (typeof base === 'string' && typeof path === 'string' && !path.includes('{')) {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
      return { verb: method.toUpperCase(), pathname: new URL(`${base}/${path}`).pathname, query };
    }
    const request = sign(path, api, method, { ...params }, headers, body);
    const parsed = new URL(request.url);
    const query = new URLSearchParams(parsed.search);
    if (typeof request.body === 'string') for (const [k, v] of new URLSearchParams(request.body)) query.set(k, v);
    return { verb: request.method, pathname: parsed.pathname, query };
  };
  ex.onRestResponse = (status, statusText, url, method, headers, body, ...rest) => {
    const used = Number(header(headers, 'x-mbx-used-weight-1m'));
    // Bookkeeping in Redis; with Redis down the governor's next reservation fails loudly instead.
    if (Number.isFinite(used) && used > 0) void governor.observeUsedWeight(used).catch(() => undefined);
    if (status === 429 || status === 418) {
      const retryAfter = Number(header(headers, 'retry-after'));
      // With Redis down the pause is not shared; this request still fails with the exchange's 429/418.
      void governor.pauseFor(Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : status === 418 ? 120 : 60, status).catch(() => undefined);
    }
    return originalOnResponse(status, statusText, url, method, headers, body, ...rest);
  };
  return exchange;
}

function header(headers: Record<string, string>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return v;
  return undefined;
}
