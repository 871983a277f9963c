import { createHmac } from 'node:crypto';

export interface SignedResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/**
 * A minimal Binance client written from Binance's docs alone (HMAC-SHA256 over the query string,
 * X-MBX-APIKEY header), so the simulator is checked by something that is not ccxt.
 */
export function signedFetch(baseUrl: string, apiKey: string, apiSecret: string, opts: { timeOffsetMs?: number } = {}) {
  return async (method: string, path: string, params: Record<string, string | number | boolean> = {}, sign = true): Promise<SignedResponse> => {
    const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
    if (sign) {
      query.set('timestamp', String(Date.now() + (opts.timeOffsetMs ?? 0)));
      query.set('signature', createHmac('sha256', apiSecret).update(query.toString()).digest('hex'));
    }
    const res = await fetch(`${baseUrl}${path}?${query}`, { method, headers: { 'X-MBX-APIKEY': apiKey } });
    return { status: res.status, headers: res.headers, body: await res.json() };
  };
}
