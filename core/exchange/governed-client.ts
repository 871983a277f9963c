import type { RateGovernor } from './governor.js';
import { isOrderPlacement, requestWeight } from './request-weight.js';
import type { BinanceClient } from './binance-client.js';

type FetchFn = (url: string, method?: string, headers?: unknown, body?: unknown) => Promise<unknown>;
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
 * new orders, the account's order count) is reserved before it is sent; every answer reports the
 * exchange's count back; a 429 or 418 pauses the node for its Retry-After. ccxt's own throttle
 * is switched off, since the governor meters the whole node.
 */
export function governClient(exchange: BinanceClient, governor: RateGovernor, opts: { accountId?: string } = {}): BinanceClient {
  const ex = exchange as unknown as { fetch: FetchFn; onRestResponse: OnRestResponse; enableRateLimit: boolean };
  const originalFetch = ex.fetch.bind(exchange);
  const originalOnResponse = ex.onRestResponse.bind(exchange);
  ex.enableRateLimit = false;
  ex.fetch = async (url, method = 'GET', headers, body) => {
    const parsed = new URL(url);
    const params = new URLSearchParams(parsed.search);
    if (typeof body === 'string') for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
    await governor.acquire(requestWeight(method, parsed.pathname, params));
    if (opts.accountId && isOrderPlacement(method, parsed.pathname)) await governor.acquireOrder(opts.accountId);
    return originalFetch(url, method, headers, body);
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
